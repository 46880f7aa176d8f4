"""POST /threads"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.tool_resources import writes
from threads_api.wire import request_bodies, response_bodies


@endpoint("create_thread", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = request_bodies.parse(request_bodies.CreateThreadIn, request.body)
    thread = writes.create_thread(request.project, body, request.created_id("thread_"), request.created_id("vs_"))
    return response_bodies.thread_object(thread)
