"""The environment of an in-process measurement: a Lambda-like one, set before the handlers are imported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lambda_like() -> None:
    os.environ.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "TABLE_NAME": "bench",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_METRICS_NAMESPACE": "ThreadsApi",
            "POWERTOOLS_SERVICE_NAME": "threads-api",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    import moto  # noqa: F401 - before any client exists, so that the round-trip count can run on moto

    functions = str(ROOT / "functions")
    if functions not in sys.path:
        sys.path.insert(0, functions)
