"""Lambda, locally, for the deployed mode: each function runs in execution environments of its own
(``infra/local/lambda_worker.py`` processes), one invocation at a time each, new ones started when all are busy,
as Lambda scales. An invocation gets Lambda's answers to what goes wrong: a payload over 6 MB refused,
a result over 6 MB refused, a function that outlives its timeout killed, an uncaught exception reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local import lambda_worker, runtime_api
from infra.local.stack import ACCOUNT, REGION, Function

# Lambda's limits for a synchronous invocation: the request and the response payloads.
PAYLOAD_MAX_BYTES = 6_291_456
INIT_TIMEOUT_SECONDS = 10.0
WORKER = Path(lambda_worker.__file__).resolve()
IAM_MODULE = WORKER.with_name("iam.py")


@dataclass(frozen=True)
class Outcome:
    """What Lambda hands back to API Gateway: a result (the serialized proxy response) or an error."""

    result: str | None = None
    error: str | None = None  # Lambda's error type: Unhandled, Sandbox.Timedout, RequestTooLarge, ...

    def response(self) -> dict[str, Any] | None:
        return None if self.result is None else dict(json.loads(self.result))


def base_python() -> str:
    """The interpreter under the virtualenv: the workers run without the virtualenv's packages."""
    import sys

    return str(getattr(sys, "_base_executable", None) or sys.executable)


class Environment:
    """One execution environment: a worker process, initialised once, invoked one request at a time."""

    def __init__(self, function: Function, config_path: Path, env: dict[str, str]) -> None:
        to_worker_r, self._to_worker = os.pipe()
        self._from_worker, from_worker_w = os.pipe()
        self.process = subprocess.Popen(
            [base_python(), "-I", "-S", str(WORKER), str(config_path), str(to_worker_r), str(from_worker_w)],
            env=env,
            pass_fds=(to_worker_r, from_worker_w),
            stdin=subprocess.DEVNULL,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.function = function
        if not self._wait_frame(INIT_TIMEOUT_SECONDS):
            self.kill()
            raise RuntimeError(f"{function.logical_id}: the execution environment did not initialise")

    def _wait_frame(self, timeout: float) -> bytes | None:
        """The worker's next frame; None on a timeout, ``b""`` when the worker exited."""
        ready, _, _ = select.select([self._from_worker], [], [], timeout)
        if not ready:
            return None
        return lambda_worker.read_frame(self._from_worker) or b""

    def invoke(self, event_json: str, request_id: str, trace_id: str | None) -> Outcome:
        deadline = time.time() + self.function.timeout
        invocation = (
            f'{{"request_id": {json.dumps(request_id)}, "deadline_ms": {int(deadline * 1000)}, '
            f'"trace_id": {json.dumps(trace_id)}, "event": {event_json}}}'
        )
        lambda_worker.write_frame(self._to_worker, invocation.encode())
        frame = self._wait_frame(self.function.timeout)
        if not frame:  # the function outlived its timeout (Lambda stops the environment), or exited
            self.kill()
            return Outcome(error="Sandbox.Timedout" if frame is None else "Runtime.ExitError")
        reply = json.loads(frame)
        if "error" in reply:
            return Outcome(error="Unhandled")
        result = str(reply["result"])
        if len(result.encode()) > PAYLOAD_MAX_BYTES:
            return Outcome(error="Function.ResponseSizeTooLarge")
        return Outcome(result=result)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_worker, self._from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)


