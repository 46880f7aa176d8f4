"""POST /vector_stores/{vector_store_id}/files/{file_id}: its ``attributes`` (what search ``filters`` read)."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.store import store_files, vector_stores
from threads_api.wire import vector_store_bodies, vector_store_objects


@endpoint("update_vector_store_file_attributes", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    file_id = request.object_id("file_id", "file")
    attributes = vector_store_bodies.attributes_update(request.body)
    vector_stores.get_store(request.project, store_id)
    file = store_files.set_attributes(request.project, store_id, file_id, attributes)
    return vector_store_objects.vector_store_file_object(file)
