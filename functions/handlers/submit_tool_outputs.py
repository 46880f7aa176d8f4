"""POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs"""

from threads_api import store
from threads_api.domain import lifecycle
from threads_api.domain.errors import Unavailable
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.runs import events, launch
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_bodies import ToolOutputsIn
from threads_api.wire.run_objects import run_object


@endpoint("submit_tool_outputs", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run_id = request.object_id("run_id", "run")
    body = parse(ToolOutputsIn, request.body)
    for _ in range(5):  # a cancel may save between our read and our write: read again
        run = store.get_run(request.project, thread_id, run_id)
        now = store.now_ms() // 1000
        if run.status != "requires_action" and lifecycle.already_submitted(run, body.outputs()):
            # A retry of a submit that landed: its run as it stands, or with stream, its events from there. A
            # run still queued may never have reached its worker (the first answer was lost before the hand-
            # over): it is handed over again, which is harmless if it had (a worker claims a run once).
            if lifecycle.current(run, now).status == "queued":
                return launch.started(
                    request.project,
                    run,
                    stream=bool(body.stream),
                    seconds_left=request.seconds_left(),
                    sink=request.stream_sink(),
                    created=False,
                )
            if body.stream:
                return launch.followed(
                    request.project, run, seconds_left=request.seconds_left(), sink=request.stream_sink()
                )
            return run_object(run, now)
        resumed = lifecycle.submit_tool_outputs(run, body.outputs(), now)
        try:
            saved = store.save_run(request.project, resumed, hold_until=resumed.expires_at)
            break
        except store.RunConflict:
            continue
    else:
        raise Unavailable("submit_tool_outputs")
    # The tool step these outputs completed comes first in a stream.
    done = [
        events.sse("thread.run.step.completed", s) for s, was in zip(saved.steps, run.steps, strict=True) if s != was
    ]
    return launch.started(
        request.project,
        saved,
        stream=bool(body.stream),
        seconds_left=request.seconds_left(),
        sink=request.stream_sink(),
        created=False,
        prelude=done,
    )
