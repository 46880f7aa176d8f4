"""GET /threads/{thread_id}"""

from threads_api import response_bodies, store
from threads_api.gateway import Body, Request, endpoint


@endpoint("retrieve_thread")
def handler(request: Request) -> Body:
    thread = store.get_thread(request.project, request.object_id("thread_id", "thread"))
    return response_bodies.thread_object(thread)
