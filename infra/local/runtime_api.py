"""Lambda's Runtime API, locally, for the functions that stream (the deployed mode): each execution
environment is the function's own ``AWS_LAMBDA_EXEC_WRAPPER`` started as Lambda starts it, with
``AWS_LAMBDA_RUNTIME_API`` pointing at a server of this module. The product's runtime loop
(``functions/stream_runtime``) then runs as it does in AWS: it takes each invocation from ``/next`` and
streams its answer to ``/response`` (chunked, ``Lambda-Runtime-Function-Response-Mode: streaming``, an error
in the trailers) or reports ``/error``. Each chunk reaches the caller as it arrives, as Lambda's
``InvokeWithResponseStream`` hands it to API Gateway.

The python the wrapper runs is a stand-in for ``/var/lang/bin/python3``: Lambda's ``sys.path`` only, and every
AWS call checked against the function's role (``lambda_worker.py --as-python``).
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from infra.local.stack import Function

INIT_TIMEOUT_SECONDS = 10.0
TASK_ROOT = "/var/task"  # where Lambda puts the function's code; the template's wrapper path starts there


@dataclass
class Invocation:
    request_id: str
    event_json: str
    deadline_ms: int
    trace_id: str | None
    on_bytes: Callable[[bytes], None]
    error: str | None = None  # Lambda's error type (Unhandled), from /error or the response's trailers
    done: threading.Event = field(default_factory=threading.Event)


class StreamEnvironment:
    """One execution environment of a streaming function: the wrapper's process and its Runtime API."""

    def __init__(self, function: Function, env: dict[str, str], python: str, layers: list[str]) -> None:
        self.function = function
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self.current: Invocation | None = None  # the invocation the runtime took last
        self._ready = threading.Event()
        self.init_error = False
        self._server = _RuntimeApiServer(self)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="runtime-api").start()
        wrapper = env["AWS_LAMBDA_EXEC_WRAPPER"].replace(TASK_ROOT, str(function.code_dir), 1)
        host, port = self._server.server_address[:2]
        self.process = subprocess.Popen(
            ["/bin/sh", wrapper, "/var/runtime/bootstrap"],
            env=env
            | {
                "AWS_LAMBDA_RUNTIME_API": f"{host!s}:{port}",
                "STREAM_RUNTIME_PYTHON": python,  # Lambda's /var/lang/bin/python3
                "STREAM_RUNTIME_LAYERS": ":".join(layers),  # Lambda's /opt/python
            },
            cwd=function.code_dir,
            stdin=subprocess.DEVNULL,
        )
        if not self._ready.wait(INIT_TIMEOUT_SECONDS) or self.init_error:
            self.kill()
            raise RuntimeError(f"{function.logical_id}: the execution environment did not initialise")

    def invoke(self, invocation: Invocation) -> str | None:
        """Run ``invocation``; its chunks go to its ``on_bytes`` as they come. Lambda's error type, or None."""
        self._pending.put(invocation)
        if not invocation.done.wait(self.function.timeout):
            self.kill()  # Lambda stops an environment that outlives its timeout
            return "Sandbox.Timedout"
        return invocation.error

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._server.shutdown()
        self._server.server_close()

    # The Runtime API's side, called by the server's threads.

    def next_invocation(self) -> Invocation:
        self._ready.set()
        invocation = self._pending.get()
        self.current = invocation
        return invocation

    def init_failed(self) -> None:
        self.init_error = True
        self._ready.set()

    def finished(self, request_id: str, error: str | None) -> None:
        invocation = self.current
        if invocation is not None and invocation.request_id == request_id:
            invocation.error = error
            invocation.done.set()


class _RuntimeApiServer(ThreadingHTTPServer):
    """The Runtime API of one execution environment, on a port of its own: its handler finds the environment
    here."""

    daemon_threads = True

    def __init__(self, environment: StreamEnvironment) -> None:
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.environment = environment


class RuntimeApiHandler(BaseHTTPRequestHandler):
    """``/next`` hands the runtime the next invocation; ``/response`` (streamed) or ``/error`` ends it."""

    protocol_version = "HTTP/1.1"

    @property
    def environment(self) -> StreamEnvironment:
        assert isinstance(self.server, _RuntimeApiServer)
        return self.server.environment

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def do_GET(self) -> None:
        if not self.path.endswith("/runtime/invocation/next"):
            self._answer(404, b"")
            return
        invocation = self.environment.next_invocation()
        self._answer(200, invocation.event_json.encode(), self._invocation_headers(invocation))

    def do_POST(self) -> None:
        parts = self.path.strip("/").split("/")  # 2018-06-01/runtime/invocation/<id>/response
        if parts[-2:] == ["init", "error"]:
            self._init_error()
            return
        request_id, kind = parts[-2], parts[-1]
        invocation = self.environment.current
        if kind == "response" and invocation is not None:
            self._response(request_id, invocation)
        else:  # error
            self._body()
            self._answer(202, b"{}")
            self.environment.finished(request_id, "Unhandled")

    def _invocation_headers(self, invocation: Invocation) -> dict[str, str]:
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.environment.function.name,
        }
        if invocation.trace_id:
            headers["Lambda-Runtime-Trace-Id"] = invocation.trace_id
        return headers

    def _init_error(self) -> None:
        self._body()
        self._answer(202, b"{}")
        self.environment.init_failed()

    def _response(self, request_id: str, invocation: Invocation) -> None:
        """The invocation's answer, streamed to its caller; an error type in the trailers makes it Unhandled."""
        trailers = self._stream(invocation.on_bytes)
        error = trailers.get("lambda-runtime-function-error-type")
        self._answer(202, b"{}")
        self.environment.finished(request_id, "Unhandled" if error else None)

    def _stream(self, on_bytes: Callable[[bytes], None]) -> dict[str, str]:
        """A response body, each chunk to ``on_bytes`` as it arrives; the trailers."""
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            on_bytes(self._body())
            return {}
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            on_bytes(self.rfile.read(size))
            self.rfile.readline()  # the chunk's CRLF
        trailers = {}
        while (line := self.rfile.readline().strip()) != b"":
            name, _, value = line.decode().partition(":")
            trailers[name.strip().lower()] = value.strip()
        return trailers

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def python_stand_in(workdir: Path, base_python: str, worker: Path, config_path: Path) -> str:
    """The script the wrapper runs as Lambda's python: the base interpreter, isolated, through the worker's
    ``--as-python`` (Lambda's sys.path from PYTHONPATH, every AWS call IAM-checked)."""
    script = workdir / f"python-{config_path.stem}"
    script.write_text(f'#!/bin/sh\nexec "{base_python}" -I -S "{worker}" --as-python "{config_path}" "$@"\n')
    script.chmod(0o755)
    return str(script)


def is_streaming(env: dict[str, str]) -> bool:
    return bool(env.get("AWS_LAMBDA_EXEC_WRAPPER"))
