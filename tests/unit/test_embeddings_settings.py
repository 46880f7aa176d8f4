"""The embeddings' settings: which embedder the environment builds, with which model and size, the settings
refused (each naming its variable), and what importing and building costs a cold start."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from threads_api import embeddings
from threads_api.embeddings.bedrock import TitanEmbeddings
from threads_api.embeddings.lexical import Lexical
from threads_api.embeddings.openai_compatible import OpenAICompatible

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
SETTINGS = (
    "EMBEDDINGS_PROVIDER",
    "EMBEDDINGS_BASE_URL",
    "EMBEDDINGS_MODEL",
    "EMBEDDINGS_DIMENSIONS",
    "EMBEDDINGS_API_KEY",
    "EMBEDDINGS_API_KEY_PARAMETER",
)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def configure(environment: pytest.MonkeyPatch, **settings: str) -> embeddings.Embedder:
    for name, value in settings.items():
        environment.setenv(f"EMBEDDINGS_{name.upper()}", value)
    return embeddings.from_environment()


def test_the_local_lexical_embedder_is_the_default(environment: pytest.MonkeyPatch) -> None:
    built = embeddings.from_environment()
    assert isinstance(built, Lexical)
    assert (built.name, built.dimensions) == ("local-lexical-v1", 1024)
    # Empty settings are unset ones (the template passes them all), and the others are not read by local.
    assert isinstance(configure(environment, provider=" ", model="whatever", dimensions="x"), Lexical)
    assert isinstance(configure(environment, provider="LOCAL"), Lexical)


def test_openai_defaults_to_text_embedding_3_small_at_its_full_size(environment: pytest.MonkeyPatch) -> None:
    built = configure(environment, provider="openai")
    assert isinstance(built, OpenAICompatible)
    assert (built.name, built.dimensions, built._send_dimensions) == ("text-embedding-3-small", 1536, False)
    assert (built._host, built._path, built._https, built._key) == ("api.openai.com", "/v1/embeddings", True, None)


def test_openai_settings_are_passed_on(environment: pytest.MonkeyPatch) -> None:
    built = configure(
        environment,
        provider="openai",
        base_url="http://127.0.0.1:8002/v1/",
        model="text-embedding-3-large",
        dimensions="256",
        api_key_parameter="/threads-api/embeddings-key",
    )
    assert isinstance(built, OpenAICompatible)
    assert (built.name, built.dimensions, built._send_dimensions) == ("text-embedding-3-large", 256, True)
    assert (built._host, built._port, built._path) == ("127.0.0.1", 8002, "/v1/embeddings")
    assert built._key_parameter == "/threads-api/embeddings-key"


def test_another_models_size_is_required_and_checked_not_sent(environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="EMBEDDINGS_DIMENSIONS must be set for model 'nomic-embed-text'"):
        configure(environment, provider="openai", model="nomic-embed-text")
    built = configure(environment, dimensions="768")
    assert isinstance(built, OpenAICompatible)
    assert (built.dimensions, built._send_dimensions) == (768, False)
    built = configure(environment, model="text-embedding-ada-002", dimensions="1536")
    assert (built.name, built.dimensions) == ("text-embedding-ada-002", 1536)


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"provider": "cohere"}, "EMBEDDINGS_PROVIDER must be local, openai or bedrock, not 'cohere'."),
        ({"provider": "openai", "dimensions": "abc"}, "EMBEDDINGS_DIMENSIONS must be a whole number from 1 to 4096"),
        ({"provider": "openai", "dimensions": "0"}, "EMBEDDINGS_DIMENSIONS must be a whole number"),
        ({"provider": "openai", "model": "m", "dimensions": "5000"}, "EMBEDDINGS_DIMENSIONS must be a whole number"),
        ({"provider": "openai", "dimensions": "2000"}, "EMBEDDINGS_DIMENSIONS must be at most 1536"),
        (
            {"provider": "openai", "model": "text-embedding-ada-002", "dimensions": "512"},
            "EMBEDDINGS_DIMENSIONS must be 1536 for model 'text-embedding-ada-002', not 512.",
        ),
        ({"provider": "openai", "base_url": "api.openai.com/v1"}, "EMBEDDINGS_BASE_URL must be an http(s) URL"),
        ({"provider": "bedrock", "dimensions": "768"}, "EMBEDDINGS_DIMENSIONS must be 256, 512 or 1024"),
        ({"provider": "bedrock", "model": "cohere.embed-english-v3"}, "EMBEDDINGS_MODEL must be Amazon Titan"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_naming_it(
    environment: pytest.MonkeyPatch, settings: dict[str, str], refusal: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(refusal)):
        configure(environment, **settings)


def test_bedrock_is_titan_v2_at_1024_dimensions_by_default(environment: pytest.MonkeyPatch) -> None:
    built = configure(environment, provider="bedrock")
    assert isinstance(built, TitanEmbeddings)
    assert (built.name, built.dimensions) == ("amazon.titan-embed-text-v2:0", 1024)
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"
    built = configure(environment, model=arn, dimensions="512")
    assert (built.name, built.dimensions) == (arn, 512)


def _loaded_after(statement: str, **settings: str) -> list[str]:
    """The modules of interest loaded in a fresh interpreter after ``statement``."""
    prefixes = ("threads_api.embeddings.", "threads_api.providers", "http.client", "ssl", "boto3", "botocore")
    code = (
        f"import json, sys, threads_api.embeddings as e; {statement}; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    environment = {"PATH": "/usr/bin:/bin", **{f"EMBEDDINGS_{k.upper()}": v for k, v in settings.items()}}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=FUNCTIONS, env=environment
    )
    return list(json.loads(out.stdout))


def test_importing_the_package_or_building_the_local_embedder_loads_no_client() -> None:
    """The search API function imports the package: no HTTP client, no botocore, unless the provider needs it."""
    assert _loaded_after("pass") == []
    assert _loaded_after("e.from_environment()") == ["threads_api.embeddings.lexical"]
    bedrock = _loaded_after("e.from_environment()", provider="bedrock")
    assert "threads_api.embeddings.bedrock" in bedrock
    assert not [m for m in bedrock if m.startswith(("boto", "http.client"))]  # the client comes on first use
