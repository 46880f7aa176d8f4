"""GET /vector_stores/{vector_store_id}/file_batches/{batch_id}/files: a batch's files (``filter`` by status)."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params, status_filter
from threads_api.vector_stores import reads
from threads_api.wire import response_bodies, vector_store_objects


@endpoint("list_files_in_vector_store_batch")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    batch_id = request.object_id("batch_id", "file batch")
    page, status = page_params(request.query, "file-"), status_filter(request.query)
    found = reads.list_files(request.project, store_id, status, batch_id, page)
    return response_bodies.list_object(found, vector_store_objects.vector_store_file_object)
