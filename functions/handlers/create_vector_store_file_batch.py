"""POST /vector_stores/{vector_store_id}/file_batches: up to 2,000 files added at once."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import operations
from threads_api.wire import vector_store_bodies, vector_store_objects


@endpoint("create_vector_store_file_batch", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    files = vector_store_bodies.new_batch(request.body)
    batch = operations.add_batch(request.project, store_id, files, request.created_id("vsfb_"))
    return vector_store_objects.file_batch_object(batch)
