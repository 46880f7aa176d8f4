"""GET /threads/{thread_id}/messages/{message_id}"""

from threads_api import objects, store
from threads_api.gateway import Body, Request, endpoint


@endpoint("retrieve_message")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    message = store.get_message(request.project, thread_id, request.object_id("message_id", "message"))
    return objects.message_object(message)
