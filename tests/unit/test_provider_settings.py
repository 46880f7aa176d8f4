"""The providers' settings: which provider the environment chooses, and where its key is read from (SSM,
Secrets Manager), once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.ops.chat_server import ChatServer
from tests.unit.provider_support import HELLO, soon
from threads_api import providers
from threads_api.providers import ProviderError
from threads_api.providers.bedrock import Bedrock
from threads_api.providers.openai_compatible import OpenAICompatible

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No model settings, and no key cached by an earlier test (Powertools caches per process)."""
    for name in (
        "MODEL_PROVIDER",
        "MODEL_BASE_URL",
        "MODEL_API_KEY",
        "MODEL_API_KEY_PARAMETER",
        "MODEL_TIMEOUT_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
    yield monkeypatch
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_no_provider_is_configured_without_settings_or_with_none(environment: pytest.MonkeyPatch) -> None:
    assert providers.from_environment() is None
    environment.setenv("MODEL_PROVIDER", "none")
    environment.setenv("MODEL_BASE_URL", "http://127.0.0.1:1/v1")
    assert providers.from_environment() is None


def test_a_base_url_alone_chooses_the_openai_compatible_provider(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("MODEL_BASE_URL", "http://127.0.0.1:1/v1")
    environment.setenv("MODEL_TIMEOUT_SECONDS", "7.5")
    client = providers.from_environment()
    assert isinstance(client, OpenAICompatible)
    assert client._timeout == 7.5


def test_importing_the_package_loads_neither_provider_nor_http_nor_botocore() -> None:
    """API functions may import the dataclasses; the clients cost only the worker, when it builds one."""
    import subprocess
    import sys

    code = "import sys, threads_api.providers; print(sorted(m for m in sys.modules if m.startswith(PREFIXES)))"
    code = code.replace("PREFIXES", repr(("threads_api.providers.", "http.client", "urllib.request", "botocore")))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=FUNCTIONS)
    assert out.stdout.strip() == "[]"


def test_bedrock_is_chosen_by_name_and_an_unknown_name_is_refused(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("MODEL_PROVIDER", "bedrock")
    assert isinstance(providers.from_environment(), Bedrock)
    environment.setenv("MODEL_PROVIDER", "anthropic")
    with pytest.raises(ValueError, match="openai, bedrock or none"):
        providers.from_environment()


def test_the_key_is_read_from_ssm_once_and_then_cached(environment: pytest.MonkeyPatch, server: ChatServer) -> None:
    environment.setenv("MODEL_BASE_URL", server.url)
    environment.setenv("MODEL_API_KEY_PARAMETER", "/threads-api/model-key")
    with mock_aws():
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/threads-api/model-key", Value="sk-from-ssm", Type="SecureString")
        client = providers.from_environment()
        assert client is not None
        client.complete(HELLO, deadline=soon())
        ssm.delete_parameter(Name="/threads-api/model-key")  # a second read from SSM would now fail
        client.complete(HELLO, deadline=soon())
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer sk-from-ssm"] * 2


def test_a_secretsmanager_key_is_read_from_the_secret(environment: pytest.MonkeyPatch, server: ChatServer) -> None:
    environment.setenv("MODEL_BASE_URL", server.url)
    environment.setenv("MODEL_API_KEY_PARAMETER", "secretsmanager:threads-api/model-key")
    with mock_aws():
        boto3.client("secretsmanager").create_secret(Name="threads-api/model-key", SecretString="sk-from-secret")
        client = providers.from_environment()
        assert client is not None
        client.complete(HELLO, deadline=soon())
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-secret"


def test_a_missing_key_parameter_is_server_error_naming_it(environment: pytest.MonkeyPatch, server: ChatServer) -> None:
    environment.setenv("MODEL_BASE_URL", server.url)
    environment.setenv("MODEL_API_KEY_PARAMETER", "/threads-api/absent")
    with mock_aws(), pytest.raises(ProviderError) as failure:
        client = providers.from_environment()
        assert client is not None
        client.complete(HELLO, deadline=soon())
    assert failure.value.code == "server_error"
    assert "/threads-api/absent" in failure.value.message
    assert server.requests == []
