"""``make serve``: the API on this machine, as ``sam local start-api`` would run it, without Docker.

Two modes, one gateway (``infra/local/api_gateway.py``, on werkzeug's HTTP server):
- **in-process** (the default, quick to start): the handlers run in this process, from ``functions/``.
- **deployed** (``--deployed``, ``DEPLOYED=1``; what CI tests): ``sam build``'s packaged functions, each in
  Lambda-like processes of its own with only the layer's packages and the runtime's boto3, the environment
  and IAM role SAM generates (every DynamoDB call checked against it), and Lambda's limits.

DynamoDB and the files bucket's S3 are embedded (moto's server, in memory) unless ``TABLE_NAME`` names a real
table (your AWS credentials; then ``BUCKET_NAME`` names a real bucket for the files routes). The table's
stream is polled here and drives the cleanup function, filtered as the
template's event source mapping filters it.

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
from pathlib import Path
from typing import Any, NoReturn

from infra import template
from infra.local import dynamodb as local_dynamodb
from infra.local import stack
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


def _in_process_invoker() -> Any:
    from infra.local.invoke import run_in_process

    def invoke(route: template.Route, event: dict[str, Any], stream_to: Any = None) -> Any:
        return run_in_process(route.load_handler(), route.function, event, stream_to)

    invoke.streams = True  # type: ignore[attr-defined]  # the gateway may stream what it answers
    return invoke


def _deployed_invoker(lambda_: Any) -> Any:
    """API Gateway's invocations in the deployed mode: Invoke, and InvokeWithResponseStream for the routes
    whose integration streams (``invoke.stream``, read by ``infra/local/stream_proxy.py``)."""

    def invoke(route: template.Route, event: dict[str, Any]) -> Any:
        return lambda_.invoke(route.function, event, event["requestContext"]["requestId"])

    def stream(route: template.Route, event: dict[str, Any], on_bytes: Any) -> Any:
        return lambda_.invoke_stream(route.function, event, event["requestContext"]["requestId"], on_bytes)

    invoke.stream = stream  # type: ignore[attr-defined]
    return invoke


def _model_parameters() -> dict[str, str]:
    """The stack's model parameters from ``make serve``'s environment (MODEL_PROVIDER, MODEL_BASE_URL)."""
    base_url = os.environ.get("MODEL_BASE_URL", "")
    provider = os.environ.get("MODEL_PROVIDER") or ("openai" if base_url else "none")
    return {"ModelProvider": provider, "ModelBaseUrl": base_url}


def _async_invoker(run: Any, names: dict[str, str]) -> Any:
    """Lambda's asynchronous invocation: ``run(logical_id, event)`` on a thread of its own, at once.

    ``names``: each function's physical name (what a caller passes as FunctionName) to its logical id."""
    import threading

    def invoke_async(name: str, payload: bytes) -> bool:
        logical = names.get(name.rsplit(":", 1)[-1])
        if logical is None:
            return False
        event = json.loads(payload or b"{}")
        threading.Thread(target=run, args=(logical, event), daemon=True, name=f"async-{logical}").start()
        return True

    return invoke_async


def _invoked_functions(functions: dict[str, Function]) -> dict[str, str]:
    """Physical name -> logical id of what the functions invoke (RUN_WORKER_FUNCTION): Lambda's Invoke on
    this server is no way into the others."""
    invoked = {f.environment.get("RUN_WORKER_FUNCTION") for f in functions.values()}
    return {f.name: logical for logical, f in functions.items() if f.name in invoked}


