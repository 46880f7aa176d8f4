"""GET /threads/{thread_id}/messages"""

from threads_api import store
from threads_api.domain.errors import NotFound
from threads_api.domain.records import Page, page_of
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import PageParams, id_param, page_params
from threads_api.wire import response_bodies


@endpoint("list_messages")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    page = page_params(request.query, "msg_")
    run_id = request.query.get("run_id")
    if run_id:
        messages = _run_replies(request.project, thread_id, id_param(run_id, "run_id"), page)
    else:
        messages = store.list_messages(request.project, thread_id, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(messages, response_bodies.message_object)


def _run_replies(project: str, thread_id: str, run_id: str, page: PageParams) -> Page:
    """The messages a run wrote (its message_creation steps): few, so the page is cut here."""
    try:
        run = store.get_run(project, thread_id, run_id)
    except NotFound as exc:
        if exc.kind == "thread":
            raise
        return Page([], False)  # no such run of this thread: nothing it wrote
    ids = [s["step_details"]["message_creation"]["message_id"] for s in run.steps if s["type"] == "message_creation"]
    return page_of(store.messages_by_id(thread_id, ids), lambda message: message.id, page)
