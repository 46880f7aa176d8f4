"""GET /threads/{thread_id}/runs/{run_id}/steps"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import include_param, page_params
from threads_api.runs import steps
from threads_api.wire import response_bodies


@endpoint("list_run_steps")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run_id = request.object_id("run_id", "run")
    params = page_params(request.query, "step_")
    page = steps.step_page(request.project, thread_id, run_id, params, include_param(request.query))
    return response_bodies.list_object(page, dict)
