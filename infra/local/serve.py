"""``make serve``: the API on this machine, as ``sam local start-api`` would run it, without Docker.

Two modes, one gateway (``infra/local/api_gateway.py``, on werkzeug's HTTP server):
- **in-process** (the default, quick to start): the handlers run in this process, from ``functions/``.
- **deployed** (``--deployed``, ``DEPLOYED=1``; what CI tests): ``sam build``'s packaged functions, each in
  Lambda-like processes of its own with only the layer's packages and the runtime's boto3, the environment
  and IAM role SAM generates (every DynamoDB call checked against it), and Lambda's limits.

DynamoDB, the files bucket's S3 and the vector bucket's S3 Vectors are embedded (moto's server, in memory) unless
``TABLE_NAME`` names a real table (your AWS credentials; then ``BUCKET_NAME`` names a real bucket for the files
routes, ``VECTOR_BUCKET_NAME`` a real vector bucket for the vector stores). The table's stream is polled here
and drives the cleanup function, filtered as the template's event source mapping filters it.

Keys are checked at the edge as in AWS: the template's authorizer function runs before each route that needs
a key (in this process, or in the deployed mode as a Lambda of its own under its role: ``infra/local/edge.py``).
No project is throttled unless ``PROJECT_RATE_LIMIT`` asks: ``25`` (25 requests a second per project, bursts
of 25) or ``25/50`` (bursts of 50), as the stack's ProjectRateLimit/ProjectBurstLimit do.

Environment: ``PORT`` (3000), ``HOST`` (127.0.0.1), ``THREADS_API_KEY`` (else one is minted and printed),
``TABLE_NAME``, ``DEPLOYED=1``, ``TRACING=Active`` (deployed mode), ``THREADS_API_STATE`` (the state file),
``PROJECT_RATE_LIMIT`` (``<rate>`` or ``<rate>/<burst>``: see above);
for runs, ``MODEL_BASE_URL`` and ``MODEL_API_KEY`` (an OpenAI-compatible server) or ``MODEL_PROVIDER=bedrock``.
The run worker is invoked asynchronously through Lambda's Invoke API, which this same server answers
(``AWS_ENDPOINT_URL_LAMBDA``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from infra import template
from infra.local import dynamodb as local_dynamodb
from infra.local import invokers, stack
from infra.local.api_gateway import GatewayApp, LocalApi
from infra.local.edge import project_throttle, throttle_text
from infra.local.invoke import LocalContext
from infra.local.stack import Function

__all__ = ["STATE_FILE", "LocalApi", "LocalContext", "main"]

STATE_FILE = Path(os.environ.get("THREADS_API_STATE") or template.ROOT / ".local" / "serve.json")
LOCAL_PROJECT = "default"


def _fail(message: str, code: int = 1) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def _settings(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make serve", description="The Threads API on this machine.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "3000"))
    parser.add_argument(
        "--deployed",
        action="store_true",
        default=os.environ.get("DEPLOYED", "") not in ("", "0", "false"),
        help="run the packaged functions as Lambda does (sam build, layer, IAM, limits)",
    )
    parser.add_argument("--tracing", default=os.environ.get("TRACING", "Disabled"), choices=["Active", "Disabled"])
    args = parser.parse_args(argv)
    if not (str(args.port).isascii() and str(args.port).isdigit() and 1 <= int(args.port) <= 65535):
        _fail(f"PORT must be a number from 1 to 65535 (got {args.port!r}). For example: make serve PORT=3001", 2)
    args.port = int(args.port)
    try:
        args.throttle = project_throttle(os.environ.get("PROJECT_RATE_LIMIT"), os.environ.get("PROJECT_BURST_LIMIT"))
    except ValueError as exc:
        _fail(str(exc), 2)
    if args.deployed and os.environ.get("TABLE_NAME"):
        # Its functions run with local credentials and a local role: only the embedded DynamoDB fits them.
        _fail("The deployed mode runs on the embedded DynamoDB only: unset TABLE_NAME, or drop DEPLOYED=1.", 2)
    return args


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_not_running() -> None:
    if not STATE_FILE.exists():
        return
    try:
        state = json.loads(STATE_FILE.read_text())
    except ValueError:
        return
    if isinstance(state.get("pid"), int) and state["pid"] != os.getpid() and _pid_alive(state["pid"]):
        _fail(
            f"A local API from this checkout is already running on {state.get('base_url')} (process {state['pid']}). "
            "Use it, or stop it (Ctrl-C in its terminal) before starting another."
        )


def _check_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            suggestion = local_dynamodb.free_port()
            _fail(
                f"Port {port} on {host} is not available ({exc.strerror or exc}). "
                f"Try another, for example: make serve PORT={suggestion}"
            )


def _loopback(host: str) -> str:
    """An address of this server that its own functions can call, whatever it listens on."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - compared, not bound


def _configure_dynamodb() -> tuple[str | None, str]:
    """Point this process at the embedded DynamoDB (or a real table) before the store is imported."""
    real_table = os.environ.get("TABLE_NAME")
    if real_table:  # the files routes then need BUCKET_NAME, a real bucket; vector stores VECTOR_BUCKET_NAME
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
    # The files bucket and the vector bucket, on the same embedded moto (its S3 and S3 Vectors): named after the
    # table, as the local stack names them.
    os.environ.update({"AWS_ENDPOINT_URL_S3": endpoint, "BUCKET_NAME": stack.bucket_name(table)})
    local_dynamodb.create_bucket(local_dynamodb.client(endpoint, "s3"), os.environ["BUCKET_NAME"])
    os.environ.update({"AWS_ENDPOINT_URL_S3VECTORS": endpoint, "VECTOR_BUCKET_NAME": stack.vector_bucket_name(table)})
    local_dynamodb.create_vector_bucket(local_dynamodb.client(endpoint, "s3vectors"), os.environ["VECTOR_BUCKET_NAME"])
    return endpoint, table


