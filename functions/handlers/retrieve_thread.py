"""GET /threads/{thread_id}"""

from threads_api import objects, store
from threads_api.gateway import Request, endpoint


@endpoint("retrieve_thread")
def handler(request: Request) -> tuple[int, dict[str, object]]:
    thread = store.get_thread(request.project, request.object_id("thread_id", "thread"))
    return 200, objects.thread_object(thread)
