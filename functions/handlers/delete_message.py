"""DELETE /threads/{thread_id}/messages/{message_id}"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import response_bodies


@endpoint("delete_message")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    message_id = request.object_id("message_id", "message")
    store.delete_message(request.project, thread_id, message_id)
    return response_bodies.deleted_object(message_id, "thread.message")
