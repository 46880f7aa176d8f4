"""GET /threads/{thread_id}/runs/{run_id}/steps/{step_id}"""

from threads_api import store
from threads_api.domain import clock
from threads_api.domain.errors import NotFound
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire.run_objects import steps


@endpoint("retrieve_run_step")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run = store.get_run(request.project, thread_id, request.object_id("run_id", "run"))
    step_id = request.object_id("step_id", "step")
    for step in steps(run, clock.now()):
        if step["id"] == step_id:
            return step
    raise NotFound("run step", step_id)
