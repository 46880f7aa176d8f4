"""GET /threads/{thread_id}/messages"""

from threads_api import response_bodies, store
from threads_api.gateway import Body, Request, endpoint, id_param, page_params
from threads_api.records import Page


@endpoint("list_messages")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    page = page_params(request.query, "msg_")
    if request.query.get("run_id"):
        id_param(request.query["run_id"], "run_id")
        # There are no runs here, so no message was made by one: the thread must exist, the page is empty.
        store.get_thread(request.project, thread_id)
        return response_bodies.list_object(Page([], False), response_bodies.message_object)
    messages = store.list_messages(request.project, thread_id, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(messages, response_bodies.message_object)
