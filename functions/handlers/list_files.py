"""GET /files: the key's project's files, newest first (``purpose``, ``limit``, ``order``, ``after``)."""

from threads_api.domain import limits
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params, purpose_param
from threads_api.store import files
from threads_api.wire import file_objects, response_bodies


@endpoint("list_files")
def handler(request: Request) -> Body:
    page = page_params(request.query, "file-", limits.FILES_LIST_MAX_LIMIT, limits.FILES_LIST_MAX_LIMIT)
    found = files.list_files(request.project, purpose_param(request.query), page.limit, page.order, page.after)
    return response_bodies.list_object(found, file_objects.file_object)
