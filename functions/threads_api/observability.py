"""Logger and metrics, built once per container; Lambda's context in every log line of an invocation.

Tracing is opt-in (``TRACING=true``, set by the template's ``Tracing`` parameter): the X-Ray SDK that
Powertools' Tracer loads adds more to a cold start than boto3 itself, so it is only imported when wanted.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "threads-api")

logger = Logger(service=SERVICE)
# botocore logs whole requests (message content included) at DEBUG: never let a root DEBUG level reach it.
logging.getLogger("botocore").setLevel(logging.INFO)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ThreadsApi"), service=SERVICE)

TRACING = os.environ.get("TRACING", "false").lower() == "true"

# What Powertools' ``inject_lambda_context`` adds to every line (its LambdaContextModel's fields, and cold_start).
LAMBDA_CONTEXT_KEYS = ("function_name", "function_memory_size", "function_arn", "function_request_id", "cold_start")


def with_lambda_context[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """``handler(event, context)`` whose log lines carry Lambda's request id, cold start and function (Powertools'
    ``inject_lambda_context``). Called without a context (a test's, or a tool's call), it logs without them,
    and without the last invocation's: Powertools' decorator needs the context's attributes."""
    injected = logger.inject_lambda_context(handler)

    @functools.wraps(handler)
    def handle(event: Any, context: Any = None) -> Any:
        if context is None:
            logger.remove_keys(LAMBDA_CONTEXT_KEYS)
            return handler(event, context)
        return injected(event, context)

    return handle  # type: ignore[return-value]


def tracer() -> Any:
    """Powertools' Tracer when tracing is on, else None; built on first use."""
    global _tracer
    if TRACING and _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE)
    return _tracer


_tracer: Any = None
