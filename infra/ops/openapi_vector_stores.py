"""The vector stores' operations, as the OpenAPI generator (``infra/ops/openapi.py``) documents them beside the
others (``openapi_operations.py``): each path and method, its parameters, its request model (``wire``'s
``vector_store_bodies`` and ``search_bodies``) and OpenAI's response schema.
"""

from __future__ import annotations

from typing import Any

from infra.ops.openapi_operations import FILE_ID, PAGE

# OpenAI's response schemas (the files and vector stores document), and those of its lists whose empty page
# answers first_id/last_id null, as OpenAI does.
RESPONSES = [
    "VectorStoreObject",
    "ListVectorStoresResponse",
    "DeleteVectorStoreResponse",
    "VectorStoreFileObject",
    "ListVectorStoreFilesResponse",
    "DeleteVectorStoreFileResponse",
    "VectorStoreFileBatchObject",
    "VectorStoreFileContentResponse",
    "VectorStoreSearchResultsPage",
]
LISTS = ("ListVectorStoresResponse", "ListVectorStoreFilesResponse")
# The request bodies with a required field (an empty one is a 400); a store's create and modify take none.
REQUIRED_BODIES = {
    "CreateVectorStoreFileRequest",
    "CreateVectorStoreFileBatchRequest",
    "UpdateVectorStoreFileAttributesRequest",
    "VectorStoreSearchRequest",
}

# Taking an Idempotency-Key: the keyed operations without a body, and not the search (a read, never keyed).
KEYED = {"cancelVectorStoreFileBatch"}
UNKEYED = {"searchVectorStore"}

STORE_ID = {"name": "vector_store_id", "in": "path", "required": True, "schema": {"type": "string"}}
BATCH_ID = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}
STORE_FILE = [STORE_ID, FILE_ID]
BATCH = [STORE_ID, BATCH_ID]
STATUS = {
    "name": "filter",
    "in": "query",
    "schema": {"type": "string", "enum": ["in_progress", "completed", "failed", "cancelled"]},
}
STORES = "/vector_stores"
STORE = "/vector_stores/{vector_store_id}"
FILES = f"{STORE}/files"
FILE = f"{FILES}/{{file_id}}"
BATCHES = f"{STORE}/file_batches"
A_BATCH = f"{BATCHES}/{{batch_id}}"

# (method, path, operationId, summary, request model, response schema, parameters), as OPERATIONS.
OPERATIONS: list[tuple[str, str, str, str, str | None, str, list[dict[str, Any]]]] = [
    (
        "post",
        STORES,
        "createVectorStore",
        "Create a vector store.",
        "CreateVectorStoreRequest",
        "VectorStoreObject",
        [],
    ),
    ("get", STORES, "listVectorStores", "List the project's vector stores.", None, "ListVectorStoresResponse", PAGE),
    ("get", STORE, "getVectorStore", "Retrieve a vector store.", None, "VectorStoreObject", [STORE_ID]),
    (
        "post",
        STORE,
        "modifyVectorStore",
        "Modify a vector store.",
        "UpdateVectorStoreRequest",
        "VectorStoreObject",
        [STORE_ID],
    ),
    ("delete", STORE, "deleteVectorStore", "Delete a vector store.", None, "DeleteVectorStoreResponse", [STORE_ID]),
    (
        "post",
        FILES,
        "createVectorStoreFile",
        "Add a file to a vector store (ingested asynchronously).",
        "CreateVectorStoreFileRequest",
        "VectorStoreFileObject",
        [STORE_ID],
    ),
    (
        "get",
        FILES,
        "listVectorStoreFiles",
        "List a vector store's files.",
        None,
        "ListVectorStoreFilesResponse",
        [STORE_ID, *PAGE, STATUS],
    ),
    ("get", FILE, "getVectorStoreFile", "Retrieve a vector store's file.", None, "VectorStoreFileObject", STORE_FILE),
    (
        "post",
        FILE,
        "updateVectorStoreFileAttributes",
        "Set a vector store file's attributes.",
        "UpdateVectorStoreFileAttributesRequest",
        "VectorStoreFileObject",
        STORE_FILE,
    ),
    (
        "delete",
        FILE,
        "deleteVectorStoreFile",
        "Remove a file from a vector store (the file itself stays).",
        None,
        "DeleteVectorStoreFileResponse",
        STORE_FILE,
    ),
    (
        "get",
        f"{FILE}/content",
        "retrieveVectorStoreFileContent",
        "The text parsed from a vector store's file.",
        None,
        "VectorStoreFileContentResponse",
        STORE_FILE,
    ),
    (
        "post",
        BATCHES,
        "createVectorStoreFileBatch",
        "Add a batch of files to a vector store.",
        "CreateVectorStoreFileBatchRequest",
        "VectorStoreFileBatchObject",
        [STORE_ID],
    ),
    ("get", A_BATCH, "getVectorStoreFileBatch", "Retrieve a file batch.", None, "VectorStoreFileBatchObject", BATCH),
    (
        "post",
        f"{A_BATCH}/cancel",
        "cancelVectorStoreFileBatch",
        "Cancel a file batch: its files in progress end cancelled.",
        None,
        "VectorStoreFileBatchObject",
        BATCH,
    ),
    (
        "get",
        f"{A_BATCH}/files",
        "listFilesInVectorStoreBatch",
        "List a file batch's files.",
        None,
        "ListVectorStoreFilesResponse",
        [*BATCH, *PAGE, STATUS],
    ),
    (
        "post",
        f"{STORE}/search",
        "searchVectorStore",
        "Search a vector store's chunks.",
        "VectorStoreSearchRequest",
        "VectorStoreSearchResultsPage",
        [STORE_ID],
    ),
]
