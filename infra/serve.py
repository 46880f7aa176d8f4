"""``make serve``: the API on this machine, as ``sam local start-api`` would run it, without Docker.

It reads the routes from ``template.yaml``, turns each HTTP request into the API Gateway (REST, proxy)
event AWS would send, runs the same handler in-process (auth included), and writes its response back.
DynamoDB is embedded (moto's server, in memory) unless ``TABLE_NAME`` names a real table, which is then
used with your AWS credentials. The stream that drives cleanup after a thread's deletion is polled here.

Environment: ``PORT`` (3000), ``HOST`` (127.0.0.1), ``THREADS_API_KEY`` (else one is minted and printed),
``TABLE_NAME`` (a real table instead of the embedded one).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra import local_dynamodb, template

STATE_FILE = Path(os.environ.get("THREADS_API_STATE") or template.ROOT / ".local" / "serve.json")
LOCAL_PROJECT = "default"


class LocalContext:
    """The Lambda context a handler gets: the time left counts down from the template's function timeout."""

    def __init__(self, function_name: str, request_id: str, timeout_seconds: float = 15.0) -> None:
        self.function_name = function_name
        self.aws_request_id = request_id
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalApi:
    """The routes of the template bound to their handlers, and the event/response translation."""

    def __init__(self) -> None:
        self.stage = template.stage()
        self.routes = []
        for route in template.routes():
            module, _, name = route.handler.partition(":")
            self.routes.append((route, getattr(importlib.import_module(module), name)))

    def event(self, method: str, raw_path: str, headers: dict[str, str], body: bytes, client_ip: str) -> Any:
        """The handler and the event API Gateway would send for this request (or None for no route)."""
        parts = urlsplit(raw_path)
        prefix = f"/{self.stage}"
        if not (parts.path == prefix or parts.path.startswith(prefix + "/")):
            return None, None
        path = parts.path[len(prefix) :] or "/"
        for route, handler in self.routes:
            if route.method not in ("ANY", method):
                continue
            match = route.pattern.match(path)
            if match is None:
                continue
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            multi_query: dict[str, list[str]] = {}
            for key, value in pairs:
                multi_query.setdefault(key, []).append(value)
            try:
                text: str | None = body.decode("utf-8") if body else None
                encoded = False
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(body).decode(), True
            now = time.time()
            event = {
                "resource": route.path,
                "path": path,
                "httpMethod": method,
                "headers": headers or None,
                "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
                "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
                "multiValueQueryStringParameters": multi_query or None,
                "pathParameters": {k: unquote(v) for k, v in match.groupdict().items()} or None,
                "stageVariables": None,
                "requestContext": {
                    "resourcePath": route.path,
                    "httpMethod": method,
                    "path": parts.path,
                    "stage": self.stage,
                    "requestId": str(uuid.uuid4()),
                    "requestTimeEpoch": int(now * 1000),
                    "accountId": "123456789012",
                    "apiId": "local",
                    "protocol": "HTTP/1.1",
                    "identity": {"sourceIp": client_ip},
                },
                "body": text,
                "isBase64Encoded": encoded,
            }
            return handler, event
        return None, None


def _make_handler(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    from threads_api import errors
    from threads_api.gateway import error_response

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "threads-api-local"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the handlers log each request
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            handler, event = api.event(self.command, self.path, headers, body, self.client_address[0])
            if handler is None:
                result = error_response(
                    errors.route_not_found(self.command, urlsplit(self.path).path), str(uuid.uuid4())
                )
            else:
                try:
                    result = handler(event, LocalContext(handler.__module__, event["requestContext"]["requestId"]))
                except Exception:  # a handler that raised is Lambda's 502; API Gateway's 5xx envelope
                    result = error_response(errors.unavailable(), event["requestContext"]["requestId"])
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
            self.send_response(int(result["statusCode"]))
            for name, value in (result.get("headers") or {}).items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # Every method (TRACE, PROPFIND, ...) reaches the routes, as on API Gateway: 404 where none is.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

    return Handler


def _configure_dynamodb() -> tuple[str | None, str]:
    """Point the handlers at the embedded DynamoDB (or a real table) before they are imported."""
    real_table = os.environ.get("TABLE_NAME")
    if real_table:
        return None, real_table
    endpoint = local_dynamodb.start_embedded()
    table = "threads-api-local"
    os.environ.update(
        {
            "TABLE_NAME": table,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_DEFAULT_REGION": local_dynamodb.REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
    )
    local_dynamodb.create_table(local_dynamodb.client(endpoint), table)
    return endpoint, table


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.path.insert(0, str(template.ROOT / "functions"))
    endpoint, table = _configure_dynamodb()

    from handlers import cleanup
    from threads_api import auth

    api = LocalApi()
    key = os.environ.get("THREADS_API_KEY")
    if key:
        auth.register_key(key, LOCAL_PROJECT)
    else:
        key = auth.create_key(LOCAL_PROJECT)

    poller = None
    if endpoint is not None:
        poller = local_dynamodb.StreamPoller(endpoint, table, cleanup.handler)
        poller.start()

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    server = ThreadingHTTPServer((host, port), _make_handler(api))
    server.daemon_threads = True
    base_url = f"http://{host}:{port}/{api.stage}"
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(
        json.dumps({"base_url": base_url, "dynamodb_endpoint": endpoint, "table": table, "pid": os.getpid()})
    )
    print(f"Threads API on {base_url}", flush=True)
    print(f"  DynamoDB: {endpoint or 'AWS table ' + table}", flush=True)
    print(f"  API key (project '{LOCAL_PROJECT}'): {key}", flush=True)
    print(f'  OpenAI(base_url="{base_url}", api_key="{key}")', flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if poller is not None:
            poller.stop()
        server.server_close()
        if STATE_FILE.exists() and json.loads(STATE_FILE.read_text()).get("pid") == os.getpid():
            STATE_FILE.unlink()


if __name__ == "__main__":
    main()
