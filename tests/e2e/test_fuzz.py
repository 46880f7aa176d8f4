"""schemathesis against the local API, from the API's own OpenAPI document: no 5xx, every response as documented.

`make test` runs a bounded number of examples (FUZZ_EXAMPLES, 10 by default); `make fuzz` runs many more.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(server: Server, tmp_path: Path) -> None:
    examples = os.environ.get("FUZZ_EXAMPLES", "10")
    schemathesis = Path(sys.executable).parent / "schemathesis"
    run = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{server.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {server.key}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            examples,
            "--workers",
            "2",  # a request crosses three processes (client, gateway, function): two at once keep both cores busy
            "--seed",
            os.environ.get("FUZZ_SEED", "20261123"),
            "--suppress-health-check",
            "all",
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    assert "generated" in summary  # it did run cases
