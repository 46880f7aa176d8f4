"""``make lock``'s generator of the layer's requirements (infra/ops/lock.py), on a made-up dependency graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra.ops import lock

GRAPH = {
    "app-core": ["helper>=1", "boto3>=1.30", "extra-only; extra == 'all'", "windows-only; sys_platform == 'win32'"],
    "tracing": ["wrapt", "botocore>=1.11", "tracing-extra; extra == 'x'"],
    "helper": ["typing-extensions"],
    "wrapt": ["pytest; extra == 'dev'"],
    "tracing-extra": [],
    "typing-extensions": [],
    "boto3": ["botocore", "jmespath", "s3transfer"],  # never read: the runtime provides it
    "botocore": ["jmespath", "urllib3; python_version >= '3.10'"],
}


def _requires(name: str) -> list[str]:
    assert name not in ("boto3", "botocore"), f"{name} is the runtime's: its dependencies are not the layer's"
    return GRAPH[name]


def test_the_layer_is_what_the_roots_need_on_lambda_less_what_the_runtime_provides() -> None:
    roots = [Requirement("app_core==1.0"), Requirement("Tracing[x]==2.0"), Requirement("boto3>=1.40")]
    needed = lock.closure(roots, _requires, {"boto3", "botocore"}, lock.LAMBDA_ENVIRONMENT)
    assert needed == {
        "app-core": "pyproject.toml",
        "tracing": "pyproject.toml",
        "helper": "app-core",
        "wrapt": "tracing",
        "tracing-extra": "tracing",  # the extra the root asks for
        "typing-extensions": "helper",
    }


def test_pins_are_by_canonical_name_and_comments_are_skipped() -> None:
    text = "# header\nAws_Lambda_Powertools==3.37.0  # via x\n\npydantic[email]==2.13.5\n"
    assert lock.pins(text.splitlines()) == {"aws-lambda-powertools": "3.37.0", "pydantic": "2.13.5"}
    with pytest.raises(lock.LockError, match="not pinned"):
        lock.pins(["pydantic>=2"])


def test_check_fails_on_a_stale_file_and_writing_makes_it_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layer = tmp_path / "requirements.txt"
    layer.write_text("pydantic==2.13.5\n")  # kept by hand: what make lock replaces
    ingest_layer = tmp_path / "ingest" / "requirements.txt"
    ingest_layer.parent.mkdir()
    ingest_layer.write_text(lock.ingest_layer_requirements())  # current: only the other is stale
    monkeypatch.setattr(lock, "LAYER", layer)
    monkeypatch.setattr(lock, "INGEST_LAYER", ingest_layer)
    monkeypatch.setattr(lock, "ROOT", tmp_path)
    assert lock.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "requirements.txt is not what requirements.lock gives: run make lock" in err
    assert "ingest/requirements.txt" not in err
    ingest_layer.write_text("tiktoken==0.14.0\n")
    assert lock.main(["--check"]) == 1
    assert "ingest/requirements.txt is not what" in capsys.readouterr().err
    assert lock.main([]) == 0
    assert lock.main(["--check"]) == 0
    assert layer.read_text() == lock.layer_requirements()
    assert ingest_layer.read_text() == lock.ingest_layer_requirements()


INGEST_GRAPH = {
    "app-core": ["helper", "typing-extensions", "boto3"],
    "helper": [],
    "typing-extensions": [],
    "tokenizer": ["regex", "requests"],
    "requests": ["urllib3", "idna", "certifi"],  # never read: nothing of the layer imports requests
    "docs": ["lxml>=3", "typing-extensions>=4.9", "idna"],
    "regex": [],
    "lxml": ["cssselect; extra == 'cssselect'"],
    "idna": [],
}


def test_the_ingest_layer_is_its_extras_closure_less_the_functions_layer_the_runtime_and_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["app-core==1.0", "boto3>=1.40"]\n'
        '[project.optional-dependencies]\ningest = ["tokenizer==0.14.0", "docs==1.2.0"]\n'
    )
    locked = ["app-core==1.0", "helper==2", "typing_extensions==4.16.0", "tokenizer==0.14.0", "docs==1.2.0"]
    locked += ["regex==2026.1", "lxml==6.2.0", "idna==3.20", "requests==2.34.2", "urllib3==2.8.0", "certifi==1"]
    (tmp_path / "requirements.lock").write_text("\n".join(locked) + "\n")
    monkeypatch.setattr(lock, "PYPROJECT", pyproject)
    monkeypatch.setattr(lock, "LOCK", tmp_path / "requirements.lock")
    monkeypatch.setattr(lock, "NOT_IMPORTED", {"requests": "only for URLs"})

    def requires(name: str) -> list[str]:
        assert name not in ("boto3", "botocore", "requests"), f"{name}'s dependencies are not the ingest layer's"
        return INGEST_GRAPH[name]

    text = lock.ingest_layer_requirements(requires)
    assert text.startswith(lock.INGEST_HEADER)
    assert lock.pins(text.splitlines()) == {
        "docs": "1.2.0",
        "idna": "3.20",  # needed by docs too: only what requests alone needs is left out
        "lxml": "6.2.0",
        "regex": "2026.1",
        "tokenizer": "0.14.0",
    }
    assert "regex==2026.1  # via tokenizer" in text


def test_the_ingest_layers_pins_must_be_the_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = []\n[project.optional-dependencies]\ningest = ["tokenizer==0.15"]\n'
    )
    (tmp_path / "requirements.lock").write_text("tokenizer==0.14.0\n")
    monkeypatch.setattr(lock, "PYPROJECT", pyproject)
    monkeypatch.setattr(lock, "LOCK", tmp_path / "requirements.lock")
    with pytest.raises(lock.LockError, match=r"pyproject.toml pins tokenizer==0.15, requirements.lock has 0.14.0"):
        lock.ingest_layer_requirements(lambda name: [])


def test_the_ingest_layers_requirements_are_generated_from_the_lock_and_up_to_date() -> None:
    """The file sam build installs --no-deps is what the lock gives today, at .venv's versions; it holds
    tiktoken, pypdf and python-docx and what they need, nothing of the functions' layer, the runtime or requests."""
    from importlib.metadata import version as installed

    text = lock.INGEST_LAYER.read_text()
    assert text == lock.ingest_layer_requirements(), "infra/ingest_layer/requirements.txt is stale: run make lock"
    pins = lock.pins(text.splitlines())
    assert {"tiktoken", "pypdf", "python-docx", "regex", "lxml"} <= set(pins)
    assert not set(pins) & {"typing-extensions", "boto3", "botocore", "urllib3", "requests", "idna", "certifi"}
    for name, version in pins.items():
        assert installed(name) == version, f"{name}: .venv has {installed(name)}, the ingest layer {version}"
