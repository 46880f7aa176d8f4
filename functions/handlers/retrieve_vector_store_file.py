"""GET /vector_stores/{vector_store_id}/files/{file_id}"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import reads
from threads_api.wire import vector_store_objects


@endpoint("retrieve_vector_store_file")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    file_id = request.object_id("file_id", "file")
    return vector_store_objects.vector_store_file_object(reads.get_file(request.project, store_id, file_id))
