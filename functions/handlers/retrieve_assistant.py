"""GET /assistants/{assistant_id}"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import response_bodies


@endpoint("retrieve_assistant")
def handler(request: Request) -> Body:
    assistant = store.get_assistant(request.project, request.object_id("assistant_id", "assistant"))
    return response_bodies.assistant_object(assistant)
