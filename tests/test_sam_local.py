"""``make sam-local`` without Docker: the env-vars file it gives ``sam local start-api``, what it says when
Docker is absent, and SAM's own routes (its translation of the template) against docs/api.md's endpoint table."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import template
from infra.local import sam_local, stack

DYNAMODB = "http://host.docker.internal:8000"
LAMBDA = "http://host.docker.internal:3001"


def _functions() -> dict[str, Any]:
    resources = template.load()["Resources"]
    return {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def test_every_function_gets_the_local_table_and_dynamodb_endpoint() -> None:
    variables = sam_local.env_vars(DYNAMODB, LAMBDA)
    assert set(variables) == set(_functions())
    for name, values in variables.items():
        assert values["TABLE_NAME"] == sam_local.TABLE_NAME != "Table", name
        assert values["AWS_ENDPOINT_URL_DYNAMODB"] == DYNAMODB, name


def test_sam_applies_every_variable_because_the_template_declares_it() -> None:
    """sam local start-api's --env-vars overrides only the variables a function declares (Globals included)."""
    deployed = stack.load(template.TEMPLATE)
    for name, values in sam_local.env_vars(DYNAMODB, LAMBDA).items():
        declared = deployed.functions[name].environment
        assert set(values) <= set(declared), f"{name}: {set(values) - set(declared)} would be ignored"
        # Deployed, the endpoints are empty: botocore then uses AWS's own.
        assert declared["AWS_ENDPOINT_URL_DYNAMODB"] == "", name
        assert declared["AWS_ENDPOINT_URL_LAMBDA"] == "", name
        assert declared["AWS_ENDPOINT_URL_S3"] == "", name


def test_functions_that_start_runs_invoke_the_worker_on_sam_local_start_lambda() -> None:
    """The functions that start runs or ingestions invoke their worker on sam local start-lambda."""
    variables = sam_local.env_vars(DYNAMODB, LAMBDA)
    starters = {
        name: variable
        for name, f in _functions().items()
        for variable in ("RUN_WORKER_FUNCTION", "INGEST_WORKER_FUNCTION")
        if variable in ((f["Properties"].get("Environment") or {}).get("Variables") or {})
    }
    assert set(starters.values()) == {"RUN_WORKER_FUNCTION", "INGEST_WORKER_FUNCTION"}
    for name, values in variables.items():
        if name in starters:
            assert values["AWS_ENDPOINT_URL_LAMBDA"] == LAMBDA, name
            assert values[starters[name]] in _functions(), name  # start-lambda knows functions by logical id
        else:
            assert "AWS_ENDPOINT_URL_LAMBDA" not in values, name


def test_the_files_functions_get_the_bucket_on_the_embedded_moto() -> None:
    """The functions that name the files bucket get the local one, on the S3 of the moto that serves the table."""
    variables = sam_local.env_vars(DYNAMODB, LAMBDA)
    with_bucket = {
        name
        for name, f in _functions().items()
        if "BUCKET_NAME" in ((f["Properties"].get("Environment") or {}).get("Variables") or {})
    }
    assert {"CreateFileFunction", "RetrieveFileContentFunction", "DeleteFileFunction"} <= with_bucket
    for name, values in variables.items():
        if name in with_bucket:
            assert values["BUCKET_NAME"] == sam_local.BUCKET_NAME == stack.bucket_name(sam_local.TABLE_NAME), name
            assert values["AWS_ENDPOINT_URL_S3"] == DYNAMODB, name  # the same moto serves the table and S3
        else:
            assert not {"BUCKET_NAME", "AWS_ENDPOINT_URL_S3"} & set(values), name


