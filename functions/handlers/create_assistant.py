"""POST /assistants"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import assistant_bodies, request_bodies, response_bodies


@endpoint("create_assistant", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = request_bodies.parse(assistant_bodies.AssistantIn, request.body)
    assistant = store.create_assistant(request.project, body.fields(), assistant_id=request.created_id("asst_"))
    return response_bodies.assistant_object(assistant)
