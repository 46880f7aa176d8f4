"""GET /threads/{thread_id}/messages/{message_id}"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import response_bodies


@endpoint("retrieve_message")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    message = store.get_message_or_reply(request.project, thread_id, request.object_id("message_id", "message"))
    return response_bodies.message_object(message)
