"""API Gateway (REST API, Lambda proxy integration), locally: the template's routes, the event AWS sends,
its limits, and its own answers in the template's gateway responses.

- Routes are the template's ``Api`` events. A path that matches no resource, or a resource but not its
  methods, is API Gateway's ``MISSING_AUTHENTICATION_TOKEN`` (the template makes it OpenAI's 404), as in
  AWS: no authorizer and no function runs (``LocalApi.unknown_route``).
- A body over 10 MB is ``REQUEST_TOO_LARGE`` (413); a function error, timeout or oversized result is a
  502 in ``DEFAULT_5XX``'s envelope: what AWS answers, with the request id as ``x-amzn-RequestId``.
- A route behind the authorizer goes through ``infra/local/edge.py`` first (the authorizer, its cache, the
  usage plan's throttle per project): a request it refuses reaches no function.

The WSGI application runs on werkzeug's server (``infra/local/serve.py``), which parses HTTP.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra import template
from infra.local import invoke as local_invoke
from infra.local import stream_proxy
from infra.local.binary_media import event_body, is_binary
from infra.local.edge import Edge
from infra.local.gateway_responses import gateway_response

# The caller's identity fields of a request with no IAM or Cognito authorization, as API Gateway sends them.
_NO_IDENTITY = dict.fromkeys(
    [
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
        "user",
        "userArn",
    ]
)

# API Gateway's payload limit for a REST API request.
REQUEST_MAX_BYTES = 10 * 1024 * 1024

Invoke = Callable[..., "Any"]  # (route, event[, stream_to]) -> an infra.local.lambda_pool.Outcome


class LocalApi:
    """The template's routes, and the event API Gateway builds for a request.

    ``edge``: the authorizer and usage plan in front of the routes (by default, the authorizer in this
    process, as the in-process mode and the handler tests run it)."""

    def __init__(self, edge: Any = None) -> None:
        self.stage = template.stage()
        self.routes = template.routes()
        self.edge = edge if edge is not None else Edge()

    def match(self, method: str, path: str) -> tuple[template.Route | None, dict[str, str], bool]:
        """(route, path parameters, whether a resource matched at all) for a path below the stage."""
        resource_found = False
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.greedy and resource_found:
                break  # a resource matched, but not this method: the catch-all does not take it
            resource_found = True
            if route.method in ("ANY", method):
                return route, {k: unquote(v) for k, v in match.groupdict().items()}, True
        return None, {}, resource_found

    def build_event(
        self,
        route: template.Route,
        params: dict[str, str],
        method: str,
        raw_path: str,
        headers: dict[str, str],
        body: bytes,
        client_ip: str,
    ) -> dict[str, Any]:
        parts = urlsplit(raw_path)
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            multi_query.setdefault(key, []).append(value)
        request_id, now = str(uuid.uuid4()), time.time()
        user_agent = headers.get("User-Agent") or headers.get("user-agent")
        text, encoded = event_body(body, headers.get("Content-Type") or headers.get("content-type") or "")
        return {
            "resource": route.path,
            "path": parts.path[len(self.stage) + 1 :] or "/",
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": headers.get("Host") or headers.get("host") or "localhost",
                "domainPrefix": "local",
                "extendedRequestId": request_id,
                "httpMethod": method,
                "identity": {**_NO_IDENTITY, "sourceIp": client_ip, "userAgent": user_agent},
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "requestId": request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "resourceId": "local",
                "resourcePath": route.path,
                "stage": self.stage,
            },
            "body": text,
            "isBase64Encoded": encoded,
        }

    def below_stage(self, raw_path: str) -> str | None:
        path = urlsplit(raw_path).path
        prefix = f"/{self.stage}"
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
        return None

    def unknown_route(self, method: str, raw_path: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's answer to a method and path that no route has: ``MISSING_AUTHENTICATION_TOKEN``
        (its own 403 "Missing Authentication Token", which the template's gateway response makes OpenAI's
        404). ``$context.path`` is the path as requested, with the stage (``/v1/...``), without the query."""
        context = {"requestId": request_id, "httpMethod": method, "path": urlsplit(raw_path).path}
        return gateway_response(
            "MISSING_AUTHENTICATION_TOKEN", 403, {**context, "message": "Missing Authentication Token"}
        )

    def event(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, client_ip: str
    ) -> tuple[Any, Any]:
        """The in-process handler and the event for a request. Where API Gateway answers itself (no route
        matches; the authorizer or the usage plan refuses it), the "handler" returns that answer instead, as a
        proxy result, and no function is called; for an unknown route the event holds only the request's
        context."""
        path = self.below_stage(raw_path)
        route, params, _ = self.match(method, path) if path is not None else (None, {}, False)
        if route is None:
            request_id = str(uuid.uuid4())
            full_path = urlsplit(raw_path).path
            context = {"requestId": request_id, "httpMethod": method, "path": full_path, "stage": self.stage}
            event = {"httpMethod": method, "path": full_path if path is None else path, "requestContext": context}
            return _answering(self.unknown_route(method, raw_path, request_id)), event
        event = self.build_event(route, params, method, raw_path, headers, body, client_ip)
        answer = self.edge.check(route, event)
        if answer is not None:
            return _answering(answer), event
        return route.load_handler(), event


def _answering(answer: tuple[int, dict[str, str], bytes]) -> Callable[..., dict[str, Any]]:
    """A "handler" that returns API Gateway's own answer as a proxy result."""
    status, headers, data = answer
    result = {"statusCode": status, "headers": headers, "body": data.decode()}
    return lambda _event, _context=None: result


