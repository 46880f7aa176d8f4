"""What the key command tests share: the local API's state file, as ``make serve`` writes it."""

from __future__ import annotations

import json
from pathlib import Path


def _state(env: dict[str, str], **state: object) -> Path:
    path = Path(env["THREADS_API_STATE"])
    path.write_text(json.dumps({"base_url": "http://127.0.0.1:3000/v1", "table": "threads-api-local"} | state))
    return path
