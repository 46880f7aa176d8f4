"""POST /vector_stores: a new vector store, its ``file_ids`` added and handed to the ingestion worker."""

from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import operations
from threads_api.wire import vector_store_bodies, vector_store_objects


@endpoint("create_vector_store", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    new = vector_store_bodies.new_vector_store(request.body)
    store = operations.create_store(request.project, new, request.created_id("vs_"))
    return vector_store_objects.vector_store_object(store, clock.now())
