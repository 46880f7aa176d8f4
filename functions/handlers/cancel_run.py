"""POST /threads/{thread_id}/runs/{run_id}/cancel"""

from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.runs.cancel import cancel_run
from threads_api.wire.run_objects import run_object


@endpoint("cancel_run", idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run = cancel_run(request.project, thread_id, request.object_id("run_id", "run"))
    return run_object(run, clock.now())
