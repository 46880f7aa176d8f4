"""POST /uploads/{upload_id}/parts: a part of a pending upload (multipart/form-data ``data``), kept in the bucket."""

from threads_api.files import uploads
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import upload_objects


@endpoint("add_upload_part", parses_form="data", idempotent=True)
def handler(request: Request) -> Body:
    upload_id = request.object_id("upload_id", "upload")
    data = upload_objects.part_data(request.form.fields, request.form.files)
    part = uploads.add_part(request.project, upload_id, data, request.created_id("part_"))
    return upload_objects.part_object(part)
