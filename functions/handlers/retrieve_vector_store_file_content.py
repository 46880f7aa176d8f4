"""GET /vector_stores/{vector_store_id}/files/{file_id}/content: the text the ingestion parsed from the file."""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import operations
from threads_api.wire import vector_store_objects


@endpoint("retrieve_vector_store_file_content")
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    file_id = request.object_id("file_id", "file")
    text = operations.file_content(request.project, store_id, file_id)
    return vector_store_objects.file_content_page(text)
