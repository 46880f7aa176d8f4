"""Logger and metrics, built once per container.

Tracing is opt-in (``TRACING=true``, set by the template's ``Tracing`` parameter): the X-Ray SDK that
Powertools' Tracer loads adds more to a cold start than boto3 itself, so it is only imported when wanted.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "threads-api")

logger = Logger(service=SERVICE)
# botocore logs whole requests (message content included) at DEBUG: never let a root DEBUG level reach it.
logging.getLogger("botocore").setLevel(logging.INFO)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ThreadsApi"), service=SERVICE)

TRACING = os.environ.get("TRACING", "false").lower() == "true"


def tracer() -> Any:
    """Powertools' Tracer when tracing is on, else None; built on first use."""
    global _tracer
    if TRACING and _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE)
    return _tracer


_tracer: Any = None
