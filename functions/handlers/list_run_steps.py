"""GET /threads/{thread_id}/runs/{run_id}/steps"""

from threads_api import store
from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params
from threads_api.wire import response_bodies
from threads_api.wire.run_objects import step_page


@endpoint("list_run_steps")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    run = store.get_run(request.project, thread_id, request.object_id("run_id", "run"))
    page = step_page(run, page_params(request.query, "step_"), clock.now())
    return response_bodies.list_object(page, dict)
