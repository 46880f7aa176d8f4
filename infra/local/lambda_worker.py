"""One Lambda execution environment of the deployed mode: a process that runs one function as AWS does.

Started by ``infra.local.lambda_pool`` as ``python3.13 -I -S lambda_worker.py <config.json> <in fd> <out fd>``:
no site-packages and no virtualenv. Its ``sys.path`` is Lambda's: the function's packaged code
(``/var/task``), then each layer's ``python/`` (``/opt/python``), then the runtime's boto3 and botocore
(``/var/runtime``). It imports the handler once (the init phase), then serves invocations one at a time.

Every AWS call is checked against the function's role, as IAM would: a call the policies do not allow
raises ``AccessDeniedException`` without reaching DynamoDB, and each (action, resource, allowed) is
appended to the IAM log that the tests read.

Standard library only until the handler's own imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import runpy
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any

_HEADER = struct.Struct(">Q")


def read_frame(fd: int) -> bytes | None:
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    data = _read_exactly(fd, _HEADER.unpack(header)[0])
    return data


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class Context:
    """Lambda's context object, with the deadline of this invocation."""

    def __init__(self, config: dict[str, Any], request_id: str, deadline_ms: int) -> None:
        self.function_name = config["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = config["function_arn"]
        self.memory_limit_in_mb = config["memory"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _load_iam(config: dict[str, Any]) -> Any:
    spec = importlib.util.spec_from_file_location("_local_iam", config["iam_module"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _enforce_iam(config: dict[str, Any]) -> None:
    """Wrap every botocore API call in the role's policy check (installed before the handler imports)."""
    iam = _load_iam(config)
    statements, role_arn = config["statements"], config["role_arn"]
    region, account = config["region"], config["account"]
    log_path = config["iam_log"]
    logged: set[tuple[str, str, bool]] = set()

    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def checked(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.endpoint_prefix
        for action, resource in iam.required(service, operation_name, api_params, region, account):
            allowed = iam.allows(statements, action, resource)
            if log_path and (action, resource, allowed) not in logged:
                logged.add((action, resource, allowed))
                line = {"function": config["logical_id"], "action": action, "resource": resource, "allowed": allowed}
                with open(log_path, "a") as log:  # one short line per write: O_APPEND keeps lines whole
                    log.write(json.dumps(line) + "\n")
            if not allowed:
                message = iam.denial_message(role_arn, action, resource)
                error: Any = {"Code": "AccessDeniedException", "Message": message}
                raise ClientError({"Error": error}, operation_name)
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = checked  # type: ignore[attr-defined]


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def as_python() -> None:
    """``lambda_worker.py --as-python <config.json> -m <module> [args]``: Lambda's python for a function whose
    ``AWS_LAMBDA_EXEC_WRAPPER`` starts its own runtime (``infra/local/runtime_api.py``): the path the wrapper
    sets (PYTHONPATH, which ``-I`` ignores), every AWS call IAM-checked, then the module as ``__main__``."""
    config = json.loads(Path(sys.argv[2]).read_text())
    sys.path[:0] = [entry for entry in os.environ.get("PYTHONPATH", "").split(":") if entry]
    _enforce_iam(config)
    if sys.argv[3] != "-m":
        raise SystemExit(f"lambda_worker --as-python runs modules only (-m), not {sys.argv[3:]}")
    sys.argv = [sys.argv[4], *sys.argv[5:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)


def main() -> None:
    if sys.argv[1] == "--as-python":
        as_python()
        return
    config = json.loads(Path(sys.argv[1]).read_text())
    fd_in, fd_out = int(sys.argv[2]), int(sys.argv[3])
    sys.path[:0] = [config["code_dir"], *config["layer_paths"], config["runtime_dir"]]
    _enforce_iam(config)
    module_path, _, function_name = config["handler"].rpartition(".")
    try:  # Lambda's init phase: an error here fails every invocation of this environment
        handler = getattr(importlib.import_module(module_path.replace("/", ".")), function_name)
        init_error = None
    except Exception as exc:
        traceback.print_exc()
        handler, init_error = None, _error(exc)
    write_frame(fd_out, b'{"ready": true}')
    while (frame := read_frame(fd_in)) is not None:
        invocation = json.loads(frame)
        if invocation.get("trace_id"):
            os.environ["_X_AMZN_TRACE_ID"] = invocation["trace_id"]
        context = Context(config, invocation["request_id"], invocation["deadline_ms"])
        reply: dict[str, Any]
        if init_error is not None:
            reply = {"error": init_error}
        else:
            try:
                result = handler(invocation["event"], context)
                # The python3.12+ runtimes serialize the result without escaping non-ASCII characters.
                reply = {"result": json.dumps(result, ensure_ascii=False)}
            except Exception as exc:
                traceback.print_exc()
                reply = {"error": _error(exc)}
        sys.stdout.flush()
        write_frame(fd_out, json.dumps(reply, ensure_ascii=False).encode())


if __name__ == "__main__":
    main()
