"""POST /threads/{thread_id}/messages"""

from threads_api import models, objects, store
from threads_api.gateway import Body, Request, endpoint


@endpoint("create_message", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    body = models.parse(models.MessageIn, request.body)
    message = store.append_message(request.project, thread_id, *body.as_new(), message_id=request.created_id("msg_"))
    return objects.message_object(message)
