"""POST /uploads: an upload (filename, purpose, bytes, mime_type) that takes a file too large for one request."""

from threads_api.domain import clock
from threads_api.files import uploads
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import upload_bodies, upload_objects


@endpoint("create_upload", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = upload_bodies.create_request(request.body)
    upload = uploads.create_upload(
        request.project, body.filename, body.purpose, body.size, request.created_id("upload_")
    )
    return upload_objects.upload_object(upload, clock.now())
