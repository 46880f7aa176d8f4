"""DELETE /vector_stores/{vector_store_id}/files/{file_id}: the file leaves the store (the file itself stays)."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import operations
from threads_api.wire import vector_store_objects


@endpoint("delete_vector_store_file")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    file_id = request.object_id("file_id", "file")
    operations.delete_file(request.project, store_id, file_id)
    return vector_store_objects.deleted_vector_store_file(file_id)
