"""POST /assistants/{assistant_id}"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.tool_resources import writes
from threads_api.wire import assistant_bodies, request_bodies, response_bodies


@endpoint("modify_assistant", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    assistant_id = request.object_id("assistant_id", "assistant")
    body = request_bodies.parse(assistant_bodies.AssistantUpdate, request.body)
    assistant = writes.update_assistant(request.project, assistant_id, body, request.created_id("vs_"))
    return response_bodies.assistant_object(assistant)
