"""GET /threads: the key's project's threads, newest first (beyond OpenAI, which never listed them)."""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params
from threads_api.wire import response_bodies


@endpoint("list_threads")
def handler(request: Request) -> Body:
    page = page_params(request.query, "thread_")
    threads = store.list_threads(request.project, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(threads, response_bodies.thread_object)
