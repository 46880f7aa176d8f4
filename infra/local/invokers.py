"""How ``make serve`` reaches the functions, in each of its two modes: API Gateway's invocations, Lambda's
asynchronous Invoke (the run worker), the cleanup function's batches from the table's stream, and, in the
deployed mode, Lambda itself started on what ``sam build`` packages (with what this machine adds to the
functions' environment)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from infra import template
from infra.local.stack import Function


def in_process_invoker() -> Any:
    from infra.local.invoke import run_in_process

    def invoke(route: template.Route, event: dict[str, Any], stream_to: Any = None) -> Any:
        return run_in_process(route.load_handler(), route.function, event, stream_to)

    invoke.streams = True  # type: ignore[attr-defined]  # the gateway may stream what it answers
    return invoke


def deployed_invoker(lambda_: Any) -> Any:
    """API Gateway's invocations in the deployed mode: Invoke, and InvokeWithResponseStream for the routes
    whose integration streams (``invoke.stream``, read by ``infra/local/stream_proxy.py``)."""

    def invoke(route: template.Route, event: dict[str, Any]) -> Any:
        return lambda_.invoke(route.function, event, event["requestContext"]["requestId"])

    def stream(route: template.Route, event: dict[str, Any], on_bytes: Any) -> Any:
        return lambda_.invoke_stream(route.function, event, event["requestContext"]["requestId"], on_bytes)

    invoke.stream = stream  # type: ignore[attr-defined]
    return invoke


def async_invoker(run: Any, names: dict[str, str]) -> Any:
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


def run_async_in_process(logical: str, event: dict[str, Any]) -> None:
    """An asynchronous invocation in this process: the worker's handler, as the in-process mode runs handlers."""
    from infra.local.invoke import run_in_process, template_handler

    outcome = run_in_process(template_handler(logical), logical, event)
    if outcome.error:  # Lambda would log it and retry; here it is logged
        print(json.dumps({"async_error": logical, "lambda_error": outcome.error}), flush=True)


def cleanup_outcome(outcome: Any, records: dict[str, Any]) -> dict[str, Any]:
    """The cleanup function's answer; a failed invocation retries the batch, as the event source mapping does."""
    response = outcome.response()
    if isinstance(response, dict):
        return response
    first = records["Records"][0]["dynamodb"]["SequenceNumber"]
    return {"batchItemFailures": [{"itemIdentifier": first}]}


# The variables that name a function another one invokes (asynchronously): the run and ingestion workers.
INVOKED_VARIABLES = ("RUN_WORKER_FUNCTION", "INGEST_WORKER_FUNCTION")
IN_PROCESS_WORKERS = {"RunWorkerFunction": "RunWorkerFunction", "IngestWorkerFunction": "IngestWorkerFunction"}


def invoked_functions(functions: dict[str, Function]) -> dict[str, str]:
    """Physical name -> logical id of what the functions invoke (the workers): Lambda's Invoke on this server
    is no way into the others."""
    invoked = {f.environment.get(v) for f in functions.values() for v in INVOKED_VARIABLES}
    return {f.name: logical for logical, f in functions.items() if f.name in invoked}


def model_parameters() -> dict[str, str]:
    """The stack's model parameters from ``make serve``'s environment (MODEL_PROVIDER, MODEL_BASE_URL)."""
    base_url = os.environ.get("MODEL_BASE_URL", "")
    provider = os.environ.get("MODEL_PROVIDER") or ("openai" if base_url else "none")
    return {"ModelProvider": provider, "ModelBaseUrl": base_url}


def deployed_lambda(table: str, endpoint: str | None, tracing: str) -> Any:
    """Build what ``sam deploy`` ships and start Lambda locally on it."""
    from infra.local import lambda_build, stack
    from infra.local.lambda_pool import LocalLambda

    built = lambda_build.sam_build()
    deployed = stack.load(built, {"Tracing": tracing, **model_parameters()}, table_name=table)
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
        extra_environment=local_environment(deployed.functions),
    ), deployed.functions


def local_environment(functions: dict[str, Function]) -> dict[str, dict[str, str]]:
    """What this machine adds to the functions' environment: Lambda's local endpoint for the functions that
    invoke the worker, and for the worker, MODEL_API_KEY (deployed, the key comes from SSM instead)."""
    extra: dict[str, dict[str, str]] = {}
    for logical, function in functions.items():
        added = {}
        if any(v in function.environment for v in INVOKED_VARIABLES):
            added["AWS_ENDPOINT_URL_LAMBDA"] = os.environ["AWS_ENDPOINT_URL_LAMBDA"]
        if "MODEL_PROVIDER" in function.environment and os.environ.get("MODEL_API_KEY"):
            added["MODEL_API_KEY"] = os.environ["MODEL_API_KEY"]
        extra[logical] = added
    return extra
