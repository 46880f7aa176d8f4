"""POST /threads/runs"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.runs.create import create_thread_and_run
from threads_api.runs.launch import Answer
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_bodies import ThreadAndRunIn


@endpoint("create_thread_and_run", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = parse(ThreadAndRunIn, request.body)
    answer = Answer(bool(body.stream), request.seconds_left, request.stream_sink(), request.request_id)
    created = request.created_id("thread_"), request.created_id("run_")
    return create_thread_and_run(request.project, body, *created, answer)
