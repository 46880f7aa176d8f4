"""POST /threads"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import request_bodies, response_bodies


@endpoint("create_thread", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = request_bodies.parse(request_bodies.CreateThreadIn, request.body)
    messages = [message.as_new() for message in body.messages or []]
    tools = body.tool_resources.stored() if body.tool_resources else {}
    thread, _ = store.create_thread(
        request.project, body.metadata or {}, tools, messages, thread_id=request.created_id("thread_")
    )
    return response_bodies.thread_object(thread)
