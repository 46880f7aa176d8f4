"""GET /vector_stores/{vector_store_id}/files/{file_id}"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.store import store_files, vector_stores
from threads_api.wire import vector_store_objects


@endpoint("retrieve_vector_store_file")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    file_id = request.object_id("file_id", "file")
    vector_stores.get_store(request.project, store_id)
    return vector_store_objects.vector_store_file_object(store_files.get_file(request.project, store_id, file_id))
