"""DELETE /assistants/{assistant_id}: the assistant only; runs that used it keep their own copy of its settings."""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import response_bodies


@endpoint("delete_assistant")
def handler(request: Request) -> Body:
    assistant_id = request.object_id("assistant_id", "assistant")
    store.delete_assistant(request.project, assistant_id)
    return response_bodies.deleted_object(assistant_id, "assistant")
