from typing import Any
from tests.handlers.conftest import Api
from tests.handlers.vector_stores_support import *  # noqa
from tests.handlers.vector_stores_support import ingestion  # noqa


def test_smoke(api: Api, ingestion: Ingestion) -> None:
    store = new_store(api, {"name": "s"})
    print(store)
    fid = new_file(api, "a.txt", "the compressor warranty lasts five years")
    f = add_file(api, store["id"], fid)
    print(f)
    print(ingestion.queued)
    ingestion.work()
    print(store_file(api, store["id"], fid))
    print(retrieve(api, store["id"]))
    print(vector_keys(store["id"]))
    print(search(api, store["id"], {"query": "compressor"}))
    print(api("GET", f"/vector_stores/{store['id']}/files/{fid}/content").body)
