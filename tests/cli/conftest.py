"""The key commands run as an operator runs them: a process of its own, in an environment the test controls."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.dynamodb import create_table, free_port
from tests.cli.forked import zygote

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Run = Callable[..., Result]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A shell with no AWS configuration at all (no region, no credentials) and no local API."""
    return clean_env(tmp_path)


def clean_env(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in {"TABLE_NAME", "STACK", "DEBUG"}
    }
    return clean | {
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",  # no wait on the instance metadata service
        "THREADS_API_STATE": str(tmp_path / "serve.json"),
    }


@pytest.fixture
def run(env: dict[str, str]) -> Run:
    """``python -m infra.ops.keys``, a process of its own (forked from a zygote that has botocore imported)."""

    def run(*args: str, **extra: str) -> Result:
        done = zygote.run("infra.ops.keys", list(args), env | extra, ROOT)
        return Result(done.code, done.stdout, done.stderr)

    return run


def fails(result: Result, code: int, *sentences: str) -> None:
    """The command failed with ``code`` and said each of ``sentences``, without a traceback."""
    assert result.code == code, result.output
    assert "Traceback" not in result.output, result.output
    for sentence in sentences:
        assert sentence in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


@dataclass
class Aws:
    endpoint: str

    def env(self) -> dict[str, str]:
        """Fake credentials and a region, every AWS client pointed at moto's server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def table(self, name: str) -> str:
        create_table(self.client("dynamodb"), name)
        return name

    def stack(self, name: str, outputs: dict[str, str], parameters: dict[str, str] | None = None) -> str:
        template: dict[str, Any] = {
            "Parameters": {key: {"Type": "String"} for key in parameters or {}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        for section, values in (("Outputs", outputs), ("Parameters", parameters)):
            if not values:
                del template[section]
        given = [{"ParameterKey": key, "ParameterValue": value} for key, value in (parameters or {}).items()]
        self.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template), Parameters=given)
        return name


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    """moto's server (DynamoDB, CloudFormation) on a free loopback port.

    A module that uses it starts it with its first test (``pytestmark = pytest.mark.usefixtures("aws")``),
    and it is warmed in the background (moto loads a service on its first
    request, seconds for CloudFormation) while the tests that need no AWS run.
    """
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    aws = Aws(f"http://127.0.0.1:{port}")
    warm = threading.Thread(
        target=lambda: [aws.client("cloudformation").list_stacks(), aws.client("dynamodb").list_tables()]
    )
    warm.start()
    try:
        yield aws
    finally:
        warm.join()
        server.stop()
