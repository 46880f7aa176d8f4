"""POST /vector_stores/{vector_store_id}/files: a file added, ``in_progress`` until the worker has ingested it."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import operations
from threads_api.wire import vector_store_bodies, vector_store_objects


@endpoint("create_vector_store_file", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    new = vector_store_bodies.new_store_file(request.body)
    file = operations.add_file(request.project, store_id, new)
    return vector_store_objects.vector_store_file_object(file)
