"""An import's file read whole and checked before anything is written: each object valid against OpenAI's
reference schemas, each id one the API can address, each message's thread in the file, no id twice with
other content. Every problem is a sentence with its line number; any problem, and nothing is imported.

A line holds one object (``thread``, ``thread.message``, ``assistant``) or a list envelope as the API
returned it (``{"object": "list", "data": [...]}``); a file that is one JSON document (pretty-printed, or
an array of those) is read as one "line 1".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infra.ops.cli_errors import CliError, usage

# Each object type, and the reference schema that checks it.
SCHEMAS = {"thread": "ThreadObject", "thread.message": "MessageObject", "assistant": "AssistantObject"}
SHOWN_PROBLEMS = 10
PREFIXES = {"thread": "thread_", "thread.message": "msg_", "assistant": "asst_"}


@dataclass
class Plan:
    """What the file holds, checked: records by id with their line, each thread's messages in order."""

    threads: dict[str, tuple[int, Any]] = field(default_factory=dict)
    messages: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    assistants: dict[str, tuple[int, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seen: dict[str, tuple[int, Any]] = field(default_factory=dict)

    @property
    def message_count(self) -> int:
        return sum(map(len, self.messages.values()))


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
    """The file's objects, checked; a ``CliError`` naming each problem (by line) if there is any."""
    if not path.is_file():
        raise usage(f"There is no file {path} to import. Name an existing file: make import FILE=<path> PROJECT=<p>.")
    plan = Plan()
    with path.open(encoding="utf-8") as lines:
        first = True
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                if first and (whole := _whole(path)) is not None:
                    _add(plan, 1, whole)
                    break
                plan.problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno}).")
                continue
            first = False
            _add(plan, number, value)
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


def _whole(path: Path) -> Any:
    """The file as one JSON document, or None when it is not one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def _add(plan: Plan, line: int, value: Any) -> None:
    """One line's value: an object, a list envelope, or (a whole document) an array of those."""
    if isinstance(value, list):
        for each in value:
            _add(plan, line, each)
        return
    if not isinstance(value, dict):
        plan.problems.append(f"line {line}: not a JSON object, but {type(value).__name__}.")
        return
    if value.get("object") == "list":
        data = value.get("data")
        if not isinstance(data, list):
            plan.problems.append(f"line {line}: a list envelope without a 'data' array.")
            return
        for each in _oldest_first(data):
            _add(plan, line, each)
        return
    _object(plan, line, value)


def _oldest_first(data: list[Any]) -> list[Any]:
    """A page of messages as the API listed it (newest first by default) in the thread's order."""
    times = [each.get("created_at") for each in data if isinstance(each, dict)]
    numbers = [t for t in times if isinstance(t, int)]
    if len(numbers) == len(data) and numbers and numbers[0] > numbers[-1]:
        return data[::-1]
    return data


def _object(plan: Plan, line: int, value: dict[str, Any]) -> None:
    from jsonschema import ValidationError

    from infra.ops.transfer_records import ID_RULE, record, valid_id

    kind = value.get("object")
    if kind not in SCHEMAS:
        plan.problems.append(
            f"line {line}: unknown object type {kind!r}: an import takes 'thread', 'thread.message', 'assistant' "
            "or a list of them."
        )
        return
    errors = sorted(_validator(SCHEMAS[kind]).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        first: ValidationError = errors[0]
        where = "/".join(map(str, first.path)) or "the object"
        plan.problems.append(f"line {line}: not a valid {kind} ({where}: {first.message[:160]}).")
        return
    ids = [value["id"]] + ([value["thread_id"]] if kind == "thread.message" else [])
    # A route answers 404 at once for an id without its kind's prefix (``request.object_id``): refused here.
    prefixed = zip(ids, [PREFIXES[kind], "thread_"], strict=False)
    if bad := [each for each, prefix in prefixed if not valid_id(each) or not each.startswith(prefix)]:
        plan.problems.append(
            f"line {line}: id {bad[0]!r} is not {ID_RULE} after the prefix of its kind (thread_, msg_, "
            "asst_), so the API could not address it."
        )
        return
    new = record(value)
    key = f"{kind}:{value['id']}"
    if key in plan.seen:
        earlier, old = plan.seen[key]
        if old != new:
            plan.problems.append(
                f"line {line}: {kind} {value['id']} appears again (first on line {earlier}) with other content."
            )
        return
    plan.seen[key] = (line, new)
    if kind == "thread":
        plan.threads[value["id"]] = (line, new)
    elif kind == "assistant":
        plan.assistants[value["id"]] = (line, new)
    else:
        plan.messages.setdefault(value["thread_id"], []).append((line, new))


def _order(plan: Plan) -> None:
    """Each thread's messages by ``created_at`` (stable: the file's order within a second); a message whose
    thread is not in the file is a problem."""
    for thread_id, messages in plan.messages.items():
        if thread_id not in plan.threads:
            line = messages[0][0]
            plan.problems.append(
                f"line {line}: message {messages[0][1].id} belongs to thread {thread_id}, which is not in the "
                "file: add the thread object (as GET /v1/threads/{id} returns it)."
            )
        messages.sort(key=lambda entry: entry[1].created_at)
