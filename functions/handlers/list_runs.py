"""GET /threads/{thread_id}/runs"""

from functools import partial

from threads_api import store
from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params
from threads_api.wire import response_bodies
from threads_api.wire.run_objects import run_object


@endpoint("list_runs")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    page = page_params(request.query, "run_")
    runs = store.list_runs(request.project, thread_id, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(runs, partial(run_object, now=clock.now()))