def _loopback(host: str) -> str:
    """An address of this server that its own functions can call, whatever it listens on."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - compared, not bound


def _deployed_lambda(table: str, endpoint: str | None, tracing: str) -> Any:
    """Build what ``sam deploy`` ships and start Lambda locally on it."""
    from infra.local import lambda_build, stack
    from infra.local.lambda_pool import LocalLambda

    built = lambda_build.sam_build()
    deployed = stack.load(built, {"Tracing": tracing, **_model_parameters()}, table_name=table)
    sources = template.load()["Resources"]
    layer_paths: dict[Path, Path] = {}
    for function in deployed.functions.values():
        for layer_dir in function.layer_dirs:  # the built (arm64) layer -> its requirements, for this machine
            content_uri = sources[layer_dir.name]["Properties"]["ContentUri"]
            layer_paths[layer_dir] = lambda_build.host_layer(template.ROOT / content_uri)
    iam_log = os.environ.get("THREADS_API_IAM_LOG")
    return LocalLambda(
        deployed.functions,
        layer_paths=layer_paths,
        runtime_dir=lambda_build.runtime_dir(),
        workdir=lambda_build.BUILD_ROOT / "environments" / str(os.getpid()),
        dynamodb_endpoint=endpoint,
        iam_log=Path(iam_log) if iam_log else None,
        extra_environment=_local_environment(deployed.functions),
    ), deployed.functions


def _local_environment(functions: dict[str, Function]) -> dict[str, dict[str, str]]:
    """What this machine adds to the functions' environment: Lambda's local endpoint for the functions that
    invoke the worker, and for the worker, MODEL_API_KEY (deployed, the key comes from SSM instead)."""
    extra: dict[str, dict[str, str]] = {}
    for logical, function in functions.items():
        added = {}
        if "RUN_WORKER_FUNCTION" in function.environment:
            added["AWS_ENDPOINT_URL_LAMBDA"] = os.environ["AWS_ENDPOINT_URL_LAMBDA"]
        if "MODEL_PROVIDER" in function.environment and os.environ.get("MODEL_API_KEY"):
            added["MODEL_API_KEY"] = os.environ["MODEL_API_KEY"]
        extra[logical] = added
    return extra


def _configure_dynamodb() -> tuple[str | None, str]:
    """Point this process at the embedded DynamoDB (or a real table) before the store is imported."""
    real_table = os.environ.get("TABLE_NAME")
    if real_table:  # the files routes then need BUCKET_NAME, a real bucket
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
    # The files bucket, on the same embedded moto (its S3): named after the table, as the local stack names it.
    os.environ.update({"AWS_ENDPOINT_URL_S3": endpoint, "BUCKET_NAME": stack.bucket_name(table)})
    local_dynamodb.create_bucket(local_dynamodb.client(endpoint, "s3"), os.environ["BUCKET_NAME"])
    return endpoint, table


def _serve(args: argparse.Namespace) -> None:
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.path.insert(0, str(template.ROOT / "functions"))
    endpoint, table = _configure_dynamodb()

    from handlers import cleanup
    from threads_api import auth

    key = os.environ.get("THREADS_API_KEY")
    if key:
        auth.register_key(key, LOCAL_PROJECT)
    else:
        key = auth.create_key(LOCAL_PROJECT)

    # Lambda's Invoke API is served by this same server: the functions that start runs call it.
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = f"http://{_loopback(args.host)}:{args.port}"
    functions: dict[str, Function] = {}
    if args.deployed:
        lambda_, functions = _deployed_lambda(table, endpoint, args.tracing)
        invoke = _deployed_invoker(lambda_)
        consume = lambda records: _cleanup_outcome(lambda_.invoke("CleanupFunction", records), records)  # noqa: E731
        invoke_async = _async_invoker(lambda_.invoke, _invoked_functions(functions))
    else:
        lambda_, invoke, consume = None, _in_process_invoker(), cleanup.handler
        os.environ.setdefault("RUN_WORKER_FUNCTION", "RunWorkerFunction")
        os.environ.setdefault("MODEL_PROVIDER", _model_parameters()["ModelProvider"])
        invoke_async = _async_invoker(_run_in_process, {"RunWorkerFunction": "RunWorkerFunction"})

    poller = None
    if endpoint is not None:
        poller = local_dynamodb.StreamPoller(
            endpoint, table, consume, filters=template.stream_filters("CleanupFunction")
        )
        poller.start()

    class QuietHandler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # a client that stops sending mid-request releases its thread

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # the handlers log each request

    api = LocalApi(_edge(lambda_, args.throttle))
    server = ThreadedWSGIServer(args.host, args.port, GatewayApp(api, invoke, invoke_async), handler=QuietHandler)
    server.daemon_threads = True  # stopping does not wait for idle client connections
    server.block_on_close = False
    base_url = f"http://{args.host}:{args.port}/{api.stage}"
    mode = f"deployed (Tracing={args.tracing})" if args.deployed else "in-process"
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(
        json.dumps({"base_url": base_url, "dynamodb_endpoint": endpoint, "table": table, "pid": os.getpid()})
    )
    print(f"Threads API on {base_url} ({mode}; {len(functions) or len(api.routes)} functions)", flush=True)
    print(f"  DynamoDB: {endpoint or 'AWS table ' + table}\n  Throttle: {throttle_text(args.throttle)}", flush=True)
    print(f"  API key (project '{LOCAL_PROJECT}'): {key}", flush=True)
    print(f'  OpenAI(base_url="{base_url}", api_key="{key}")', flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if poller is not None:
            poller.stop()
        server.server_close()
        if lambda_ is not None:
            lambda_.close()


def _edge(lambda_: Any, throttle: tuple[float, float] | None, clock: Callable[[], float] = time.monotonic) -> Any:
    """The authorizer (in this process, or a deployed-mode Lambda) and the usage plan, with a per-project
    throttle only if one is asked for (``project_throttle``: PROJECT_RATE_LIMIT)."""
    from infra.local.edge import Edge, in_process

    def deployed(function: str, event: dict[str, Any]) -> Any:
        return lambda_.invoke(function, event, event["requestContext"]["requestId"])

    rate, burst = throttle if throttle is not None else (None, None)
    return Edge(in_process if lambda_ is None else deployed, rate=rate, burst=burst, clock=clock)


def _run_in_process(logical: str, event: dict[str, Any]) -> None:
    """An asynchronous invocation in this process: the worker's handler, as the in-process mode runs handlers."""
    from infra.local.invoke import run_in_process, template_handler

    outcome = run_in_process(template_handler(logical), logical, event)
    if outcome.error:  # Lambda would log it and retry; here it is logged
        print(json.dumps({"async_error": logical, "lambda_error": outcome.error}), flush=True)


def _cleanup_outcome(outcome: Any, records: dict[str, Any]) -> dict[str, Any]:
    """The cleanup function's answer; a failed invocation retries the batch, as the event source mapping does."""
    response = outcome.response()
    if isinstance(response, dict):
        return response
    first = records["Records"][0]["dynamodb"]["SequenceNumber"]
    return {"batchItemFailures": [{"itemIdentifier": first}]}


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
