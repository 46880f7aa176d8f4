"""``python -m <module>`` without paying for Python's start and botocore's import on every run.

A zygote process imports the third-party packages the commands load (botocore, boto3, werkzeug) once; each
command is a fork of it that takes the test's environment, working directory and arguments, then runs the
module as ``python -m`` does (``runpy``, as ``__main__``). Our own code (``infra``, ``threads_api``) is never
imported by the zygote, so each command imports it afresh, reading the environment the test gave it. The
command is a process of its own: its exit code, stdout and stderr are its own, and nothing it does reaches
the test process. One zygote per test process, started on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

# Runs in the zygote: read one JSON request a line, fork, answer with the child's exit code and output.
_ZYGOTE = r"""
import json, os, runpy, signal, sys, tempfile
import boto3, botocore.session, botocore.client, botocore.config, botocore.exceptions, werkzeug  # noqa
requests, answers = sys.stdin, sys.stdout
for line in requests:
    request = json.loads(line)
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            signal.alarm(request["timeout"])
            sys.path[0] = request["cwd"]
            sys.argv = [request["module"], *request["args"]]
            try:
                runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
                if not isinstance(exit.code, (int, type(None))):
                    print(exit.code, file=sys.stderr)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            import atexit
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    out.seek(0)
    err.seek(0)
    answer = {"code": os.waitstatus_to_exitcode(status), "stdout": out.read().decode(), "stderr": err.read().decode()}
    out.close()
    err.close()
    answers.write(json.dumps(answer) + "\n")
    answers.flush()
"""


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str


class Zygote:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def run(self, module: str, args: list[str], env: dict[str, str], cwd: Path, timeout: int = 30) -> Done:
        """``python -m module *args`` in ``cwd`` with exactly ``env``: its exit code, stdout and stderr."""
        request = {"module": module, "args": args, "env": env, "cwd": str(cwd), "timeout": timeout}
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-c", _ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
                )
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline())
        return Done(answer["code"], answer["stdout"], answer["stderr"])

    def close(self) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait(timeout=10)
            self._process = None


zygote = Zygote()
