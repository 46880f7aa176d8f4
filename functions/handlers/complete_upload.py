"""POST /uploads/{upload_id}/complete: the parts, in the order listed, assembled into a file (the upload completed)."""

from threads_api.domain import clock
from threads_api.files import uploads
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import upload_bodies, upload_objects


@endpoint("complete_upload", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    upload_id = request.object_id("upload_id", "upload")
    body = upload_bodies.complete_request(request.body)
    upload, file = uploads.complete_upload(
        request.project, upload_id, body.part_ids, body.md5, request.created_id("file-")
    )
    return upload_objects.upload_object(upload, clock.now(), file)
