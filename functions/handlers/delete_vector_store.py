"""DELETE /vector_stores/{vector_store_id}: its item now; its files, index and texts by the cleanup function."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.store import vector_stores
from threads_api.wire import vector_store_objects


@endpoint("delete_vector_store")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    vector_stores.delete_store(request.project, store_id)
    return vector_store_objects.deleted_vector_store(store_id)
