"""The deployed mode's Lambda and API Gateway, proven on a probe function: what a function can import, its
environment, IAM's refusals, and what Lambda and API Gateway answer when a function fails or overflows.

The e2e suite then runs the real functions in this mode (tests/e2e/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from infra import template
from infra.local import dynamodb as local_dynamodb
from infra.local import iam, lambda_build
from infra.local.api_gateway import REQUEST_MAX_BYTES, GatewayApp, LocalApi
from infra.local.edge import Edge
from infra.local.lambda_pool import PAYLOAD_MAX_BYTES, LocalLambda, Outcome
from infra.local.stack import ACCOUNT, REGION, Function
from tests.contract.schemas import assert_valid

pytestmark = pytest.mark.process  # functions in Lambda-like worker processes

PROBE = Path(__file__).parent / "probe"
LAYER = template.ROOT / "functions" / "dependencies"
TABLE = "probe-table"
TABLE_ARN = iam.table_arn(TABLE, REGION, ACCOUNT)


@pytest.fixture(scope="module")
def endpoint() -> str:
    url = local_dynamodb.start_embedded()
    local_dynamodb.create_table(local_dynamodb.client(url), TABLE)
    return url


def _probe(statements: list[dict[str, Any]], timeout: int = 2) -> Function:
    return Function(
        logical_id="ProbeFunction",
        name="local-ProbeFunction",
        handler="probe.handler",
        code_dir=PROBE,
        layer_dirs=(LAYER,),
        runtime="python3.13",
        architectures=("arm64",),
        timeout=timeout,
        memory=256,
        environment={"TABLE_NAME": TABLE, "POWERTOOLS_SERVICE_NAME": "probe"},
        tracing="PassThrough",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/local-ProbeFunctionRole",
        statements=statements,
    )


@pytest.fixture
def make_lambda(endpoint: str, tmp_path: Path) -> Iterator[Any]:
    made: list[LocalLambda] = []

    def make(statements: list[dict[str, Any]] | None = None, timeout: int = 2) -> LocalLambda:
        local = LocalLambda(
            {"ProbeFunction": _probe(statements or [], timeout)},
            layer_paths={LAYER: lambda_build.host_layer(LAYER)},
            runtime_dir=lambda_build.runtime_dir(),
            workdir=tmp_path / f"environments{len(made)}",
            dynamodb_endpoint=endpoint,
            iam_log=tmp_path / "iam.jsonl",
        )
        made.append(local)
        return local

    yield make
    for local in made:
        local.close()


def _body(outcome: Outcome) -> Any:
    response = outcome.response()
    assert response is not None, outcome
    return json.loads(response["body"])


def test_a_function_sees_its_code_the_layer_and_the_runtimes_boto3_and_nothing_else(make_lambda: Any) -> None:
    body = _body(make_lambda().invoke("ProbeFunction", {"action": "environment"}))
    assert body["sys_path"][0] == str(PROBE)
    assert body["sys_path"][1].endswith("/python")
    assert "layer-dependencies" in body["sys_path"][1]
    assert "runtime-" in body["sys_path"][2]
    assert not any("site-packages" in entry or ".venv" in entry for entry in body["sys_path"]), body["sys_path"]
    runtime_pins = dict(
        line.split("==") for line in lambda_build.RUNTIME_REQUIREMENTS.read_text().splitlines() if "==" in line
    )
    assert (body["boto3"], body["botocore"]) == (runtime_pins["boto3"], runtime_pins["botocore"])
    assert body["imports"] == {
        "aws_lambda_powertools": True,
        "pydantic": True,
        "aws_xray_sdk": True,  # Tracing=Active needs it
        "moto": False,
        "yaml": False,
        "pytest": False,
        "infra": False,
    }
    environ = body["environ"]
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "local-ProbeFunction"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert environ["TABLE_NAME"] == TABLE
    assert "VIRTUAL_ENV" not in environ
    assert "PYTHONPATH" not in environ
    assert 0 < body["remaining_ms"] <= 2000


def test_a_call_the_role_does_not_allow_is_refused_as_aws_refuses_it(make_lambda: Any, tmp_path: Path) -> None:
    denied = _body(make_lambda().invoke("ProbeFunction", {"action": "dynamodb"}))
    assert denied["outcome"] == "AccessDeniedException"
    assert f"not authorized to perform: dynamodb:GetItem on resource: {TABLE_ARN}" in denied["message"]
    allowed = [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE_ARN}]
    assert _body(make_lambda(allowed).invoke("ProbeFunction", {"action": "dynamodb"})) == {"outcome": "allowed"}
    log = [json.loads(line) for line in (tmp_path / "iam.jsonl").read_text().splitlines()]
    decisions = [(line["action"], line["allowed"]) for line in log]
    assert decisions == [("dynamodb:GetItem", False), ("dynamodb:GetItem", True)]


def test_lambdas_failures(make_lambda: Any) -> None:
    local = make_lambda(timeout=1)
    assert local.invoke("ProbeFunction", {"action": "raise"}).error == "Unhandled"
    assert local.invoke("ProbeFunction", {"action": "sleep", "seconds": 3}).error == "Sandbox.Timedout"
    assert local.invoke("ProbeFunction", {"action": "exit"}).error == "Runtime.ExitError"
    too_large = local.invoke("ProbeFunction", {"action": "large", "characters": PAYLOAD_MAX_BYTES // 7 + 10})
    assert too_large.error == "Function.ResponseSizeTooLarge"
    assert local.invoke("ProbeFunction", {"padding": "x" * PAYLOAD_MAX_BYTES}).error == "RequestTooLarge"
    assert _body(local.invoke("ProbeFunction", {"action": "echo"})) == {"event": {"action": "echo"}}  # still serving


@pytest.fixture
def gateway(make_lambda: Any) -> Client:
    local = make_lambda(timeout=1)
    app = GatewayApp(LocalApi(Edge(_allow)), lambda route, event: local.invoke("ProbeFunction", event))
    return Client(app)


def _allow(function: str, event: dict[str, Any]) -> Outcome:
    """An authorizer that lets every request through: these tests are about what comes after it."""
    allow = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}
    policy = {"Version": "2012-10-17", "Statement": [allow]}
    answer = {"principalId": "probe", "policyDocument": policy, "context": {"project": "p"}, "usageIdentifierKey": "p"}
    return Outcome(result=json.dumps(answer))


def _gateway_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data()
    body = json.loads(response.get_data())
    assert_valid(body, "ErrorResponse")
    assert response.headers["x-amzn-RequestId"]
    return dict(body["error"])


@pytest.mark.parametrize(
    "query", ["action=raise", "action=sleep&seconds=3", "action=exit", "action=large&characters=900000"]
)
def test_api_gateway_answers_502_in_the_envelope_when_the_function_fails(gateway: Client, query: str) -> None:
    error = _gateway_error(gateway.get(f"/v1/threads?{query}"), 502)
    assert error["type"] == "server_error"
    assert "request id" in error["message"]


def test_api_gateway_refuses_bodies_over_its_limit_and_lambdas(gateway: Client) -> None:
    error = _gateway_error(gateway.post("/v1/threads", data=b"x" * (REQUEST_MAX_BYTES + 1)), 413)
    assert error["code"] == "request_too_large"
    error = _gateway_error(gateway.post("/v1/threads", data=b"x" * (PAYLOAD_MAX_BYTES + 1)), 413)  # the event's
    assert error["code"] == "request_too_large"


def test_a_method_a_resource_lacks_is_api_gateways_404(gateway: Client) -> None:
    error = _gateway_error(gateway.put("/v1/threads"), 404)
    assert error["message"] == "Invalid URL (PUT /v1/threads)"
    assert _gateway_error(gateway.get("/v2/threads"), 404)["message"] == "Invalid URL (GET /v2/threads)"
    unknown = _gateway_error(gateway.get("/v1/fine_tuning/jobs?after=x"), 404)  # no catch-all route, no function
    assert unknown["message"] == "Invalid URL (GET /v1/fine_tuning/jobs)"
