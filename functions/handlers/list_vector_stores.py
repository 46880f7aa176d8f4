"""GET /vector_stores: the key's project's vector stores, newest first (``limit``, ``order``, ``after``, ``before``)."""

from threads_api.domain import clock
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.http.list_params import page_params
from threads_api.store import vector_stores
from threads_api.wire import response_bodies, vector_store_objects


@endpoint("list_vector_stores")
def handler(request: Request) -> Body:
    page = page_params(request.query, "vs_")
    found = vector_stores.list_stores(request.project, page.limit, page.order, page.after, page.before)
    now = clock.now()
    return response_bodies.list_object(found, lambda store: vector_store_objects.vector_store_object(store, now))
