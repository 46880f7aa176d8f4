"""POST /threads/{thread_id}/messages"""

from threads_api import models, objects, store
from threads_api.gateway import Request, endpoint


@endpoint("create_message", with_body=True)
def handler(request: Request) -> tuple[int, dict[str, object]]:
    thread_id = request.object_id("thread_id", "thread")
    body = models.parse(models.MessageIn, request.body)
    message = store.append_message(request.project, thread_id, *body.as_new(), message_id=request.created_id("msg_"))
    return 200, objects.message_object(message)
