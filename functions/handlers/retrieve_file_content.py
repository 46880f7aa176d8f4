"""GET /files/{file_id}/content: the file's bytes (binary media: API Gateway decodes them for the client)."""

from threads_api.files import operations
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import file_objects


@endpoint("retrieve_file_content")
def handler(request: Request) -> Body:
    data = operations.file_content(request.project, request.object_id("file_id", "file"))
    return file_objects.Content(data)
