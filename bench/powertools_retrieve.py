"""Retrieve thread as Powertools' Event Handler would route it: the road not taken, kept only for
``bench/resolver.py``. Everything but the routing is ours, as in ``handlers/retrieve_thread.py``: auth, the
path id's check, the one GetItem, the OpenAI object, the error envelope and ``x-request-id``, and Lambda's
context in log lines; ``APIGatewayRestResolver`` replaces ``gateway.endpoint``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from threads_api import store
from threads_api.http.errors import from_exception
from threads_api.http.request import Request, project_of
from threads_api.http.responses import LambdaResponse, error_response, response
from threads_api.observability import logger, with_lambda_context
from threads_api.wire import response_bodies

app = APIGatewayRestResolver()


def _as_powertools(result: LambdaResponse) -> Response[str]:
    return Response(result["statusCode"], result["headers"]["content-type"], result["body"], result["headers"])


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


@app.get("/threads/<thread_id>")
def retrieve_thread(thread_id: str) -> Response[str]:
    project = project_of(app.current_event.raw_event)  # the authorizer's, as http.endpoint reads it
    request = Request(project=project, request_id=_request_id(), path={"thread_id": thread_id}, query={})
    thread = store.get_thread(request.project, request.object_id("thread_id", "thread"))
    return _as_powertools(response(200, response_bodies.thread_object(thread), request.request_id))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _failure(exc: Exception) -> Response[str]:
    return _as_powertools(error_response(from_exception(exc), _request_id()))


def _resolve(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    logger.set_correlation_id(str((event.get("requestContext") or {}).get("requestId") or ""))
    return app.resolve(event, context)


handler = with_lambda_context(_resolve)
