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
    monkeypatch.setattr(lock, "LAYER", layer)
    monkeypatch.setattr(lock, "ROOT", tmp_path)
    assert lock.main(["--check"]) == 1
    assert "run make lock" in capsys.readouterr().err
    assert lock.main([]) == 0
    assert lock.main(["--check"]) == 0
    assert layer.read_text() == lock.layer_requirements()
