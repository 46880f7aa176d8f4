"""GET /vector_stores/{vector_store_id}/file_batches/{batch_id}: its status and counts, read from its files."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import reads
from threads_api.wire import vector_store_objects


@endpoint("retrieve_vector_store_file_batch")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    batch_id = request.object_id("batch_id", "file batch")
    return vector_store_objects.file_batch_object(reads.get_batch(request.project, store_id, batch_id))
