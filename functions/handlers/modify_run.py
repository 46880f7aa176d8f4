"""POST /threads/{thread_id}/runs/{run_id}"""

from threads_api import store
from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_objects import run_object
from threads_api.wire.run_update_bodies import ModifyRunIn


@endpoint("modify_run", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run_id = request.object_id("run_id", "run")
    body = parse(ModifyRunIn, request.body)
    if body.metadata is None:  # nothing to change: the run as it is
        run = store.get_run(request.project, thread_id, run_id)
    else:
        run = store.update_run_metadata(request.project, thread_id, run_id, body.metadata)
    return run_object(run, clock.now())
