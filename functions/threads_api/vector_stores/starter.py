"""How an API function hands files to the ingestion worker: asynchronous Lambda invocations
(``InvocationType=Event``) of ``INGEST_WORKER_FUNCTION``, at most ``FILES_PER_EVENT`` files each (a batch of
2,000 files is 40 invocations, made 8 at a time, not 2,000 one after the other within API Gateway's 29 s).
The worker ingests an event's one file, or hands each of several files back to Lambda as its own event: files
are ingested in parallel, each with a function's whole 15 minutes. Lambda queues each event and retries the
worker twice if it fails.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from threads_api.observability import logger

FILES_PER_EVENT = 50


@cache
def _client() -> Any:
    """Built on the first hand-over a container makes, not at import: most requests never need it."""
    import botocore.session
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=1, read_timeout=3)
    return botocore.session.get_session().create_client("lambda", config=config)


def event(project: str, store_id: str, files: list[tuple[str, str]]) -> dict[str, Any]:
    """The worker's event: a store's files, each as ``[file id, generation]``."""
    return {"project": project, "vector_store_id": store_id, "files": [list(f) for f in files]}


def start(
    project: str, store_id: str, files: list[tuple[str, str]], per_event: int = FILES_PER_EVENT
) -> list[tuple[str, str]]:
    """Queue the ingestion of ``files`` (id, generation), ``per_event`` in each event; those Lambda could not be
    asked for (the caller fails them: nothing else would ever end them)."""
    groups = [files[i : i + per_event] for i in range(0, len(files), per_event)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = list(pool.map(lambda group: _invoke(event(project, store_id, group)), groups))
    return [f for group, ok in zip(groups, sent, strict=True) if not ok for f in group]


def worker_function() -> str:
    """The API functions are told the worker's name; the worker itself (fanning a batch out) is that function."""
    return os.environ.get("INGEST_WORKER_FUNCTION") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")


def _invoke(payload: dict[str, Any]) -> bool:
    try:
        _client().invoke(FunctionName=worker_function(), InvocationType="Event", Payload=json.dumps(payload).encode())
    except Exception as exc:
        logger.error("ingestion not started", extra={"error_type": type(exc).__name__})
        return False
    return True
