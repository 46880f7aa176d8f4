"""An import's file, read twice: checked whole before anything is written, then read back a thread at a time.

The check (``read``): each object valid against OpenAI's reference schemas, each id one the API can
address, each message's thread in the file, no id twice with other content. Every problem is a sentence
with its line number; any problem, and nothing is imported.

The check keeps no object, only where each one is (its line's number and byte offset) and a digest of
what the import keeps of it: under 1 KB an object, whatever its content. The writing (``Plan.each_thread``,
``Plan.each_assistant``) reads each object again from its line, so memory holds one thread and its messages
(and a few parsed lines) at a time.

A line holds one object (``thread``, ``thread.message``, ``assistant``) or a list envelope as the API
returned it (``{"object": "list", "data": [...]}``); a file that is one JSON document (pretty-printed, or
an array of those) is read whole, as one "line 1".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from infra.ops.cli_errors import CliError, usage

# Each object type, and the reference schema that checks it.
SCHEMAS = {"thread": "ThreadObject", "thread.message": "MessageObject", "assistant": "AssistantObject"}
SHOWN_PROBLEMS = 10
PREFIXES = {"thread": "thread_", "thread.message": "msg_", "assistant": "asst_"}
WHOLE = -1  # the offset of every object of a file that is one JSON document
PARSED_LINES = 16  # lines kept parsed while writing: a thread's pages of messages are usually together


class Placed(NamedTuple):
    """Where a message is: its time and place in the file order a thread's messages."""

    created_at: int
    page: int  # its list envelope's number in the file (or its own, when it stands alone)
    position: int  # its place in that envelope's data
    line: int
    offset: int
    id: str


@dataclass
class Plan:
    """Where the file's checked objects are: ``(line, offset)`` by id, each thread's messages with their
    ``created_at`` and place in the file (for their order), and each object's digest (for duplicates)."""

    path: Path
    threads: dict[str, tuple[int, int]] = field(default_factory=dict)
    messages: dict[str, list[Placed]] = field(default_factory=dict)
    assistants: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seen: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    count: int = 0
    page: int = 0
    # Each list envelope's order: 1 oldest first, -1 newest first, 0 not told by its times (all one second).
    directions: dict[int, int] = field(default_factory=dict)

    @property
    def message_count(self) -> int:
        return sum(map(len, self.messages.values()))

    def each_assistant(self) -> Iterator[tuple[str, int, Any]]:
        """``(id, line, record)`` of each assistant, read back from the file."""
        for assistant_id, (line, offset) in self.assistants.items():
            yield assistant_id, line, self._record(offset, "assistant", assistant_id)

    def each_thread(self) -> Iterator[tuple[str, int, Any, list[Any]]]:
        """``(id, line, thread, messages in order)`` of each thread, read back from the file."""
        for thread_id, (line, offset) in self.threads.items():
            placed = self.messages.get(thread_id, [])
            messages = [self._record(each.offset, "thread.message", each.id) for each in placed]
            yield thread_id, line, self._record(offset, "thread", thread_id), messages

    def _record(self, offset: int, kind: str, object_id: str) -> Any:
        from infra.ops.transfer_records import record

        return record(_objects(self.path, offset)[f"{kind}:{object_id}"])


@lru_cache(maxsize=PARSED_LINES)
def _objects(path: Path, offset: int) -> dict[str, dict[str, Any]]:
    """The objects of the line at ``offset`` (of the whole file for ``WHOLE``), by ``kind:id``."""
    if offset == WHOLE:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    else:
        with path.open("rb") as file:
            file.seek(offset)
            value = json.loads(file.readline())
    found: dict[str, dict[str, Any]] = {}
    for each in _flat(value):
        found.setdefault(f"{each['object']}:{each['id']}", each)
    return found


def _flat(value: Any) -> Iterator[Any]:
    """The objects in a line's value: itself, a list envelope's data, or (a whole document) an array's."""
    if isinstance(value, list):
        for each in value:
            yield from _flat(each)
    elif isinstance(value, dict) and value.get("object") == "list" and isinstance(value.get("data"), list):
        yield from value["data"]
    else:
        yield value


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    from infra.ops.reference import document, runs_document

    for source in (document, runs_document):
        if name in source()["components"]["schemas"]:
            root = dict(source()) | {"$ref": f"#/components/schemas/{name}"}
            return Draft202012Validator(root)
    raise KeyError(name)


def read(path: Path) -> Plan:
    """The file checked: a ``Plan`` of where its objects are, or a ``CliError`` naming each problem (by line)."""
    if not path.is_file():
        raise usage(f"There is no file {path} to import. Name an existing file: make import FILE=<path> PROJECT=<p>.")
    plan = Plan(path.resolve())
    _objects.cache_clear()
    with path.open("rb") as lines:
        offset = 0
        for number, line in enumerate(lines, 1):
            at, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                if plan.count == 0 and not plan.problems and (whole := _whole(path)) is not None:
                    _add(plan, 1, WHOLE, whole)
                    break
                plan.problems.append(f"line {number}: not valid JSON ({_why(exc)}).")
                continue
            _add(plan, number, at, value)
    _order(plan)
    if plan.problems:
        shown = "\n".join(f"  {problem}" for problem in plan.problems[:SHOWN_PROBLEMS])
        more = len(plan.problems) - SHOWN_PROBLEMS
        raise CliError(
            f"{path} has {len(plan.problems)} problem{'s' if len(plan.problems) > 1 else ''}; nothing was imported. "
            f"Fix {'it' if len(plan.problems) == 1 else 'them'} and run the import again:\n{shown}"
            + (f"\n  … and {more} more." if more > 0 else "")
        )
    return plan


