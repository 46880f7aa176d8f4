"""How an API function hands a run to the worker: an asynchronous Lambda invocation (``InvocationType=Event``).

Lambda queues the event, retries the worker twice if it fails, and the API answers at once with the run
queued. The run is written before it is handed over, so a hand-over that fails leaves a run that nothing
will work on: it is then failed at once, with a ``last_error`` that says so (the create itself committed,
so it is answered 200, never with an error that invites a retry; a retry with the same Idempotency-Key
finds the same run).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from threads_api.observability import logger

WORKER_FUNCTION = os.environ.get("RUN_WORKER_FUNCTION", "")


@cache
def _client() -> Any:
    """Built on the first run a container starts, not at import: most requests never need it."""
    import botocore.session
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=1, read_timeout=3)
    return botocore.session.get_session().create_client("lambda", config=config)


def start(thread_id: str, run_id: str) -> bool:
    """Queue the worker for ``run_id``; False if Lambda could not be asked (the caller fails the run)."""
    payload = json.dumps({"thread_id": thread_id, "run_id": run_id}).encode()
    try:
        _client().invoke(FunctionName=WORKER_FUNCTION, InvocationType="Event", Payload=payload)
    except Exception as exc:
        logger.error("run not started", extra={"run_id": run_id, "error_type": type(exc).__name__})
        return False
    return True
