"""OpenAI's objects as the store's records and back: what an import keeps of each object, and what an
export writes (the API's own response shapes, so that an export imports back equal).

``threads_api`` is imported once the environment names the table (``key_target.resolve`` sets it).
"""

from __future__ import annotations

from typing import Any

from infra.ops.key_target import functions_importable

ID_RULE = "1 to 64 letters, digits, '_' or '-'"


def _domain() -> Any:
    functions_importable()
    from threads_api.domain import ids, records

    return ids, records


def valid_id(value: Any) -> bool:
    ids, _ = _domain()
    return isinstance(value, str) and ids.ID_PATTERN.fullmatch(value) is not None


def record(value: dict[str, Any]) -> Any:
    """The record an object (valid against its schema) is stored as: what the import keeps of it."""
    _, records = _domain()
    kind = value["object"]
    if kind == "thread":
        return records.Thread(value["id"], value["created_at"], value.get("metadata") or {}, _resources(value))
    if kind == "assistant":
        return records.Assistant(
            id=value["id"],
            created_at=value["created_at"],
            model=value["model"],
            name=value.get("name"),
            description=value.get("description"),
            instructions=value.get("instructions"),
            tools=value.get("tools") or [],
            tool_resources=_resources(value),
            metadata=value.get("metadata") or {},
            temperature=value.get("temperature"),
            top_p=value.get("top_p"),
            response_format=value.get("response_format") or "auto",
        )
    run_id = value.get("run_id")
    reply = {"assistant_id": value.get("assistant_id") or None, "run_id": run_id}  # "" is stored as None
    # The store keeps how a message ended only for a run's reply (``items.message_items``): a client's
    # message is complete when it is written.
    if run_id and value.get("status") == "incomplete":
        reply |= {"status": "incomplete", "incomplete_details": value.get("incomplete_details")}
    return records.Message(
        id=value["id"],
        thread_id=value["thread_id"],
        created_at=value["created_at"],
        role=value["role"],
        content=value["content"],
        attachments=value.get("attachments") or [],
        metadata=value.get("metadata") or {},
        **reply,
    )


def _resources(value: dict[str, Any]) -> Any:
    return value.get("tool_resources") or {}


def shape(item: Any) -> dict[str, Any]:
    """The API's response object for a record (a thread, message or assistant)."""
    functions_importable()
    from threads_api.domain import records
    from threads_api.wire import response_bodies

    if isinstance(item, records.Thread):
        return response_bodies.thread_object(item)
    if isinstance(item, records.Assistant):
        return response_bodies.assistant_object(item)
    return response_bodies.message_object(item)
