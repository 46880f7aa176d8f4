"""POST /threads/{thread_id}/runs"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import include_param
from threads_api.runs.create import create_run
from threads_api.runs.launch import Answer
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_bodies import RunIn


@endpoint("create_run", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    body = parse(RunIn, request.body)
    answer = Answer(
        bool(body.stream), request.seconds_left, request.stream_sink(), request.request_id, include_param(request.query)
    )
    return create_run(request.project, thread_id, body, request.created_id("run_"), answer)
