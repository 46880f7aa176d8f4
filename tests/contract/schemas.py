"""Validation of our responses against OpenAI's published schemas (the reference OpenAPI documents).

A schema is looked up by name in the threads document, then in the assistants and runs document, then in the
files and vector stores document.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from infra.ops.reference import document, files_document, runs_document

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"


@cache
def _validator(name: str) -> Draft202012Validator:
    for source in (document, runs_document, files_document):
        if name in source()["components"]["schemas"]:
            root = dict(source())
            break
    else:
        raise KeyError(f"no schema {name} in the reference documents")
    root["$ref"] = f"#/components/schemas/{name}"
    return Draft202012Validator(root)


def assert_valid(instance: Any, name: str) -> None:
    """Fail with every violation of ``components.schemas.<name>``.

    One deliberate leniency: on an empty list OpenAI answers ``first_id``/``last_id`` null, while its
    published ``ListMessagesResponse`` (and ``ListAssistantsResponse``) says string. We answer as OpenAI does
    (README: differences).
    """
    if name.startswith("List") and isinstance(instance, dict) and instance.get("data") == []:
        assert instance.get("first_id") is None
        assert instance.get("last_id") is None
        instance = copy.deepcopy(instance) | {"first_id": "", "last_id": ""}
    problems = sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not problems, f"not a valid {name}: " + "; ".join(
        f"{'/'.join(map(str, p.path))}: {p.message[:200]}" for p in problems
    )


def assert_error(body: Any, status: int, *, param: str | None = None, contains: str = "") -> None:
    assert_valid(body, "ErrorResponse")
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if status < 500:
        assert error["type"] in ("invalid_request_error", "idempotency_error") or status == 429
    if param is not None:
        assert error["param"] == param, error
    assert contains in error["message"], error
