"""GET /threads/{thread_id}"""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import response_bodies


@endpoint("retrieve_thread")
def handler(request: Request) -> Body:
    thread = store.get_thread(request.project, request.object_id("thread_id", "thread"))
    return response_bodies.thread_object(thread)
