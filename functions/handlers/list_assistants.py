"""GET /assistants: the key's project's assistants, newest first."""

from threads_api import response_bodies, store
from threads_api.gateway import Body, Request, endpoint
from threads_api.list_params import page_params


@endpoint("list_assistants")
def handler(request: Request) -> Body:
    page = page_params(request.query, "asst_")
    assistants = store.list_assistants(request.project, page.limit, page.order, page.after, page.before)
    return response_bodies.list_object(assistants, response_bodies.assistant_object)
