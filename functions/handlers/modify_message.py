"""POST /threads/{thread_id}/messages/{message_id}: metadata only, as on OpenAI."""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import request_bodies, response_bodies


@endpoint("modify_message", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    message_id = request.object_id("message_id", "message")
    body = request_bodies.parse(request_bodies.ModifyMessageIn, request.body)
    if "metadata" not in body.model_fields_set:
        message = store.get_message(request.project, thread_id, message_id)
    else:
        message = store.update_message_metadata(request.project, thread_id, message_id, body.metadata or {})
    return response_bodies.message_object(message)
