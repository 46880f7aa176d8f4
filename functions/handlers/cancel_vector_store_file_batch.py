"""POST /vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel: its files in progress end cancelled."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import operations
from threads_api.wire import vector_store_objects


@endpoint("cancel_vector_store_file_batch", idempotent=True)
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    batch_id = request.object_id("batch_id", "file batch")
    batch = operations.cancel_batch(request.project, store_id, batch_id)
    return vector_store_objects.file_batch_object(batch)
