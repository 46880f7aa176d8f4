"""GET /vector_stores/{vector_store_id}"""

from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.store import vector_stores
from threads_api.wire import vector_store_objects


@endpoint("retrieve_vector_store")
def handler(request: Request) -> Body:
    store = vector_stores.get_store(request.project, request.object_id("vector_store_id", "vector store"))
    return vector_store_objects.vector_store_object(store, clock.now())
