"""Validation of our responses against OpenAI's published schemas (the reference OpenAPI documents).

A schema is looked up by name in the threads document, then in the assistants and runs document.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "openai-threads-openapi.yaml"
RUNS_REFERENCE = HERE / "openai-assistants-runs-openapi.yaml"
SEEDS = HERE / "seeds"
# The shared originals, beside a clone of this repository (CI has them; test_contract checks our copies).
SHARED = HERE.parents[2] / "shared"


@cache
def document() -> dict[str, Any]:
    return dict(yaml.load(REFERENCE.read_text(), Loader=yaml.CSafeLoader))


@cache
def runs_document() -> dict[str, Any]:
    """The assistants and runs document, its OpenAPI 3.0 ``nullable: true`` made JSON Schema's ``null``."""
    return dict(_nullable_as_null(yaml.load(RUNS_REFERENCE.read_text(), Loader=yaml.CSafeLoader)))


def _nullable_as_null(node: Any) -> Any:
    """``{..., nullable: true}`` (and ``allOf: [..., {nullable: true}]``) as ``anyOf: [{...}, {type: null}]``:
    a 2020-12 validator ignores ``nullable``, and would refuse a correct null."""
    if isinstance(node, list):
        return [_nullable_as_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_as_null(value) for key, value in node.items()}
    nullable = node.pop("nullable", False) is True
    if isinstance(node.get("allOf"), list) and {"nullable": True} in node["allOf"]:
        node["allOf"] = [member for member in node["allOf"] if member != {"nullable": True}]
        nullable = True
    return {"anyOf": [node, {"type": "null"}]} if nullable else node


@cache
def _validator(name: str) -> Draft202012Validator:
    root = dict(document()) if name in document()["components"]["schemas"] else dict(runs_document())
    root["$ref"] = f"#/components/schemas/{name}"
    return Draft202012Validator(root)


def assert_valid(instance: Any, name: str) -> None:
    """Fail with every violation of ``components.schemas.<name>``.

    One deliberate leniency: on an empty list OpenAI answers ``first_id``/``last_id`` null, while its
    published ``ListMessagesResponse`` (and ``ListAssistantsResponse``) says string. We answer as OpenAI does
    (README: differences).
    """
    if name.startswith("List") and isinstance(instance, dict) and instance.get("data") == []:
        assert instance.get("first_id") is None and instance.get("last_id") is None
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
