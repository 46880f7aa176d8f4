"""Generate the API's own OpenAPI document: ``python -m infra.ops.openapi`` writes functions/threads_api/openapi.json.

Request bodies come from our pydantic models; response bodies are OpenAI's published schemas (the
reference document in tests/contract), adjusted where we deliberately differ (README: differences).
The docs function serves the file as it is, so that it starts without pydantic; a test checks that the
committed file is what this generates. The operations it documents are listed in ``openapi_operations.py``
(the vector stores' in ``openapi_vector_stores.py``).
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import yaml

from infra import template
from infra.ops import openapi_vector_stores as vector_stores
from infra.ops.openapi_operations import (
    BINARY,
    ERRORS,
    FORM_BODIES,
    KEYED,
    OPERATIONS,
    REQUIRED_BODIES,
    RESPONSES,
    STREAMING,
)
from infra.ops.reference import FILES_REFERENCE, REFERENCE, RUNS_REFERENCE

OUTPUT = template.ROOT / "functions" / "threads_api" / "openapi.json"


def _openai_schemas() -> dict[str, Any]:
    runs = yaml.load(RUNS_REFERENCE.read_text(), Loader=yaml.CSafeLoader)["components"]["schemas"]
    files = yaml.load(FILES_REFERENCE.read_text(), Loader=yaml.CSafeLoader)["components"]["schemas"]
    threads = yaml.load(REFERENCE.read_text(), Loader=yaml.CSafeLoader)["components"]["schemas"]
    reference = {**files, **runs, **threads}
    wanted: dict[str, Any] = {}

    def take(name: str) -> None:
        if name in wanted:
            return
        wanted[name] = copy.deepcopy(reference[name])
        text = json.dumps(reference[name])
        for ref in sorted({part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}):
            take(ref)

    for name in [*RESPONSES, *vector_stores.RESPONSES]:
        take(name)
    # Deliberate difference: an empty list answers first_id/last_id null, as OpenAI itself does.
    lists = ("ListMessagesResponse", "ListAssistantsResponse", "ListRunsResponse", "ListRunStepsResponse")
    for name in (*lists, "ListFilesResponse", *vector_stores.LISTS):
        for prop in ("first_id", "last_id"):
            wanted[name]["properties"][prop] = {"type": ["string", "null"]}
    wanted["ListThreadsResponse"] = copy.deepcopy(wanted["ListMessagesResponse"])
    wanted["ListThreadsResponse"]["properties"]["data"]["items"] = {"$ref": "#/components/schemas/ThreadObject"}
    return wanted


def _request_schemas() -> dict[str, Any]:
    """The request bodies' JSON schemas, from our pydantic models."""
    sys.path.insert(0, str(template.ROOT / "functions"))
    from pydantic import BaseModel
    from pydantic.json_schema import models_json_schema

    from threads_api.wire import (
        assistant_bodies,
        request_bodies,
        run_bodies,
        run_update_bodies,
        search_bodies,
        upload_bodies,
        vector_store_bodies,
    )

    request_models: list[type[BaseModel]] = [
        request_bodies.CreateThreadIn,
        request_bodies.ModifyThreadIn,
        request_bodies.MessageIn,
        request_bodies.ModifyMessageIn,
        assistant_bodies.AssistantIn,
        assistant_bodies.AssistantUpdate,
        run_bodies.RunIn,
        run_bodies.ThreadAndRunIn,
        run_update_bodies.ModifyRunIn,
        run_update_bodies.ToolOutputsIn,
        vector_store_bodies.CreateVectorStoreRequest,
        vector_store_bodies.UpdateVectorStoreRequest,
        vector_store_bodies.CreateVectorStoreFileRequest,
        vector_store_bodies.CreateVectorStoreFileBatchRequest,
        vector_store_bodies.UpdateVectorStoreFileAttributesRequest,
        search_bodies.VectorStoreSearchRequest,
        upload_bodies.CreateUploadIn,
        upload_bodies.CompleteUploadIn,
    ]
    _, request_schemas = models_json_schema(
        [(m, "validation") for m in request_models], ref_template="#/components/schemas/{model}"
    )
    return dict(request_schemas.get("$defs", {}))


def _operation(
    operation_id: str, summary: str, request: str | None, response: str, parameters: list[dict[str, Any]]
) -> dict[str, Any]:
    """One operation's object: its parameters, its body (when it takes one), its answers and errors."""
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{response}"}}},
            },
            **{
                status: {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                }
                for status, text in ERRORS.items()
            },
        },
    }
    if operation_id in STREAMING:
        operation["responses"]["200"]["content"]["text/event-stream"] = {
            "schema": {"type": "string", "description": "With stream: true, the Assistants streaming events."}
        }
    if response == BINARY:
        operation["responses"]["200"]["content"] = {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
        }
        operation["responses"]["302"] = {
            "description": "A file over 4 MiB (an upload's): its bytes at Location, a presigned S3 URL valid for "
            "5 minutes (the SDK follows it).",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        }
    keyed = request is not None or operation_id in KEYED | vector_stores.KEYED
    if keyed and operation_id not in vector_stores.UNKEYED:
        operation["parameters"] = [
            *parameters,
            {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 255}},
        ]
    if request is not None:
        operation["requestBody"] = {
            "required": request in REQUIRED_BODIES | vector_stores.REQUIRED_BODIES,
            "content": {
                "multipart/form-data" if request in FORM_BODIES else "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{request}"}
                }
            },
        }
    return operation


def build() -> dict[str, Any]:
    schemas = {**_request_schemas(), **_openai_schemas()}
    paths: dict[str, Any] = {}
    for method, path, operation_id, summary, request, response, parameters in OPERATIONS + vector_stores.OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(operation_id, summary, request, response, parameters)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Threads API",
            "version": "1.0.0",
            "description": (
                "OpenAI's Threads, Messages and Assistants API (client.beta.*), with its Files and Vector Stores, "
                "self-hosted on AWS."
            ),
        },
        "servers": [{"url": "/v1"}],
        "security": [{"bearer": []}, {"portkey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "portkey": {"type": "apiKey", "in": "header", "name": "x-portkey-api-key"},
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(template.ROOT)}")
