"""GET /assistants/{assistant_id}"""

from threads_api import response_bodies, store
from threads_api.gateway import Body, Request, endpoint


@endpoint("retrieve_assistant")
def handler(request: Request) -> Body:
    assistant = store.get_assistant(request.project, request.object_id("assistant_id", "assistant"))
    return response_bodies.assistant_object(assistant)