def test_with_docker_it_creates_the_table_and_the_bucket_then_runs_sam(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.local import dynamodb as local_dynamodb

    made: list[tuple[str, str]] = []
    ran: list[list[str]] = []

    class Client:
        def __init__(self, service: str) -> None:
            self.service = service

    class Lambdas:
        def terminate(self) -> None:
            ran.append(["terminated"])

    monkeypatch.setenv("SAM_LOCAL_ENV_FILE", str(tmp_path / "env.json"))
    monkeypatch.setattr(sam_local, "docker_running", lambda: True)
    monkeypatch.setattr(local_dynamodb, "start_embedded", lambda host, port: f"http://127.0.0.1:{port}")
    monkeypatch.setattr(local_dynamodb, "client", lambda endpoint, service="dynamodb": Client(service))
    monkeypatch.setattr(local_dynamodb, "create_table", lambda c, name: made.append((c.service, name)))
    monkeypatch.setattr(local_dynamodb, "create_bucket", lambda c, name: made.append((c.service, name)))
    monkeypatch.setattr(local_dynamodb, "create_vector_bucket", lambda c, name: made.append((c.service, name)))

    def popen(args: list[str]) -> Lambdas:
        ran.append(args)
        return Lambdas()

    def call(args: list[str]) -> int:
        ran.append(args)
        return 0

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(subprocess, "call", call)
    assert sam_local.main() == 0
    assert made == [
        ("dynamodb", sam_local.TABLE_NAME),
        ("s3", sam_local.BUCKET_NAME),
        ("s3vectors", stack.vector_bucket_name(sam_local.TABLE_NAME)),
    ]
    assert [args[1:3] for args in ran[:2]] == [["local", "start-lambda"], ["local", "start-api"]]
    assert ran[2] == ["terminated"]


def test_without_docker_it_writes_the_file_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "env.json"
    monkeypatch.setenv("SAM_LOCAL_ENV_FILE", str(env_file))
    monkeypatch.setenv("SAM_LOCAL_DOCKER_HOST", "172.17.0.1")
    monkeypatch.setattr(sam_local, "docker_running", lambda: False)
    assert sam_local.main() == 2
    assert "Docker is not running" in capsys.readouterr().err
    written = json.loads(env_file.read_text())
    assert set(written) == set(_functions())
    assert all(v["AWS_ENDPOINT_URL_DYNAMODB"] == "http://172.17.0.1:8000" for v in written.values())


# -- SAM's routes and docs/api.md's endpoint table ---------------------------------------------------


def _sam_routes() -> set[tuple[str, str]]:
    """(method, path) of every operation of the REST API SAM generates from the template."""
    cfn = stack.translate(template.TEMPLATE)
    (api,) = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    routes = set()
    for path, methods in api["Properties"]["Body"]["paths"].items():
        for method in methods:
            verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            routes.add((verb, path))
    return routes


def _documented_endpoints() -> set[tuple[str, str]]:
    """docs/api.md's endpoint table: `POST /v1/threads`, `GET`, `POST /v1/x` and `.../steps/{step_id}` forms."""
    text = (template.ROOT / "docs" / "api.md").read_text()
    section = text.split("\n## Endpoints\n", 1)[1].split("\n#", 1)[0]
    found: set[tuple[str, str]] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        methods: list[str] = []
        last_path = ""
        for token in re.findall(r"`([^`]+)`", cell):
            if re.fullmatch(r"[A-Z]+", token):
                methods.append(token)
                continue
            match = re.fullmatch(r"([A-Z]+) (/\S+)", token)
            if match:
                methods.append(match.group(1))
                path = match.group(2)
            else:
                assert token.startswith(".../"), token
                head = token.removeprefix(".../").split("/", 1)[0]
                path = last_path[: last_path.rindex(f"/{head}")] + token.removeprefix("...")
            found |= {(method, path) for method in methods}
            last_path = path
    return found


def test_sams_routes_are_the_documented_endpoint_table() -> None:
    stage = f"/{template.stage()}"
    documented = {(method, path.removeprefix(stage)) for method, path in _documented_endpoints()}
    assert all(path.startswith(stage) for _method, path in _documented_endpoints())
    # Beyond the operations: the API's own description (docs/api.md). No catch-all: API Gateway answers an
    # unknown route itself (its MISSING_AUTHENTICATION_TOKEN response, OpenAI's 404).
    others = {(m, p) for m, p in _sam_routes() if m == "ANY" or p in {"/docs", "/openapi.json"}}
    assert others == {("GET", "/docs"), ("GET", "/openapi.json")}
    assert _sam_routes() - others == documented
