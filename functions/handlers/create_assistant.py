"""POST /assistants"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.tool_resources import writes
from threads_api.wire import assistant_bodies, request_bodies, response_bodies


@endpoint("create_assistant", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = request_bodies.parse(assistant_bodies.AssistantIn, request.body)
    assistant = writes.create_assistant(request.project, body, request.created_id("asst_"), request.created_id("vs_"))
    return response_bodies.assistant_object(assistant)