# What API Gateway answers when the Lambda invocation fails (Lambda's error type -> its response).
_INVOKE_FAILURES = {
    "RequestTooLarge": ("REQUEST_TOO_LARGE", 413, "Request Too Long"),
}
_DEFAULT_FAILURE = ("DEFAULT_5XX", 502, "Internal server error")


_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


class GatewayApp:
    """The WSGI application: a request in, the route's function invoked, its proxy response out."""

    def __init__(self, api: LocalApi, invoke: Invoke, invoke_async: Callable[[str, bytes], bool] | None = None) -> None:
        self.api = api
        self.invoke = invoke
        # Lambda's Invoke API (InvocationType=Event) on the same port: the functions that start runs call it
        # (AWS_ENDPOINT_URL_LAMBDA). ``invoke_async(function_name, payload)`` queues it; False: no such function.
        self.invoke_async = invoke_async

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from werkzeug.wrappers import Request

        request = Request(environ)
        method, raw_path = request.method, request.full_path if request.query_string else request.path
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or raw_path
        context = {"requestId": str(uuid.uuid4()), "httpMethod": method, "path": urlsplit(raw_path).path}
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared and not (declared.isascii() and declared.isdigit()):  # werkzeug would read it as 0
            status, headers, data = gateway_response(
                "BAD_REQUEST", 400, {**context, "message": f"Invalid Content-Length: {declared[:40]!r}"}
            )
            return self._send(start_response, status, headers, data)
        length = request.content_length
        if length is not None and length > REQUEST_MAX_BYTES:
            status, headers, data = gateway_response(
                "REQUEST_TOO_LARGE", 413, {**context, "message": "Request Too Long"}
            )
            return self._send(start_response, status, headers, data)  # werkzeug closes the connection
        body = request.get_data(cache=False)
        if len(body) > REQUEST_MAX_BYTES:  # chunked bodies carry no Content-Length
            status, headers, data = gateway_response(
                "REQUEST_TOO_LARGE", 413, {**context, "message": "Request Too Long"}
            )
            return self._send(start_response, status, headers, data)
        invocation = _INVOKE_PATH.match(urlsplit(raw_path).path)
        if invocation is not None and self.invoke_async is not None and method == "POST":
            return self._lambda_invoke(start_response, unquote(invocation.group(1)), request.headers, body)
        path = self.api.below_stage(raw_path)
        route, params, _ = self.api.match(method, path) if path is not None else (None, {}, False)
        if route is None:
            status, headers, data = self.api.unknown_route(method, raw_path, context["requestId"])
            return self._send(start_response, status, headers, data)
        headers_in = dict(request.headers.items())
        event = self.api.build_event(route, params, method, raw_path, headers_in, body, request.remote_addr or "")
        event["requestContext"]["requestId"] = context["requestId"]
        refused = self.api.edge.check(route, event)
        if refused is not None:
            return self._send(start_response, *refused)
        invoke_stream = getattr(self.invoke, "stream", None)
        if route.streams and invoke_stream is not None:  # the deployed mode: InvokeWithResponseStream
            return stream_proxy.respond(start_response, invoke_stream, route, event)
        if getattr(self.invoke, "streams", False):
            outcome, streamed = local_invoke.streaming(self.invoke, route, event)
            if streamed is not None:
                return stream_proxy.in_process(start_response, context["requestId"], streamed)
        else:
            outcome = self.invoke(route, event)
        proxy = _proxy_response(outcome, is_binary(request.headers.get("Accept") or ""))
        if proxy is None:
            kind, status, message = _INVOKE_FAILURES.get(outcome.error or "", _DEFAULT_FAILURE)
            status, headers, data = gateway_response(kind, status, {**context, "message": message})
            return self._send(start_response, status, headers, data, cause=outcome.error or "MalformedProxyResponse")
        status, headers, data = proxy
        headers.setdefault("x-amzn-RequestId", context["requestId"])
        return self._send(start_response, status, headers, b"" if method == "HEAD" else data)

    def _lambda_invoke(
        self, start_response: Callable[..., Any], name: str, headers: Any, body: bytes
    ) -> Iterable[bytes]:
        assert self.invoke_async is not None
        status, answer_headers, data = local_invoke.async_invoke(self.invoke_async, name, headers, body)
        return self._send(start_response, status, answer_headers, data)

    @staticmethod
    def _send(
        start_response: Callable[..., Any], status: int, headers: dict[str, str], data: bytes, cause: str = ""
    ) -> Iterable[bytes]:
        from http import HTTPStatus

        if status >= 500:  # one line per 5xx, whoever answered it: the end-to-end suite fails on any
            request_id = headers.get("x-request-id") or headers.get("x-amzn-RequestId")
            print(json.dumps({"gateway_5xx": status, "request_id": request_id, "lambda_error": cause}), flush=True)

        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        pairs = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
        pairs.append(("Content-Length", str(len(data))))
        start_response(f"{status} {reason}", pairs)
        return [data]


def _proxy_response(outcome: Any, binary: bool = True) -> tuple[int, dict[str, str], bytes] | None:
    """The HTTP response a Lambda proxy result asks for; None where API Gateway answers 502 instead.

    A base64-encoded body is decoded for a client whose first Accept is a binary media type (``binary``);
    to any other, API Gateway sends the base64 text as it is."""
    result = outcome.response()
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return None  # "Malformed Lambda proxy response"
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    payload = result.get("body") or ""
    data = base64.b64decode(payload) if result.get("isBase64Encoded") and binary else str(payload).encode("utf-8")
    return int(result["statusCode"]), headers, data
