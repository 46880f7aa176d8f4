"""DynamoDB persistence: one table, every item of a thread in the thread's partition.

One module a job; callers use the names below, as ``store.create_thread(...)``:
- ``dynamodb``: the client, the one call path with its error mapping, the backoff of the store's own retries.
- ``items``: the items and their encoding (pure; the table's layout is in its docstring).
- ``threads``: threads, and the order of a project's threads.
- ``assistants``: assistants, each one item in its project's partition.
- ``messages``: messages, and the order protocol of a thread's messages.
- ``paging``: a list's page behind a cursor, its body budget, every page of a query.
- ``purge``: what deletions leave, removed by the stream-driven cleanup.
- ``api_keys``: API keys, by their SHA-256.
- ``runs``: runs (with their steps) and the thread's lock that keeps one run active at a time.
- ``run_items``: a run's item, encoded and measured (what it holds, and the room it keeps).
- ``writing``: the reply a run is writing, shown among its thread's messages before its end writes it.

``batch_write`` is looked up on this package when it is called, not imported by the modules that call it:
a test that replaces ``store.batch_write`` (``monkeypatch.setattr(store, ...)``) so reaches every caller.
The clock is the domain's (``domain/clock.py``). ``store.client`` is the one botocore client
every call goes through: patching its methods or events reaches every call too.
"""

from threads_api.domain.errors import ActiveRun, Unavailable
from threads_api.store.api_keys import delete_key, get_key_project, list_keys, put_key
from threads_api.store.assistants import (
    create_assistant,
    delete_assistant,
    get_assistant,
    list_assistants,
    update_assistant,
)
from threads_api.store.dynamodb import CLIENT_CONFIG, TABLE, batch_write, client
from threads_api.store.items import THREAD_SK, Item, item_size, message_items
from threads_api.store.messages import (
    append_message,
    delete_message,
    get_message,
    list_messages,
    messages_by_id,
    update_message_metadata,
)
from threads_api.store.purge import delete_message_parts, purge_thread
from threads_api.store.run_items import check_run_size
from threads_api.store.runs import (
    create_run,
    get_run,
    list_runs,
    save_reply,
    save_run,
    update_run_metadata,
)
from threads_api.store.threads import (
    PENDING_TTL_SECONDS,
    create_thread,
    delete_thread,
    get_thread,
    list_threads,
    update_thread,
)
from threads_api.store.writing import get_message_or_reply, list_messages_and_reply

_message_items = message_items  # the name the volume tests (test_domain, test_pages, test_storage) write with

__all__ = [
    "CLIENT_CONFIG",
    "PENDING_TTL_SECONDS",
    "TABLE",
    "THREAD_SK",
    "ActiveRun",
    "Item",
    "Unavailable",
    "append_message",
    "batch_write",
    "check_run_size",
    "client",
    "create_assistant",
    "create_run",
    "create_thread",
    "delete_assistant",
    "delete_key",
    "delete_message",
    "delete_message_parts",
    "delete_thread",
    "get_assistant",
    "get_key_project",
    "get_message",
    "get_message_or_reply",
    "get_run",
    "get_thread",
    "item_size",
    "list_assistants",
    "list_keys",
    "list_messages",
    "list_messages_and_reply",
    "list_runs",
    "list_threads",
    "message_items",
    "messages_by_id",
    "purge_thread",
    "put_key",
    "save_reply",
    "save_run",
    "update_assistant",
    "update_message_metadata",
    "update_run_metadata",
    "update_thread",
]
