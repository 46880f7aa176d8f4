"""GET /assistants: the key's project's assistants, newest first."""

from threads_api import store
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params
from threads_api.wire import response_bodies


@endpoint("list_assistants")
def handler(request: Request) -> Body:
    page = page_params(request.query, "asst_")
    assistants = store.list_assistants(request.project, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(assistants, response_bodies.assistant_object)
