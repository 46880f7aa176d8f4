"""``make sam-local``: ``sam local start-api`` (Docker) on the embedded DynamoDB, every function pointed at it.

``sam local start-api`` alone would give each function ``TABLE_NAME=Table`` (it cannot resolve ``!Ref
Table``) and the caller's credentials: the functions would call a real table named ``Table``. This writes an
env-vars file (``sam local start-api --env-vars``) from the template that gives EVERY function the local
table's name and ``AWS_ENDPOINT_URL_DYNAMODB``, the embedded DynamoDB's address as Docker's containers reach
it; the functions that start runs also get ``AWS_ENDPOINT_URL_LAMBDA`` (``sam local start-lambda``, which
accepts ``InvocationType=Event``) and the worker's name there, its logical id; the functions that name the
files bucket (``BUCKET_NAME``) get the local bucket's name and ``AWS_ENDPOINT_URL_S3``, the same moto's
address (it serves S3 too). Then it starts the embedded DynamoDB on all interfaces, creates the table as the
template defines it and the files bucket, and runs ``sam local start-api``.

SAM serves the routes at ``http://127.0.0.1:<port>/threads``: no stage prefix, so the SDK's ``base_url`` is
``http://127.0.0.1:3000`` (not ``/v1``).

Settings (environment): ``SAM_LOCAL_DOCKER_HOST`` (how containers reach this machine; default
``host.docker.internal``, mapped to Docker's host gateway with ``--add-host``), ``SAM_LOCAL_DYNAMODB_PORT``
(8000), ``SAM_LOCAL_LAMBDA_PORT`` (3001), ``PORT`` (3000), ``SAM_LOCAL_ENV_FILE`` (.local/sam-local-env.json).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra import template
from infra.local import stack

TABLE_NAME = "threads-api-sam-local"
BUCKET_NAME = stack.bucket_name(TABLE_NAME)  # as the local stack names its files bucket
ENV_FILE = template.ROOT / ".local" / "sam-local-env.json"
NO_DOCKER = (
    "sam local start-api runs each function in a Docker container, and Docker is not running on this machine "
    "(docker info failed): start Docker, or use make serve, which runs the same template without it."
)


def functions() -> dict[str, dict[str, Any]]:
    """The template's functions (logical id -> resource)."""
    resources = template.load()["Resources"]
    return {name: r for name, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}


def env_vars(dynamodb_endpoint: str, lambda_endpoint: str, table_name: str = TABLE_NAME) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` file's content: per function (by logical id), the variables that point it here.
    ``dynamodb_endpoint`` is the embedded moto's, which serves the files bucket's S3 as well."""
    found: dict[str, dict[str, str]] = {}
    for name, resource in functions().items():
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        values = {"TABLE_NAME": table_name, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint}
        for variable in ("RUN_WORKER_FUNCTION", "INGEST_WORKER_FUNCTION"):  # a worker, on sam local start-lambda
            if variable in variables:
                worker = variables[variable]
                assert isinstance(worker, dict) and set(worker) == {"Ref"}, f"{name}: {variable} {worker!r}"
                values |= {"AWS_ENDPOINT_URL_LAMBDA": lambda_endpoint, variable: str(worker["Ref"])}
        if "STREAM_RUNTIME_OFF" in variables:  # SAM CLI's local API reads no streamed answer: the managed runtime
            values["STREAM_RUNTIME_OFF"] = "1"
        if "BUCKET_NAME" in variables:  # a function of the files bucket: the local one, on the same moto
            values |= {"AWS_ENDPOINT_URL_S3": dynamodb_endpoint, "BUCKET_NAME": stack.bucket_name(table_name)}
        if "VECTOR_BUCKET_NAME" in variables:  # a function of the vector bucket: the local one, on the same moto
            vectors = stack.vector_bucket_name(table_name)
            values |= {"AWS_ENDPOINT_URL_S3VECTORS": dynamodb_endpoint, "VECTOR_BUCKET_NAME": vectors}
        found[name] = values
    return found


def docker_running() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], check=False, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def main() -> int:
    docker_host = os.environ.get("SAM_LOCAL_DOCKER_HOST") or "host.docker.internal"
    dynamodb_port = int(os.environ.get("SAM_LOCAL_DYNAMODB_PORT") or 8000)
    lambda_port = int(os.environ.get("SAM_LOCAL_LAMBDA_PORT") or 3001)
    api_port = int(os.environ.get("PORT") or 3000)
    env_file = Path(os.environ.get("SAM_LOCAL_ENV_FILE") or ENV_FILE)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    variables = env_vars(f"http://{docker_host}:{dynamodb_port}", f"http://{docker_host}:{lambda_port}")
    env_file.write_text(json.dumps(variables, indent=2) + "\n")
    print(
        f"{env_file}: {len(variables)} functions on table {TABLE_NAME} (bucket {BUCKET_NAME}) at "
        f"{docker_host}:{dynamodb_port}"
    )
    if not docker_running():
        print(NO_DOCKER, file=sys.stderr)
        return 2

    from infra.local import dynamodb as local_dynamodb

    endpoint = local_dynamodb.start_embedded(host="0.0.0.0", port=dynamodb_port)  # noqa: S104 - containers reach it
    local_dynamodb.create_table(local_dynamodb.client(endpoint), TABLE_NAME)
    local_dynamodb.create_bucket(local_dynamodb.client(endpoint, "s3"), BUCKET_NAME)
    local_dynamodb.create_vector_bucket(
        local_dynamodb.client(endpoint, "s3vectors"), stack.vector_bucket_name(TABLE_NAME)
    )
    sam = str(Path(sys.executable).parent / "sam")
    common = ["--env-vars", str(env_file), "--region", local_dynamodb.REGION]
    if docker_host == "host.docker.internal":
        common += ["--add-host", "host.docker.internal:host-gateway"]  # Docker Desktop has it; Linux needs it
    print(f"The API: http://127.0.0.1:{api_port} (no /v1: SAM serves without the stage). A key:")
    print(f"  make key PROJECT=local TABLE_NAME={TABLE_NAME} AWS_ENDPOINT_URL_DYNAMODB={endpoint}")
    lambdas = subprocess.Popen([sam, "local", "start-lambda", "--port", str(lambda_port), *common])
    try:
        return subprocess.call([sam, "local", "start-api", "--port", str(api_port), *common])
    finally:
        lambdas.terminate()


if __name__ == "__main__":
    raise SystemExit(main())
