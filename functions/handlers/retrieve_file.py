"""GET /files/{file_id}"""

from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.store import files
from threads_api.wire import file_objects


@endpoint("retrieve_file")
def handler(request: Request) -> Body:
    file = files.get_file(request.project, request.object_id("file_id", "file"))
    return file_objects.file_object(file)
