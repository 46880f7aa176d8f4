"""GET /files/{file_id}/content: the file's bytes (binary media: API Gateway decodes them for the client), or a
redirect to them (a presigned S3 URL) for a file larger than a Lambda response carries."""

from threads_api.files import operations
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import file_objects


@endpoint("retrieve_file_content")
def handler(request: Request) -> Body | tuple[int, Body]:
    result = operations.file_content(request.project, request.object_id("file_id", "file"))
    return file_objects.content(result)
