"""How an API function hands files to the ingestion worker: one asynchronous Lambda invocation
(``InvocationType=Event``) of ``INGEST_WORKER_FUNCTION`` per file, so that files are ingested in parallel,
each with a whole invocation's 15 minutes. A batch's 2,000 files are 2,000 invocations, made 16 at a time
(each about 20 to 40 ms: a few seconds, within API Gateway's 29 s). Lambda queues each event and retries the
worker twice if it fails.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from threads_api.observability import logger

CONCURRENT_INVOKES = 16


@cache
def _client() -> Any:
    """Built on the first hand-over a container makes, not at import: most requests never need it."""
    import botocore.session
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=1,
        read_timeout=3,
        max_pool_connections=CONCURRENT_INVOKES,
    )
    return botocore.session.get_session().create_client("lambda", config=config)


def event(project: str, store_id: str, file_id: str, gen: str) -> dict[str, Any]:
    """The worker's event: one file of a store, and the generation of it to ingest."""
    return {"project": project, "vector_store_id": store_id, "file_id": file_id, "generation": gen}


def start(project: str, store_id: str, files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Queue the ingestion of ``files`` (id, generation), one event each; those Lambda could not be asked for
    (the caller fails them: nothing else would ever end them)."""
    if len(files) == 1:  # the common case: no thread pool
        return [f for f in files if not _invoke(event(project, store_id, *f))]
    with ThreadPoolExecutor(max_workers=CONCURRENT_INVOKES) as pool:
        sent = list(pool.map(lambda f: _invoke(event(project, store_id, *f)), files))
    return [f for f, ok in zip(files, sent, strict=True) if not ok]


def _invoke(payload: dict[str, Any]) -> bool:
    try:
        _client().invoke(
            FunctionName=os.environ.get("INGEST_WORKER_FUNCTION", ""),
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )
    except Exception as exc:
        logger.error("ingestion not started", extra={"error_type": type(exc).__name__})
        return False
    return True
