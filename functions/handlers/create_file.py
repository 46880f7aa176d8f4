"""POST /files: a multipart/form-data upload (``file`` and ``purpose``), its bytes kept in the stack's bucket."""

from threads_api.files import operations
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import file_objects


@endpoint("create_file", parses_form="file", idempotent=True)
def handler(request: Request) -> Body:
    new = file_objects.new_file(request.form.fields, request.form.files)
    file = operations.create_file(request.project, new.filename, new.purpose, new.data, request.created_id("file-"))
    return file_objects.file_object(file)
