"""GET /threads/{thread_id}/messages"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import id_param, page_params
from threads_api.runs.replies import run_replies
from threads_api.wire import response_bodies


@endpoint("list_messages")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    page = page_params(request.query, "msg_")
    run_id = request.query.get("run_id")
    if run_id:
        messages = run_replies(request.project, thread_id, id_param(run_id, "run_id"), page)
    else:
        messages = store.list_messages_and_reply(request.project, thread_id, page)
    return response_bodies.list_object(messages, response_bodies.message_object)
