"""POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.runs.launch import Answer
from threads_api.runs.submit import submit_tool_outputs
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_update_bodies import ToolOutputsIn


@endpoint("submit_tool_outputs", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run_id = request.object_id("run_id", "run")
    body = parse(ToolOutputsIn, request.body)
    answer = Answer(bool(body.stream), request.seconds_left, request.stream_sink(), request.request_id)
    return submit_tool_outputs(request.project, thread_id, run_id, body.outputs(), answer)
