"""Our copies of OpenAI's reference documents (infra/ops/reference) and of the seed pages (tests/contract/seeds)
are the shared originals, byte for byte. The originals sit in shared/ beside the repository (CI lays them
there); SHARED_DIR names another place. CI fails without them; a developer's clone elsewhere skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.ops.reference import FILES_REFERENCE, REFERENCE, RUNS_REFERENCE
from tests.contract.schemas import SEEDS

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")


def _shared() -> Path:
    if not (SHARED / "reference").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI runs beside shared/, but {SHARED} has no reference/ (set SHARED_DIR)")
        pytest.skip(f"no shared/ at {SHARED}: set SHARED_DIR to check the copies")
    return SHARED


@pytest.mark.parametrize("copy", [REFERENCE, RUNS_REFERENCE, FILES_REFERENCE], ids=lambda p: p.name)
def test_reference_copy_is_the_original(copy: Path) -> None:
    assert copy.read_bytes() == (_shared() / "reference" / copy.name).read_bytes()


def test_seed_copies_are_the_originals() -> None:
    originals = sorted(p.name for p in (_shared() / "seeds").glob("*.txt"))
    assert sorted(p.name for p in SEEDS.glob("*.txt")) == originals
    for name in originals:
        assert (SEEDS / name).read_bytes() == (SHARED / "seeds" / name).read_bytes()
