"""POST /threads/{thread_id}"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.tool_resources import writes
from threads_api.wire import request_bodies, response_bodies


@endpoint("modify_thread", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    body = request_bodies.parse(request_bodies.ModifyThreadIn, request.body)
    thread = writes.update_thread(request.project, thread_id, body, request.created_id("vs_"))
    return response_bodies.thread_object(thread)