def _api_key() -> str:
    """THREADS_API_KEY, registered for the local project, or a key minted for it."""
    from threads_api import auth

    key = os.environ.get("THREADS_API_KEY")
    if key:
        auth.register_key(key, LOCAL_PROJECT)
        return key
    return auth.create_key(LOCAL_PROJECT)


@dataclass
class _Mode:
    """How this server reaches the functions: Lambda locally (deployed), or this process (``lambda_`` None)."""

    lambda_: Any
    functions: dict[str, Function]  # the deployed functions (none in process)
    invoke: Any  # API Gateway's invocations
    consume: Callable[[dict[str, Any]], Any]  # the cleanup function, on the stream's batches
    invoke_async: Any  # Lambda's asynchronous Invoke, which this server answers


def _mode(
    args: argparse.Namespace, table: str, endpoint: str | None, cleanup: Callable[[dict[str, Any]], Any]
) -> _Mode:
    """The mode asked for, wired: in process, ``cleanup`` (its handler) consumes the stream's batches."""
    # Lambda's Invoke API is served by this same server: the functions that start runs call it.
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = f"http://{_loopback(args.host)}:{args.port}"
    if args.deployed:
        lambda_, functions = invokers.deployed_lambda(table, endpoint, args.tracing)
        return _Mode(
            lambda_,
            functions,
            invokers.deployed_invoker(lambda_),
            lambda records: invokers.cleanup_outcome(lambda_.invoke("CleanupFunction", records), records),
            invokers.async_invoker(lambda_.invoke, invokers.invoked_functions(functions)),
        )
    os.environ.setdefault("RUN_WORKER_FUNCTION", "RunWorkerFunction")
    os.environ.setdefault("INGEST_WORKER_FUNCTION", "IngestWorkerFunction")
    os.environ.setdefault("MODEL_PROVIDER", invokers.model_parameters()["ModelProvider"])
    in_process = invokers.async_invoker(invokers.run_async_in_process, invokers.IN_PROCESS_WORKERS)
    return _Mode(None, {}, invokers.in_process_invoker(), cleanup, in_process)


def _start_poller(endpoint: str | None, table: str, consume: Callable[[dict[str, Any]], Any]) -> Any:
    """The table's stream, polled to drive the cleanup function (the embedded DynamoDB only)."""
    if endpoint is None:
        return None
    poller = local_dynamodb.StreamPoller(endpoint, table, consume, filters=template.stream_filters("CleanupFunction"))
    poller.start()
    return poller


def _http_server(host: str, port: int, app: GatewayApp) -> Any:
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # a client that stops sending mid-request releases its thread

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # the handlers log each request

    server = ThreadedWSGIServer(host, port, app, handler=QuietHandler)
    server.daemon_threads = True  # stopping does not wait for idle client connections
    server.block_on_close = False
    return server


def _announce(args: argparse.Namespace, base_url: str, endpoint: str | None, table: str, key: str, count: int) -> None:
    """The state file (for make key and the tests) and what the terminal shows."""
    mode = f"deployed (Tracing={args.tracing})" if args.deployed else "in-process"
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(
        json.dumps({"base_url": base_url, "dynamodb_endpoint": endpoint, "table": table, "pid": os.getpid()})
    )
    print(f"Threads API on {base_url} ({mode}; {count} functions)", flush=True)
    print(f"  DynamoDB: {endpoint or 'AWS table ' + table}\n  Throttle: {throttle_text(args.throttle)}", flush=True)
    print(f"  API key (project '{LOCAL_PROJECT}'): {key}", flush=True)
    print(f'  OpenAI(base_url="{base_url}", api_key="{key}")', flush=True)


def _serve(args: argparse.Namespace) -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.path.insert(0, str(template.ROOT / "functions"))
    endpoint, table = _configure_dynamodb()

    from handlers import cleanup

    key = _api_key()
    mode = _mode(args, table, endpoint, cleanup.handler)
    poller = _start_poller(endpoint, table, mode.consume)
    api = LocalApi(_edge(mode.lambda_, args.throttle))
    server = _http_server(args.host, args.port, GatewayApp(api, mode.invoke, mode.invoke_async))
    base_url = f"http://{args.host}:{args.port}/{api.stage}"
    _announce(args, base_url, endpoint, table, key, len(mode.functions) or len(api.routes))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if poller is not None:
            poller.stop()
        server.server_close()
        if mode.lambda_ is not None:
            mode.lambda_.close()


def _edge(lambda_: Any, throttle: tuple[float, float] | None, clock: Callable[[], float] = time.monotonic) -> Any:
    """The authorizer (in this process, or a deployed-mode Lambda) and the usage plan, with a per-project
    throttle only if one is asked for (``project_throttle``: PROJECT_RATE_LIMIT)."""
    from infra.local.edge import Edge, in_process

    def deployed(function: str, event: dict[str, Any]) -> Any:
        return lambda_.invoke(function, event, event["requestContext"]["requestId"])

    rate, burst = throttle if throttle is not None else (None, None)
    return Edge(in_process if lambda_ is None else deployed, rate=rate, burst=burst, clock=clock)


def main(argv: list[str] | None = None) -> None:
    args = _settings(argv)
    _check_not_running()
    _check_port(args.host, args.port)

    def stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        _serve(args)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            if json.loads(STATE_FILE.read_text()).get("pid") == os.getpid():
                STATE_FILE.unlink()
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    main()
