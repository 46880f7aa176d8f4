"""POST /uploads/{upload_id}/cancel: a pending upload cancelled, its parts' bytes deleted."""

from threads_api.domain import clock
from threads_api.files import uploads
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.wire import upload_objects


@endpoint("cancel_upload", idempotent=True)
def handler(request: Request) -> Body:
    upload = uploads.cancel_upload(request.project, request.object_id("upload_id", "upload"))
    return upload_objects.upload_object(upload, clock.now())
