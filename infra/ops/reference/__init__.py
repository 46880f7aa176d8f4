"""OpenAI's reference OpenAPI documents (subsets of its published one, copied from the project's shared
reference), read once: the OpenAPI generator (``infra/ops/openapi.py``), the test model server
(``infra/ops/chat_server.py``) and the tests' schema checks all read them here."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "openai-threads-openapi.yaml"
RUNS_REFERENCE = HERE / "openai-assistants-runs-openapi.yaml"
FILES_REFERENCE = HERE / "openai-files-vector-stores-openapi.yaml"


@cache
def document() -> dict[str, Any]:
    return dict(yaml.load(REFERENCE.read_text(), Loader=yaml.CSafeLoader))


@cache
def runs_document() -> dict[str, Any]:
    """The assistants and runs document, its OpenAPI 3.0 ``nullable: true`` made JSON Schema's ``null``."""
    return dict(_nullable_as_null(yaml.load(RUNS_REFERENCE.read_text(), Loader=yaml.CSafeLoader)))


@cache
def files_document() -> dict[str, Any]:
    """The files and vector stores document, its ``nullable: true`` made JSON Schema's ``null`` as above."""
    return dict(_nullable_as_null(yaml.load(FILES_REFERENCE.read_text(), Loader=yaml.CSafeLoader)))


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
