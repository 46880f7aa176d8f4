"""DELETE /files/{file_id}: its bytes, then its item."""

from threads_api.files import operations
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import file_objects


@endpoint("delete_file")
def handler(request: Request) -> Body:
    file_id = request.object_id("file_id", "file")
    operations.delete_file(request.project, file_id)
    return file_objects.file_deleted(file_id)
