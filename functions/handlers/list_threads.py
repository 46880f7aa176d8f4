"""GET /threads: the key's project's threads, newest first (beyond OpenAI, which never listed them)."""

from threads_api import response_bodies, store
from threads_api.gateway import Body, Request, endpoint
from threads_api.list_params import page_params


@endpoint("list_threads")
def handler(request: Request) -> Body:
    page = page_params(request.query, "thread_")
    threads = store.list_threads(request.project, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(threads, response_bodies.thread_object)
