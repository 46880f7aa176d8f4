"""Test set-up shared by every suite: a fake AWS environment, set before any client is built."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "TABLE_NAME": "threads-api-test",
        "BUCKET_NAME": "threads-api-test-files",  # infra.local.stack.bucket_name of the table: the roles name it
        "VECTOR_BUCKET_NAME": "threads-api-test-vectors",  # infra.local.stack.vector_bucket_name, as above
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL_S3", None)
os.environ.pop("AWS_ENDPOINT_URL_S3VECTORS", None)
os.environ.pop("AWS_PROFILE", None)
sys.path.insert(0, str(ROOT / "functions"))

import moto  # noqa: E402,F401 - before any botocore client, so that mock_aws intercepts them all


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Under ``pytest -n 2 --dist loadgroup`` (make test), the end-to-end tests share one worker, and so
    their servers, while the other tests run beside them on the other core."""
    import pytest

    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("e2e"))


# Where the workers of this run hand over what their tests used: a folder of this run's own, so that another
# pytest run on the same tree (a developer's, beside make test) neither reads nor removes it.
USAGE_DIR = ROOT / ".local" / "iam-usage" / f"run-{os.getpid()}"


def pytest_configure_node(node: Any) -> None:
    """xdist's controller, for each worker it starts: the folder of this run."""
    node.workerinput["iam_usage_dir"] = str(USAGE_DIR)


def _usage_dir(session: Any) -> Path:
    worker = getattr(session.config, "workerinput", None)
    return Path(worker["iam_usage_dir"]) if worker is not None else USAGE_DIR


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """After a whole, green run (``make test`` sets CHECK_UNUSED_GRANTS=1): every DynamoDB permission a
    function's policy grants was used by some call of that function, in-process or deployed. Each xdist
    worker hands what its tests used to the controller through a file; the controller decides."""
    if not os.environ.get("CHECK_UNUSED_GRANTS"):
        return
    import json

    from tests import least_privilege

    usage_dir = _usage_dir(session)
    worker = getattr(session.config, "workerinput", None)
    if worker is not None:
        usage_dir.mkdir(parents=True, exist_ok=True)
        (usage_dir / f"{worker['workerid']}.json").write_text(json.dumps(sorted(least_privilege.used)))
        return
    for path in usage_dir.glob("*.json") if usage_dir.exists() else []:
        least_privilege.used.update(tuple(entry) for entry in json.loads(path.read_text()))
    shutil.rmtree(usage_dir, ignore_errors=True)
    if exitstatus != 0:
        return
    unused = least_privilege.unused_grants(os.environ["TABLE_NAME"])
    if unused:
        lines = "\n".join(f"  {function}: {action} on {resource}" for function, action, resource in unused)
        print(f"\nGranted but never used by the code under test (remove them, or test the path):\n{lines}")
        session.exitstatus = 1
