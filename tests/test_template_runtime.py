"""template.yaml's runtime: Python 3.13 on arm64, the layer's requirements from the lock, the key cache's bound
wired to the authorizer, and Lambda's retries of a worker that dies within a run's life."""

from __future__ import annotations

import re

from infra import template
from tests.template_support import _functions, _resources


def test_functions_run_python_3_13_on_arm64() -> None:
    function_globals = template.load()["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    for name, function in _functions().items():
        assert function["Properties"].get("Runtime", "python3.13") == "python3.13", name
        assert function["Properties"].get("Architectures", ["arm64"]) == ["arm64"], name
    layer = _resources()["DependenciesLayer"]
    assert "python3.13" in layer["Properties"]["CompatibleRuntimes"]
    assert "arm64" in layer["Properties"]["CompatibleArchitectures"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}


def test_key_cache_bound_is_wired_from_the_template() -> None:
    """The documented revocation bound (30 s by default) is the parameter the authorizer receives."""
    loaded = template.load()
    variables = loaded["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["KEY_CACHE_SECONDS"] == {"Ref": "KeyCacheSeconds"}
    assert loaded["Parameters"]["KeyCacheSeconds"]["Default"] == 30


def test_layer_requirements_are_generated_from_the_lock_and_up_to_date() -> None:
    """The layer installs exactly its list (--no-deps). ``make lock`` generates it from requirements.lock
    (infra/ops/lock.py): the file is what the lock gives today, holds nothing the runtime provides, and the
    versions the development environment (.venv) tests with."""
    from importlib.metadata import version as installed

    from infra.ops import lock

    text = lock.LAYER.read_text()
    assert text == lock.layer_requirements(), "functions/dependencies/requirements.txt is stale: run make lock"
    pins = lock.pins(text.splitlines())
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.]*", version) for version in pins.values()), pins
    assert {"aws-lambda-powertools", "pydantic", "pydantic-core", "aws-xray-sdk"} <= set(pins)
    assert not {"boto3", "botocore", "s3transfer", "urllib3"} & set(pins), "the Lambda runtime provides these"
    makefile = (template.ROOT / "functions/dependencies/Makefile").read_text()
    assert "--no-deps" in makefile
    assert "manylinux2014_aarch64" in makefile
    assert "--python-version 3.13" in makefile
    for name, version in pins.items():
        assert installed(name) == version, f"{name}: .venv has {installed(name)}, the layer {version}"


def test_lambda_retries_a_worker_that_dies_twice_within_the_runs_life() -> None:
    """README: a worker that dies is retried (after 1 and 3 minutes) under its request id, which takes its run
    up again; a retry later than the run's ten minutes would find it expired."""
    config = _functions()["RunWorkerFunction"]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 600
