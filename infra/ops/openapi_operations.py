"""The API's operations, as the OpenAPI generator (``infra/ops/openapi.py``) documents them: each path and method,
its parameters, request model and response schema, and the errors every operation may answer.
"""

from __future__ import annotations

from typing import Any

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
    "OpenAIFile",
    "ListFilesResponse",
    "DeleteFileResponse",
    "CreateFileRequest",
    "Upload",
    "UploadPart",
    "AddUploadPartRequest",
]

THREAD_ID = {"name": "thread_id", "in": "path", "required": True, "schema": {"type": "string"}}
MESSAGE_ID = {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}
ASSISTANT_ID = {"name": "assistant_id", "in": "path", "required": True, "schema": {"type": "string"}}
RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
STEP_ID = {"name": "step_id", "in": "path", "required": True, "schema": {"type": "string"}}
FILE_ID = {"name": "file_id", "in": "path", "required": True, "schema": {"type": "string"}}
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
RUN = [THREAD_ID, RUN_ID]
FILES_PAGE = [
    {"name": "purpose", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10000}},
    {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}},
    {"name": "after", "in": "query", "schema": {"type": "string"}},
]
# A request body sent as multipart/form-data (OpenAI's schema), and a response of the file's bytes.
FORM_BODIES = {"CreateFileRequest", "AddUploadPartRequest"}
BINARY = "binary"
PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}},
    {"name": "after", "in": "query", "schema": {"type": "string"}},
    {"name": "before", "in": "query", "schema": {"type": "string"}},
]
# OpenAI's include[] of a run's steps (and of createRun's streamed step events): one value, the results' text.
INCLUDE = {
    "name": "include[]",
    "in": "query",
    "description": "Additional fields to include: the only value is "
    "`step_details.tool_calls[*].file_search.results[*].content` (each file_search result's excerpt).",
    "schema": {
        "type": "array",
        "items": {"type": "string", "enum": ["step_details.tool_calls[*].file_search.results[*].content"]},
    },
}

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
    ("post", "/files", "createFile", "Upload a file (multipart/form-data).", "CreateFileRequest", "OpenAIFile", []),
    ("get", "/files", "listFiles", "List the project's files.", None, "ListFilesResponse", FILES_PAGE),
    ("get", "/files/{file_id}", "retrieveFile", "Retrieve a file.", None, "OpenAIFile", [FILE_ID]),
    ("delete", "/files/{file_id}", "deleteFile", "Delete a file.", None, "DeleteFileResponse", [FILE_ID]),
    ("get", "/files/{file_id}/content", "downloadFile", "A file's bytes.", None, BINARY, [FILE_ID]),
    (
        "post",
        "/uploads",
        "createUpload",
        "Create an upload: a file of up to 256 MiB, sent in parts of up to 4 MiB (expires in an hour).",
        "CreateUploadIn",
        "Upload",
        [],
    ),
    (
        "post",
        "/uploads/{upload_id}/parts",
        "addUploadPart",
        "Add a part (multipart/form-data `data`, at most 4 MiB) to a pending upload.",
        "AddUploadPartRequest",
        "UploadPart",
        [UPLOAD_ID],
    ),
    (
        "post",
        "/uploads/{upload_id}/complete",
        "completeUpload",
        "Complete an upload: its parts, in the order listed, become a file (`file` in the answer).",
        "CompleteUploadIn",
        "Upload",
        [UPLOAD_ID],
    ),
    ("post", "/uploads/{upload_id}/cancel", "cancelUpload", "Cancel a pending upload.", None, "Upload", [UPLOAD_ID]),
    ("post", "/threads/runs", "createThreadAndRun", "Create a thread and run it.", "ThreadAndRunIn", "RunObject", []),
    ("post", "/threads/{thread_id}/runs", "createRun", "Create a run.", "RunIn", "RunObject", [THREAD_ID, INCLUDE]),
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
        [*RUN, *PAGE, INCLUDE],
    ),
    (
        "get",
        "/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
        "getRunStep",
        "Retrieve a run step.",
        None,
        "RunStepObject",
        [*RUN, STEP_ID, INCLUDE],
    ),
]
# Request bodies that must be sent (OpenAI's requestBody.required); the others may be empty.
REQUIRED_BODIES = {
    "CreateFileRequest",
    "AddUploadPartRequest",
    "CreateUploadIn",
    "CompleteUploadIn",
    "MessageIn",
    "AssistantIn",
    "RunIn",
    "ThreadAndRunIn",
    "ToolOutputsIn",
}
# An operation without a body that takes an Idempotency-Key (every one with a body does).
KEYED = {"cancelRun", "cancelUpload"}
# Operations that answer ``stream: true`` with server-sent events (the Assistants streaming events).
STREAMING = {"createThreadAndRun", "createRun", "submitToolOuputsToRun"}
ERRORS = {
    "400": "Invalid request: `param` names the field.",
    "401": "No API key, or a wrong or revoked one.",
    "404": "No such object (thread, message, assistant, run, step, file, upload, vector store, batch) in the key's "
    "project.",
    "409": "A request with the same Idempotency-Key is in flight, or the upload is being completed: retry.",
    "413": "The body is over 4 MiB (a file or an upload's part: over 4 MiB, `param` file or data).",
    "429": "Throttled by the stage: retry after `Retry-After`.",
    "503": "DynamoDB, S3 or S3 Vectors throttled or failed: retry after `Retry-After`.",
}