def _why(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return "its bytes are not UTF-8"


def _whole(path: Path) -> Any:
    """The file as one JSON document, or None when it is not one."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))  # an editor's BOM, as JSON Lines' lines allow
    except ValueError:
        return None


def _add(plan: Plan, line: int, offset: int, value: Any) -> None:
    """One line's value: an object, a list envelope, or (a whole document) an array of those."""
    if isinstance(value, list):
        for each in value:
            _add(plan, line, offset, each)
        return
    plan.page += 1
    if not isinstance(value, dict) or value.get("object") != "list":
        _object(plan, line, offset, value, 0)
        return
    data = value.get("data")
    if not isinstance(data, list):
        plan.problems.append(f"line {line}: a list envelope without a 'data' array.")
        return
    messages = [each for each in data if isinstance(each, dict) and each.get("object") == "thread.message"]
    if messages:  # a page of assistants, or of threads, tells nothing of how the messages were listed
        plan.directions[plan.page] = _direction(messages)
    for position, each in enumerate(data):
        _object(plan, line, offset, each, position)


def _direction(data: list[Any]) -> int:
    """A page's order by its messages' times: 1 oldest first, -1 newest first (the API's default
    ``order=desc``), 0 when they do not tell (one second, or not all numbers)."""
    times = [each.get("created_at") for each in data if isinstance(each, dict)]
    numbers = [t for t in times if isinstance(t, int)]
    if not numbers or len(numbers) < len(data) or numbers[0] == numbers[-1]:
        return 0
    return 1 if numbers[0] < numbers[-1] else -1


def _object(plan: Plan, line: int, offset: int, value: Any, position: int) -> None:
    if not isinstance(value, dict):
        plan.problems.append(f"line {line}: not a JSON object, but {type(value).__name__}.")
        return
    kind = value.get("object")
    if kind not in SCHEMAS:
        plan.problems.append(
            f"line {line}: unknown object type {kind!r}: an import takes 'thread', 'thread.message', 'assistant' "
            "or a list of them."
        )
        return
    if (problem := _invalid(kind, value)) is not None:
        plan.problems.append(f"line {line}: {problem}")
        return
    key = value["id"]  # its kind's prefix is checked: one id, one kind
    digest = _digest(value)
    if key in plan.seen:
        earlier, old = plan.seen[key]
        if old != digest:
            plan.problems.append(
                f"line {line}: {kind} {value['id']} appears again (first on line {earlier}) with other content."
            )
        return
    plan.seen[key] = (line, digest)
    plan.count += 1
    if kind == "thread":
        plan.threads[value["id"]] = (line, offset)
    elif kind == "assistant":
        plan.assistants[value["id"]] = (line, offset)
    else:
        placed = Placed(value["created_at"], plan.page, position, line, offset, value["id"])
        plan.messages.setdefault(value["thread_id"], []).append(placed)


def _invalid(kind: str, value: dict[str, Any]) -> str | None:
    """What is wrong with an object of a known kind: its schema, or an id the API could not address."""
    from jsonschema import ValidationError

    from infra.ops.transfer_records import ID_RULE, valid_id

    errors = sorted(_validator(SCHEMAS[kind]).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        first: ValidationError = errors[0]
        where = "/".join(map(str, first.path)) or "the object"
        return f"not a valid {kind} ({where}: {first.message[:160]})."
    ids = [value["id"]] + ([value["thread_id"]] if kind == "thread.message" else [])
    # A route answers 404 at once for an id without its kind's prefix (``request.object_id``): refused here.
    prefixed = zip(ids, [PREFIXES[kind], "thread_"], strict=False)
    if bad := [each for each, prefix in prefixed if not valid_id(each) or not each.startswith(prefix)]:
        return (
            f"id {bad[0]!r} is not {ID_RULE} after the prefix of its kind (thread_, msg_, asst_), so the API "
            "could not address it."
        )
    return None


def _digest(value: dict[str, Any]) -> bytes:
    """What the import keeps of an object, hashed: two lines with the same id are the same object when equal."""
    from dataclasses import asdict

    from infra.ops.transfer_records import record

    kept = json.dumps(asdict(record(value)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(kept.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _order(plan: Plan) -> None:
    """Each thread's messages by ``created_at``, and within a second by their place in the file, read in
    their page's direction: a page whose times do not tell it takes the file's first page that does, else
    newest first (the API's default); a message whose thread is not in the file is a problem."""
    told = [direction for direction in plan.directions.values() if direction]
    default = told[0] if told else -1
    sign = {page: direction or default for page, direction in plan.directions.items()}
    for thread_id, messages in plan.messages.items():
        if thread_id not in plan.threads:
            plan.problems.append(
                f"line {messages[0].line}: message {messages[0].id} belongs to thread {thread_id}, which is not "
                "in the file: add the thread object (as GET /v1/threads/{id} returns it)."
            )
        messages.sort(key=lambda m: (m.created_at, sign.get(m.page, 1) * m.page, sign.get(m.page, 1) * m.position))
