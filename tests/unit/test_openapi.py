"""The published OpenAPI document: current, complete, and valid."""

from __future__ import annotations

import json

from infra import template
from infra.ops import openapi
from tests.contract.schemas import assert_valid


def test_committed_document_is_what_the_models_generate() -> None:
    assert openapi.OUTPUT.read_text() == openapi.render(), "run: python -m infra.ops.openapi"


def test_every_api_route_of_the_template_is_documented() -> None:
    document = json.loads(openapi.OUTPUT.read_text())
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routes = {(r.method, r.path) for r in template.routes() if r.function != "DocsFunction"}
    assert routes == documented


def test_document_is_valid_openapi_and_its_response_schemas_are_openais() -> None:
    from jsonschema import Draft202012Validator

    document = json.loads(openapi.OUTPUT.read_text())
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises, naming the problem
    thread = {"id": "thread_x", "object": "thread", "created_at": 1, "metadata": {}, "tool_resources": {}}
    assert_valid(thread, "ThreadObject")


def test_docs_handler_serves_the_document_and_a_page() -> None:
    from handlers import docs

    reply = docs.handler({"path": "/openapi.json", "requestContext": {"requestId": "r"}})
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"])["paths"]
    page = docs.handler({"path": "/docs", "requestContext": {"requestId": "r"}})
    assert page["headers"]["content-type"].startswith("text/html")
    assert "openapi.json" in page["body"]
