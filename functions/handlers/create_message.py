"""POST /threads/{thread_id}/messages"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.tool_resources import writes
from threads_api.wire import request_bodies, response_bodies


@endpoint("create_message", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    body = request_bodies.parse(request_bodies.MessageIn, request.body)
    message_id, store_id = request.created_id("msg_"), request.created_id("vs_")
    message = writes.append_message(request.project, thread_id, body, message_id, store_id)
    return response_bodies.message_object(message)
