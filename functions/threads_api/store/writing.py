"""The reply a streamed run is writing, shown among its thread's messages before its end writes it.

While a streamed run's model answers, the reply's text so far is on the run's item (``Run.partial``), and the
reply's message is written only with the run's end (``runs.save_reply``, in one transaction that also clears
``partial``: a run that holds a text so far has no reply message yet). The API's reads of a thread's messages
show it meanwhile as ``lifecycle.writing`` makes it, under the id the stream announced, without a write: the
thread's item, which those reads read already, names the run that holds the thread (``active_run``, kept
until another run takes the thread, even once its lock has ended), so a thread without one costs no more round
trips, and one with one costs one more (its run's item, in a BatchGetItem as the thread's).

In a list, the reply sorts as a message would at ``_position``, and may be a page's cursor. The worker reads a
thread's messages without it (``messages.list_messages``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threads_api.domain import clock, ids, lifecycle
from threads_api.domain.errors import NotFound
from threads_api.domain.records import JsonObject, Message, Page, PageParams, Run
from threads_api.store import dynamodb
from threads_api.store.items import message_key
from threads_api.store.messages import messages_with_bodies
from threads_api.store.paging import order_page, thread_and_child, within_budget
from threads_api.store.run_items import run_from_item, run_key

if TYPE_CHECKING:
    from threads_api.store.items import Item

# Sorts after every order key (20 hex digits) that starts as the one before it: ``_position``'s keys fall between
# two order keys, so a Query's ``ok > :c`` and ``ok < :c`` split the thread's messages there.
_BETWEEN = "~"


def get_message_or_reply(project: str, thread_id: str, message_id: str) -> Message:
    """A message of a thread, or the reply its run is writing under that id: one BatchGetItem (the thread and
    the message), and one more only when the thread has no such message and a run holds it."""
    thread, item = thread_and_child(project, thread_id, message_key(thread_id, message_id))
    if item is not None:
        return messages_with_bodies([item])[0]
    run = _holder(project, thread)
    writing = lifecycle.writing(run, clock.now()) if run is not None else None
    if writing is not None and writing[1].id == message_id:
        return writing[1]
    if run is not None and any(_names(step, message_id) for step in run.steps):
        # The run wrote it between the two reads (its end): it is there now, unless deleted since.
        written = dynamodb.batch_get([message_key(thread_id, message_id)])
        if written:
            return messages_with_bodies(written)[0]
    raise NotFound("message", message_id)


def list_messages_and_reply(project: str, thread_id: str, params: PageParams) -> Page:
    """A page of a thread's messages (``messages.list_messages``'s), with the reply a run is writing where it
    sorts (``_position``): one BatchGetItem (the thread and the cursor), one Query, and between them one more
    BatchGetItem (the run) only when a run holds the thread. The reply's id may be the cursor."""
    limit, order, after, before = params.limit, params.order, params.after, params.before
    cursor = after or before
    thread, cursor_item = thread_and_child(project, thread_id, message_key(thread_id, cursor) if cursor else None)
    run = _holder(project, thread)
    now = clock.now()
    writing = lifecycle.writing(run, now) if run is not None else None
    reply = (_position(thread, run, now), writing[1]) if run is not None and writing is not None else None
    if cursor_item is None and reply is not None and reply[1].id == cursor:
        cursor_item = {"ok": {"S": reply[0]}}
    items, has_more, backwards = order_page(cursor_item, thread_id, limit, order, after, before)
    items, trimmed = within_budget(items, cursor_at_end=backwards)
    page = Page(messages_with_bodies(items), has_more or trimmed, backwards)
    if reply is None or any(message.id == reply[1].id for message in page.items):  # written since: listed
        return page
    cursor_ok = cursor_item["ok"]["S"] if cursor_item is not None else None
    return _placed(page, [item["ok"]["S"] for item in items], reply, order, limit, cursor_ok)


def _holder(project: str, thread: Item) -> Run | None:
    """The run that holds the thread (or held it last, its lock ended without a write), when it has one."""
    run_id = thread.get("active_run", {}).get("S")
    if not run_id:
        return None
    found = dynamodb.batch_get([run_key(thread["pk"]["S"], run_id)])
    if not found or found[0].get("prj", {}).get("S") != project:
        return None
    return run_from_item(found[0])


def _names(step: JsonObject, message_id: str) -> bool:
    """Whether ``step`` is the one that wrote the message ``message_id``."""
    return bool(step["step_details"].get("message_creation", {}).get("message_id") == message_id)


def _position(thread: Item, run: Run, now: int) -> str:
    """Where the reply ``run`` writes sorts among its thread's messages: a key between two order keys. While
    the run holds the thread, no message but its own reply can be added: the reply is the newest, after the
    thread's last message. Once the run reads ended without having written it (its lock ended at its
    ``expires_at``), messages may follow, and every one added since has an order key of that second's or later
    (``messages.append``: added only once ``active_until <= now``): the reply sorts before them."""
    if run.expires_at is None or lifecycle.current(run, now).status not in lifecycle.ENDED:
        return thread.get("last_ok", {}).get("S", "") + _BETWEEN
    return f"{int(ids.order_key(run.expires_at * 1000, 0), 16) - 1:020x}{_BETWEEN}"


def _placed(
    page: Page, oks: list[str], reply: tuple[str, Message], order: str, limit: int, cursor_ok: str | None
) -> Page:
    """``page`` (its messages' order keys ``oks``) with the reply (at its key) where it sorts, if the page's
    range holds it: past the cursor, and not beyond the page's far end when more follow. A page it makes one
    too many loses its far end (``has_more``)."""
    at, message = reply

    def ahead(a: str, b: str) -> bool:  # whether the key a is listed before the key b
        return a < b if order == "asc" else a > b

    if cursor_ok is not None and not (ahead(at, cursor_ok) if page.backwards else ahead(cursor_ok, at)):
        return page  # on the cursor's other side (or the cursor itself)
    pos = sum(1 for ok in oks if ahead(ok, at))
    if page.has_more and pos == (0 if page.backwards else len(oks)):
        return page  # beyond this page's far end: a later page's
    items = [*page.items[:pos], message, *page.items[pos:]]
    if len(items) <= limit:
        return Page(items, page.has_more, page.backwards)
    return Page(items[1:] if page.backwards else items[:-1], True, page.backwards)
