"""The file_search tool in runs: its options, the function the model is offered, its calls' arguments, the
results as the model reads them and as the run's steps hold them. Pure: the worker (``runs/``) searches and
saves; this module only shapes.

A run's file_search calls are numbered in step order from 0 (``search_calls``), and excerpt r of call s is cited
``【s:r†label】`` (``citations``): numbers are recomputed from the steps each time, never stored apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from threads_api.domain.citations import label, marker
from threads_api.domain.records import JsonObject, Run
from threads_api.domain.vector_stores import SearchHit

TOOL_NAME = "file_search"
DEFAULT_MAX_NUM_RESULTS = 20  # OpenAI's for gpt-4-class models
SEARCH_CALLS_MAX = 8  # a run's file_search calls; past them the function is no longer offered
RESULTS_MAX_BYTES = 160_000  # a call's excerpt text (UTF-8): its record stays under DynamoDB's 400 KB
ARGUMENTS_MAX_CHARS = 16_000  # a call's arguments as kept in its record
QUERY_MAX_CHARS = 4_000
QUERIES_MAX = 10  # as a vector store search takes them
STORE_WAIT_SECONDS = 60  # OpenAI's fallback wait for a thread's store still ingesting
THREAD_STORE_EXPIRY_DAYS = 7
INCLUDE_CONTENT = "step_details.tool_calls[*].file_search.results[*].content"
# What a result's header costs besides its label and file id (marker brackets and numbers, "file", the score):
# ``fitted`` counts it against the room, so that the room bounds the tool message, not only the excerpts.
HEADER_CHARS = 40

# The call's output when no search is made (the model reads it as the call's result, and may go on).
BAD_ARGUMENTS = 'The file_search arguments must be {"query": "<text>"}.'
NOT_AVAILABLE = "file_search is not available any more in this run: answer with the results you have."
NO_STORES = "No files are attached to this assistant or conversation: file_search has nothing to search."

_DESCRIPTION = (
    "Search the files attached to this assistant and this conversation. Returns excerpts, each headed by a "
    "marker such as 【0:1†report.pdf】. When you use an excerpt, cite it by writing its marker, exactly as "
    "given, right after the sentence it supports."
)
_QUERY_DESCRIPTION = "What to look for: a question or keywords, in the language of the files."


@dataclass(frozen=True, slots=True)
class Options:
    """The tool's settings, as the assistant or the run gave them (OpenAI's defaults otherwise)."""

    max_num_results: int = DEFAULT_MAX_NUM_RESULTS
    ranker: str = "auto"
    score_threshold: float = 0.0


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """What a call's step does not hold (kept in an item of its own): the model's arguments, and the text of
    each result, in the results' order."""

    arguments: str
    texts: tuple[str, ...]


def options(tools: list[JsonObject]) -> Options | None:
    """The run's file_search settings, or None when it has no file_search tool."""
    for tool in tools:
        if tool.get("type") != TOOL_NAME:
            continue
        given = tool.get(TOOL_NAME) or {}
        ranking = given.get("ranking_options") or {}
        return Options(
            max_num_results=given.get("max_num_results") or DEFAULT_MAX_NUM_RESULTS,
            ranker=ranking.get("ranker") or "auto",
            score_threshold=float(ranking.get("score_threshold") or 0.0),
        )
    return None


def chat_tool() -> JsonObject:
    """The function a Chat Completions request offers for file_search (a ``ChatCompletionTool``)."""
    query = {"type": "string", "description": _QUERY_DESCRIPTION}
    parameters = {
        "type": "object",
        "properties": {"query": query},
        "required": ["query"],
        "additionalProperties": False,
    }
    return {"type": "function", "function": {"name": TOOL_NAME, "description": _DESCRIPTION, "parameters": parameters}}


def offered(run: Run) -> bool:
    """Whether the model is offered file_search now: the run has the tool and has searches left."""
    return options(run.tools) is not None and len(search_calls(run.steps)) < SEARCH_CALLS_MAX


