"""Test set-up shared by every suite: a fake AWS environment, set before any client is built."""

from __future__ import annotations

import os
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
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_PROFILE", None)
sys.path.insert(0, str(ROOT / "functions"))

import moto  # noqa: E402,F401 - before any botocore client, so that mock_aws intercepts them all


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """After a whole, green run (``make test`` sets CHECK_UNUSED_GRANTS=1): every DynamoDB permission a
    function's policy grants was used by some call of that function, in-process or deployed."""
    if not os.environ.get("CHECK_UNUSED_GRANTS") or exitstatus != 0:
        return
    from tests import least_privilege

    unused = least_privilege.unused_grants(os.environ["TABLE_NAME"])
    if unused:
        lines = "\n".join(f"  {function}: {action} on {resource}" for function, action, resource in unused)
        print(f"\nGranted but never used by the code under test (remove them, or test the path):\n{lines}")
        session.exitstatus = 1
