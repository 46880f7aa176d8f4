"""POST /threads/{thread_id}"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import request_bodies, response_bodies


@endpoint("modify_thread", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    body = request_bodies.parse(request_bodies.ModifyThreadIn, request.body)
    sent = body.model_fields_set
    metadata = (body.metadata or {}) if "metadata" in sent else None
    tools = (body.tool_resources.stored() if body.tool_resources else {}) if "tool_resources" in sent else None
    thread = store.update_thread(request.project, thread_id, metadata, tools)
    return response_bodies.thread_object(thread)
