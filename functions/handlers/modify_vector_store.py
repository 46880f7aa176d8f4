"""POST /vector_stores/{vector_store_id}: its ``name``, ``metadata`` and ``expires_after``."""

from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.store import vector_stores
from threads_api.wire import vector_store_bodies, vector_store_objects


@endpoint("modify_vector_store", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    update = vector_store_bodies.vector_store_update(request.body)
    store = vector_stores.modify_store(request.project, store_id, update.name, update.metadata, update.expires_after)
    return vector_store_objects.vector_store_object(store, clock.now())
