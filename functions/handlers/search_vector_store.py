"""POST /vector_stores/{vector_store_id}/search: the chunks nearest the query, with their files."""

from threads_api import embeddings
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.vector_stores import search
from threads_api.wire import vector_store_bodies, vector_store_objects

EMBEDDER = embeddings.from_environment()  # once per container: settings read, clients built, key fetched lazily


@endpoint("search_vector_store", parses_body=True)
def handler(request: Request) -> Body:
    store_id = request.object_id("vector_store_id", "vector store")
    asked = vector_store_bodies.search_request(request.body)
    hits = search.search(request.project, store_id, asked, EMBEDDER)
    return vector_store_objects.search_results_page(asked.queries, hits)
