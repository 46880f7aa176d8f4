"""Generate the API's own OpenAPI document: ``python -m infra.ops.openapi`` writes functions/threads_api/openapi.json.

Request bodies come from our pydantic models; response bodies are OpenAI's published schemas (the
reference document in tests/contract), adjusted where we deliberately differ (README: differences).
The docs function serves the file as it is, so that it starts without pydantic; a test checks that the
committed file is what this generates.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import yaml

from infra import template
from infra.ops.reference import REFERENCE, RUNS_REFERENCE

OUTPUT = template.ROOT / "functions" / "threads_api" / "openapi.json"
# The assistants and runs document: a schema not in the threads document is taken from it.
RESPONSES = [
    "ThreadObject",
    "MessageObject",
    "ListMessagesResponse",
    "DeleteThreadResponse",
    "DeleteMessageResponse",
    "ErrorResponse",
    "AssistantObject",
    "ListAssistantsResponse",
    "DeleteAssistantResponse",
    "RunObject",
    "ListRunsResponse",
    "RunStepObject",
    "ListRunStepsResponse",
]

THREAD_ID = {"name": "thread_id", "in": "path", "required": True, "schema": {"type": "string"}}
MESSAGE_ID = {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}
ASSISTANT_ID = {"name": "assistant_id", "in": "path", "required": True, "schema": {"type": "string"}}
RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
STEP_ID = {"name": "step_id", "in": "path", "required": True, "schema": {"type": "string"}}
RUN = [THREAD_ID, RUN_ID]
PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}},
    {"name": "after", "in": "query", "schema": {"type": "string"}},
    {"name": "before", "in": "query", "schema": {"type": "string"}},
]

# (method, path, operationId, summary, request model, response schema, parameters)
OPERATIONS: list[tuple[str, str, str, str, str | None, str, list[dict[str, Any]]]] = [
    ("post", "/threads", "createThread", "Create a thread.", "CreateThreadIn", "ThreadObject", []),
    (
        "get",
        "/threads",
        "listThreads",
        "List the project's threads (beyond OpenAI).",
        None,
        "ListThreadsResponse",
        PAGE,
    ),
    ("get", "/threads/{thread_id}", "getThread", "Retrieve a thread.", None, "ThreadObject", [THREAD_ID]),
    ("post", "/threads/{thread_id}", "modifyThread", "Modify a thread.", "ModifyThreadIn", "ThreadObject", [THREAD_ID]),
    ("delete", "/threads/{thread_id}", "deleteThread", "Delete a thread.", None, "DeleteThreadResponse", [THREAD_ID]),
    (
        "post",
        "/threads/{thread_id}/messages",
        "createMessage",
        "Create a message.",
        "MessageIn",
        "MessageObject",
        [THREAD_ID],
    ),
    (
        "get",
        "/threads/{thread_id}/messages",
        "listMessages",
        "List a thread's messages.",
        None,
        "ListMessagesResponse",
        [THREAD_ID, *PAGE, {"name": "run_id", "in": "query", "schema": {"type": "string"}}],
    ),
    (
        "get",
        "/threads/{thread_id}/messages/{message_id}",
        "getMessage",
        "Retrieve a message.",
        None,
        "MessageObject",
        [THREAD_ID, MESSAGE_ID],
    ),
    (
        "post",
        "/threads/{thread_id}/messages/{message_id}",
        "modifyMessage",
        "Modify a message.",
        "ModifyMessageIn",
        "MessageObject",
        [THREAD_ID, MESSAGE_ID],
    ),
    (
        "delete",
        "/threads/{thread_id}/messages/{message_id}",
        "deleteMessage",
        "Delete a message.",
        None,
        "DeleteMessageResponse",
        [THREAD_ID, MESSAGE_ID],
    ),
    ("post", "/assistants", "createAssistant", "Create an assistant.", "AssistantIn", "AssistantObject", []),
    ("get", "/assistants", "listAssistants", "List the project's assistants.", None, "ListAssistantsResponse", PAGE),
    (
        "get",
        "/assistants/{assistant_id}",
        "getAssistant",
        "Retrieve an assistant.",
        None,
        "AssistantObject",
        [ASSISTANT_ID],
    ),
    (
        "post",
        "/assistants/{assistant_id}",
        "modifyAssistant",
        "Modify an assistant.",
        "AssistantUpdate",
        "AssistantObject",
        [ASSISTANT_ID],
    ),
    (
        "delete",
        "/assistants/{assistant_id}",
        "deleteAssistant",
        "Delete an assistant.",
        None,
        "DeleteAssistantResponse",
        [ASSISTANT_ID],
    ),
    ("post", "/threads/runs", "createThreadAndRun", "Create a thread and run it.", "ThreadAndRunIn", "RunObject", []),
    ("post", "/threads/{thread_id}/runs", "createRun", "Create a run.", "RunIn", "RunObject", [THREAD_ID]),
    (
        "get",
        "/threads/{thread_id}/runs",
        "listRuns",
        "List a thread's runs.",
        None,
        "ListRunsResponse",
        [THREAD_ID, *PAGE],
    ),
    ("get", "/threads/{thread_id}/runs/{run_id}", "getRun", "Retrieve a run.", None, "RunObject", RUN),
    ("post", "/threads/{thread_id}/runs/{run_id}", "modifyRun", "Modify a run.", "ModifyRunIn", "RunObject", RUN),
    ("post", "/threads/{thread_id}/runs/{run_id}/cancel", "cancelRun", "Cancel a run.", None, "RunObject", RUN),
    (
        "post",
        "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        "submitToolOuputsToRun",
        "Submit the outputs of a run's tool calls.",
        "ToolOutputsIn",
        "RunObject",
        RUN,
    ),
    (
        "get",
        "/threads/{thread_id}/runs/{run_id}/steps",
        "listRunSteps",
        "List a run's steps.",
        None,
        "ListRunStepsResponse",
        [*RUN, *PAGE],
    ),
    (
        "get",
        "/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
        "getRunStep",
        "Retrieve a run step.",
        None,
        "RunStepObject",
        [*RUN, STEP_ID],
    ),
]
# Request bodies that must be sent (OpenAI's requestBody.required); the others may be empty.
REQUIRED_BODIES = {"MessageIn", "AssistantIn", "RunIn", "ThreadAndRunIn", "ToolOutputsIn"}
# Operations that answer ``stream: true`` with server-sent events (the Assistants streaming events).
STREAMING = {"createThreadAndRun", "createRun", "submitToolOuputsToRun"}
ERRORS = {
    "400": "Invalid request: `param` names the field.",
    "401": "No API key, or a wrong or revoked one.",
    "404": "No such object (thread, message, assistant, run, step) in the key's project.",
    "409": "A request with the same Idempotency-Key is in flight: retry.",
    "413": "The body is over 4 MiB.",
    "429": "Throttled by the stage: retry after `Retry-After`.",
    "503": "DynamoDB throttled or failed: retry after `Retry-After`.",
}


def _openai_schemas() -> dict[str, Any]:
    runs = yaml.load(RUNS_REFERENCE.read_text(), Loader=yaml.CSafeLoader)["components"]["schemas"]
    reference = {**runs, **yaml.load(REFERENCE.read_text(), Loader=yaml.CSafeLoader)["components"]["schemas"]}
    wanted: dict[str, Any] = {}

    def take(name: str) -> None:
        if name in wanted:
            return
        wanted[name] = copy.deepcopy(reference[name])
        text = json.dumps(reference[name])
        for ref in sorted({part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}):
            take(ref)

    for name in RESPONSES:
        take(name)
    # Deliberate difference: an empty list answers first_id/last_id null, as OpenAI itself does.
    for name in ("ListMessagesResponse", "ListAssistantsResponse", "ListRunsResponse", "ListRunStepsResponse"):
        for prop in ("first_id", "last_id"):
            wanted[name]["properties"][prop] = {"type": ["string", "null"]}
    wanted["ListThreadsResponse"] = copy.deepcopy(wanted["ListMessagesResponse"])
    wanted["ListThreadsResponse"]["properties"]["data"]["items"] = {"$ref": "#/components/schemas/ThreadObject"}
    return wanted


def build() -> dict[str, Any]:
    sys.path.insert(0, str(template.ROOT / "functions"))
    from pydantic import BaseModel
    from pydantic.json_schema import models_json_schema

    from threads_api.wire import assistant_bodies, request_bodies, run_bodies

    request_models: list[type[BaseModel]] = [
        request_bodies.CreateThreadIn,
        request_bodies.ModifyThreadIn,
        request_bodies.MessageIn,
        request_bodies.ModifyMessageIn,
        assistant_bodies.AssistantIn,
        assistant_bodies.AssistantUpdate,
        run_bodies.RunIn,
        run_bodies.ThreadAndRunIn,
        run_bodies.ModifyRunIn,
        run_bodies.ToolOutputsIn,
    ]
    _, request_schemas = models_json_schema(
        [(m, "validation") for m in request_models], ref_template="#/components/schemas/{model}"
    )
    schemas = {**request_schemas.get("$defs", {}), **_openai_schemas()}
    paths: dict[str, Any] = {}
    for method, path, operation_id, summary, request, response, parameters in OPERATIONS:
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
        if request is not None:
            operation["parameters"] = [
                *parameters,
                {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 255}},
            ]
            operation["requestBody"] = {
                "required": request in REQUIRED_BODIES,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}},
            }
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Threads API",
            "version": "1.0.0",
            "description": "OpenAI's Threads, Messages and Assistants API (client.beta.*), self-hosted on AWS.",
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