def query_of(arguments: str) -> list[str] | None:
    """The queries of a call's arguments: ``{"query": "..."}``, or ``{"queries": [...]}`` (up to 10, as OpenAI's
    own models sent), each cut to ``QUERY_MAX_CHARS``. None for anything else (the call is answered
    ``BAD_ARGUMENTS``, with no search)."""
    try:
        given: Any = json.loads(arguments)
    except ValueError:
        return None
    if not isinstance(given, dict):
        return None
    asked = given.get("query")
    queries = [asked] if isinstance(asked, str) else given.get("queries")
    if not isinstance(queries, list) or not 1 <= len(queries) <= QUERIES_MAX:
        return None
    if not all(isinstance(q, str) and q.strip() for q in queries):
        return None
    return [q[:QUERY_MAX_CHARS] for q in queries]


def search_calls(steps: list[JsonObject]) -> list[tuple[str, int, JsonObject]]:
    """The run's file_search calls, in order (their numbers): (the step's id, the call's position among the
    step's tool calls, the call). The position is the ``n`` of the call's record key."""
    found: list[tuple[str, int, JsonObject]] = []
    for step in steps:
        details = step["step_details"]
        if details["type"] != "tool_calls":
            continue
        for position, call in enumerate(details["tool_calls"]):
            if call.get("type") == TOOL_NAME:
                found.append((step["id"], position, call))
    return found


def sources(steps: list[JsonObject]) -> list[list[str]]:
    """For each file_search call of the run, in order, its results' file ids: what a citation resolves to."""
    return [[r["file_id"] for r in call[TOOL_NAME].get("results") or []] for _, _, call in search_calls(steps)]


def _cost(hit: SearchHit) -> int:
    return len(hit.text) + len(label(hit.filename)) + len(hit.file_id) + HEADER_CHARS


def fitted(hits: list[SearchHit], room_chars: int | None) -> list[SearchHit]:
    """The excerpts a call shows, best first: whole ones, while they fit ``RESULTS_MAX_BYTES`` of text and
    ``room_chars`` (the prompt budget's room, None for none); the rest dropped. The step's results are exactly
    these, so that citations map to what the model read."""
    kept: list[SearchHit] = []
    size = chars = 0
    for hit in hits:
        size += len(hit.text.encode("utf-8", "surrogatepass"))
        chars += _cost(hit)
        if size > RESULTS_MAX_BYTES or (room_chars is not None and chars > room_chars):
            break
        kept.append(hit)
    return kept


def _quoted(queries: list[str]) -> str:
    return ", ".join(json.dumps(q, ensure_ascii=False) for q in queries)


def nothing_found(queries: list[str]) -> str:
    return f"file_search found nothing for {_quoted(queries)} in the files searched."


def no_room(queries: list[str]) -> str:
    """The output of a call whose excerpts did not fit the run's ``max_prompt_tokens``."""
    return (
        f"file_search found excerpts for {_quoted(queries)}, but none fit in what is left of this run's "
        "max_prompt_tokens: answer with what you have."
    )


def results_text(number: int, queries: list[str], results: list[JsonObject], texts: Sequence[str]) -> str:
    """The ``tool`` message of call ``number``: its excerpts, best first, each headed by its citation marker,
    its file id and its score."""
    if not results:
        return nothing_found(queries)
    first = marker(number, 0, results[0]["file_name"])
    head = (
        f"file_search results for {_quoted(queries)} ({len(results)} excerpt{'s' if len(results) > 1 else ''}, "
        f"best first). Cite an excerpt by its marker, e.g. {first}."
    )
    entries = [
        f"{marker(number, index, result['file_name'])} file {result['file_id']}, score {result['score']:.2f}\n{text}"
        for index, (result, text) in enumerate(zip(results, texts, strict=True))
    ]
    return "\n\n".join([head, *entries])


def results_of(hits: list[SearchHit]) -> list[JsonObject]:
    """The step's results of these hits (the text is kept apart: ``SearchRecord``)."""
    return [{"file_id": hit.file_id, "file_name": hit.filename, "score": min(max(hit.score, 0.0), 1.0)} for hit in hits]


def search_call(call_id: str, options: Options, results: list[JsonObject]) -> JsonObject:
    """A file_search call as the run's step holds it (``RunStepDetailsToolCallsFileSearchObject``)."""
    ranking = {"ranker": options.ranker, "score_threshold": options.score_threshold}
    return {"id": call_id, "type": TOOL_NAME, TOOL_NAME: {"ranking_options": ranking, "results": results}}