class LocalLambda:
    """Every function of a stack, invoked by logical id."""

    def __init__(  # noqa: PLR0913 - the local Lambda's settings, each named at its one call (serve.py)
        self,
        functions: dict[str, Function],
        *,
        layer_paths: dict[Path, Path],
        runtime_dir: Path,
        workdir: Path,
        dynamodb_endpoint: str | None,
        iam_log: Path | None,
        max_environments: int = 10,
        extra_environment: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.functions = functions
        # Per function (logical id): variables the local machine adds, e.g. the endpoint of Lambda's local API.
        self._extra = extra_environment or {}
        self._layer_paths = layer_paths
        self._runtime_dir = runtime_dir
        self._workdir = workdir
        self._endpoint = dynamodb_endpoint
        self._iam_log = iam_log
        self._max = max_environments
        self._idle: dict[str, list[Environment]] = {name: [] for name in functions}
        self._count: dict[str, int] = dict.fromkeys(functions, 0)
        self._lock = threading.Condition()
        self._closed = False
        workdir.mkdir(parents=True, exist_ok=True)

    def _config(self, function: Function) -> Path:
        path = self._workdir / f"{function.logical_id}.json"
        if not path.exists():  # written once per LocalLambda (its own folder), read by each new environment
            config = {
                "logical_id": function.logical_id,
                "function_name": function.name,
                "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function.name}",
                "memory": function.memory,
                "handler": function.handler,
                "code_dir": str(function.code_dir),
                "layer_paths": [str(self._layer_paths[d] / "python") for d in function.layer_dirs],
                "runtime_dir": str(self._runtime_dir),
                "iam_module": str(IAM_MODULE),
                "statements": function.statements,
                "role_arn": function.role_arn,
                "region": REGION,
                "account": ACCOUNT,
                "iam_log": str(self._iam_log) if self._iam_log else None,
            }
            path.write_text(json.dumps(config))
        return path

    def _environment_variables(self, function: Function) -> dict[str, str]:
        """Lambda's reserved variables, the template's, and the local DynamoDB, S3 and S3 Vectors endpoint."""
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "LAMBDA_RUNTIME_DIR": str(self._runtime_dir),
            "_HANDLER": function.handler,
            "PYTHONUNBUFFERED": "1",
            **function.environment,
        }
        if function.tracing == "Active":
            env["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:2000"
            env["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
        if self._endpoint:  # the embedded moto serves the table, the files bucket and the vector bucket
            env["AWS_ENDPOINT_URL_DYNAMODB"] = self._endpoint
            env["AWS_ENDPOINT_URL_S3"] = self._endpoint
            env["AWS_ENDPOINT_URL_S3VECTORS"] = self._endpoint
        env.update(self._extra.get(function.logical_id, {}))
        return self._layer_files(function, env)

    def _layer_files(self, function: Function, env: dict[str, str]) -> dict[str, str]:
        """A variable naming a file of a layer's root (``/opt/<name>``, where Lambda mounts layers) names the
        same file of this machine's copy of the layer: this machine has no ``/opt`` of layers."""
        for name, value in env.items():
            if value.startswith("/opt/"):
                found = [self._layer_paths[d] / value[5:] for d in function.layer_dirs]
                env[name] = str(next((path for path in found if path.exists()), value))
        return env

    def _acquire(self, name: str) -> Any:
        """An idle environment of function ``name``, or a new one (``Environment``, or ``StreamEnvironment``
        for a function whose own runtime streams its answers)."""
        with self._lock:
            while not self._idle[name] and self._count[name] >= self._max:
                self._lock.wait()
            if self._idle[name]:
                return self._idle[name].pop()
            self._count[name] += 1
        function = self.functions[name]
        config, env = self._config(function), self._environment_variables(function)
        try:
            if runtime_api.is_streaming(env):
                python = runtime_api.python_stand_in(self._workdir, base_python(), WORKER, config)
                layers = json.loads(config.read_text())["layer_paths"]
                return runtime_api.StreamEnvironment(function, env, python, layers)
            return Environment(function, config, env)
        except Exception:
            self._release(name, None)
            raise

    def _release(self, name: str, environment: Any) -> None:
        with self._lock:
            if environment is not None and environment.alive and not self._closed:
                self._idle[name].append(environment)
            else:
                self._count[name] -= 1
                if environment is not None:
                    environment.kill()
            self._lock.notify()

    def invoke(self, name: str, event: dict[str, Any], request_id: str | None = None) -> Outcome:
        """Invoke a function synchronously (RequestResponse), as API Gateway and the stream poller do."""
        event_json = json.dumps(event, ensure_ascii=False)
        if len(event_json.encode()) > PAYLOAD_MAX_BYTES:
            return Outcome(error="RequestTooLarge")
        request_id = request_id or str(uuid.uuid4())
        trace_id = None
        if self.functions[name].tracing == "Active":
            trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
        environment = self._acquire(name)
        try:
            outcome: Outcome = environment.invoke(event_json, request_id, trace_id)
            return outcome
        finally:
            self._release(name, environment)

    def invoke_stream(
        self, name: str, event: dict[str, Any], request_id: str, on_bytes: Callable[[bytes], None]
    ) -> Outcome:
        """Invoke a streaming function as ``InvokeWithResponseStream`` does: each chunk of its answer to
        ``on_bytes`` as the function writes it; the outcome (an error type, or an empty result) at the end."""
        event_json = json.dumps(event, ensure_ascii=False)
        if len(event_json.encode()) > PAYLOAD_MAX_BYTES:
            return Outcome(error="RequestTooLarge")
        environment = self._acquire(name)
        deadline_ms = int((time.time() + self.functions[name].timeout) * 1000)
        invocation = runtime_api.Invocation(request_id, event_json, deadline_ms, None, on_bytes)
        try:
            error: str | None = environment.invoke(invocation)
        finally:
            self._release(name, environment)
        return Outcome(error=error) if error else Outcome(result="")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            environments = [e for idle in self._idle.values() for e in idle]
            for idle in self._idle.values():
                idle.clear()
        for environment in environments:
            environment.kill()
        shutil.rmtree(self._workdir, ignore_errors=True)
