"""DELETE /threads/{thread_id}: the thread answers 404 at once; its messages are purged from the stream."""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import response_bodies


@endpoint("delete_thread")
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    store.delete_thread(request.project, thread_id)
    return response_bodies.deleted_object(thread_id, "thread")
