"""The scripted model's file_search (``infra/ops/chat_server.py``): searches called round by round, then an answer
that cites the excerpts the search returned, as a model of OpenAI's would.

Markers in the last user message (removed from the echo like the others, ``chat_script.MARKER``):

- ``[[search:QUERY]]``: the reply to the user's message calls ``file_search`` with ``{"query": "QUERY"}``. Several
  markers are several rounds, in order: each time the conversation ends with the results of a ``file_search``
  call, the next marker's query is called (the rounds are counted from the assistant messages after the last user
  message whose calls include ``file_search``). ``[[search:first || second]]``: one round of two parallel calls.
  The first round needs a request that offers ``file_search``; once the model has searched, the markers are
  followed even when the tool is no longer offered (a test of the run's search bound needs a model that keeps
  calling it).
- ``[[cite:S:R,S:R]]``: after the last round's results, the answer cites those markers:
  ``From the files: <first 8 words of the excerpt> 【S:R†label】. …``, each marker copied exactly as the tool
  messages give it; one they do not give is written ``【S:R†source】`` (a citation that resolves to nothing).
  Without ``[[cite]]``: the first excerpt of each round is cited; no excerpt at all: ``From the files: nothing
  found.``
- Without any marker at all, a request that offers a function named ``file_search`` and ends with a user message
  is answered with a call of it (``{"query": <the user's text>}``), then cited as above: OpenAI's snippet, as it
  is, gets citations from ``make serve`` with this model. Any other marker (``[[tool:…]]``, ``[[error:…]]``, …)
  turns this off: those keep their meaning.

A round's reply that ends a mixed round (``file_search`` beside ``[[tool:…]]`` calls) starts with the functions'
outputs, ``tool said: <output>``, as ``chat_script`` answers them. ``chat_script.by_content`` then applies the
other markers of the message (``[[slow]]``, ``[[hold]]``, ``[[error]]``, …) to the reply chosen here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infra.ops.chat_script import MARKER, Reply, plain, text, tool_calls

TOOL_NAME = "file_search"
SEARCH = re.compile(r"\[\[search:(.*?)\]\]", re.DOTALL)
CITE = re.compile(r"\[\[cite:(.*?)\]\]", re.DOTALL)
CITATION = re.compile(r"【(\d+):(\d+)†([^】]*)】")  # a result's marker, as the tool messages head each excerpt
EXCERPT_WORDS = 8


def offered(tools: Any) -> bool:
    """Whether a request's ``tools`` hold a function named ``file_search``."""
    return any(
        isinstance(t, dict) and t.get("type") == "function" and (t.get("function") or {}).get("name") == TOOL_NAME
        for t in tools or []
    )


def search_reply(messages: list[dict[str, Any]], offered: bool) -> Reply | None:
    """The reply the file_search markers ask for at the conversation's end, or None when they ask nothing (the
    other markers, the echo, a function's output then answer as before)."""
    asked = _last_user(messages)
    if asked is None:
        return None
    said = plain(messages[asked].get("content"))
    rounds = _rounds(said, offered)
    if not rounds:
        return None
    after = messages[asked + 1 :]
    answered = next((m for m in reversed(after) if m["role"] == "assistant"), None)
    if after and (after[-1]["role"] != "tool" or answered is None or not _searched(answered)):
        return None  # an assistant's message last, or the outputs of functions only: not a search's round
    searches = [m for m in after if m["role"] == "assistant" and _searched(m)]
    if not offered and not searches:
        return None  # a request without the tool, before any search: the other markers answer it
    if len(searches) < len(rounds):
        return tool_calls(*((TOOL_NAME, json.dumps({"query": q})) for q in rounds[len(searches)]))
    return text(_functions_said(after) + _cited(said, after))


def _last_user(messages: list[dict[str, Any]]) -> int | None:
    return next((i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] == "user"), None)


def _rounds(said: str, offered: bool) -> list[list[str]]:
    """The queries of each round the message asks for: its markers', or its own text when it has no marker."""
    rounds = [[q.strip() for q in marker.split("||") if q.strip()] for marker in SEARCH.findall(said)]
    if rounds:
        return [r for r in rounds if r]
    if offered and not MARKER.search(said) and not CITE.search(said) and said.strip():
        return [[said.strip()]]
    return []


def _calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]


def _searched(message: dict[str, Any]) -> bool:
    return any((c.get("function") or {}).get("name") == TOOL_NAME for c in _calls(message))


def _search_ids(after: list[dict[str, Any]]) -> set[str]:
    return {
        str(c.get("id"))
        for m in after
        if m["role"] == "assistant"
        for c in _calls(m)
        if (c.get("function") or {}).get("name") == TOOL_NAME
    }


def _functions_said(after: list[dict[str, Any]]) -> str:
    """The outputs of the functions called beside the last search, one line each, as chat_script answers them."""
    searches, tail = _search_ids(after), list[str]()
    for message in reversed(after):
        if message["role"] != "tool":
            break
        if message.get("tool_call_id") not in searches:
            tail.insert(0, f"tool said: {plain(message.get('content'))}\n")
    return "".join(tail)


def _excerpts(after: list[dict[str, Any]]) -> list[dict[tuple[int, int], tuple[str, str]]]:
    """Each round's excerpts, in order: (search number, result number) -> (the marker as given, its text)."""
    searches = _search_ids(after)
    rounds: list[dict[tuple[int, int], tuple[str, str]]] = []
    current: dict[tuple[int, int], tuple[str, str]] | None = None
    for message in after:
        if message["role"] == "assistant":
            current = {} if _searched(message) else None
            if current is not None:
                rounds.append(current)
        elif message["role"] == "tool" and current is not None and message.get("tool_call_id") in searches:
            current.update(_parsed(plain(message.get("content"))))
    return rounds


def _parsed(content: str) -> dict[tuple[int, int], tuple[str, str]]:
    """A result text's excerpts: each headed by its marker on a line of its own (file id, score after it)."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    heads = [m for m in CITATION.finditer(content) if m.start() == 0 or content[m.start() - 1] == "\n"]
    for n, head in enumerate(heads):
        end = heads[n + 1].start() if n + 1 < len(heads) else len(content)
        body = content[head.end() : end].partition("\n")[2]
        found.setdefault((int(head.group(1)), int(head.group(2))), (head.group(0), body))
    return found


def _cited(said: str, after: list[dict[str, Any]]) -> str:
    rounds = _excerpts(after)
    given = {key: value for excerpts in rounds for key, value in excerpts.items()}
    asked = [tuple(map(int, p.split(":"))) for c in CITE.findall(said) for p in re.findall(r"\d+:\d+", c)]
    if not asked:
        asked = [next(iter(excerpts)) for excerpts in rounds if excerpts]
    if not asked:
        return "From the files: nothing found."
    sentences = []
    for s, r in asked:
        marker, excerpt = given.get((s, r), (f"【{s}:{r}†source】", "an unknown source"))
        sentences.append(f"{' '.join(excerpt.split()[:EXCERPT_WORDS])} {marker}.")
    return "From the files: " + " ".join(sentences)
