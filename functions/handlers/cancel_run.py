"""POST /threads/{thread_id}/runs/{run_id}/cancel"""

from threads_api import store
from threads_api.domain import lifecycle
from threads_api.domain.errors import Unavailable
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire.run_objects import run_object


@endpoint("cancel_run")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run_id = request.object_id("run_id", "run")
    for _ in range(5):  # the worker may save between our read and our write: read again
        now = store.now_ms() // 1000
        cancelled, ended = lifecycle.cancel(store.get_run(request.project, thread_id, run_id), now)
        try:
            return run_object(store.save_run(request.project, cancelled, release=ended), now)
        except store.RunConflict:
            continue
    raise Unavailable("cancel_run")
