"""GET /threads/{thread_id}/runs/{run_id}/steps/{step_id}"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import include_param
from threads_api.runs import steps


@endpoint("retrieve_run_step")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run_id = request.object_id("run_id", "run")
    step_id = request.object_id("step_id", "step")
    return steps.run_step(request.project, thread_id, run_id, step_id, include_param(request.query))
