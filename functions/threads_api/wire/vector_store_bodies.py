"""Request bodies of vector stores, their files and file batches (OpenAI's ``CreateVectorStoreRequest``,
``UpdateVectorStoreRequest``, ``CreateVectorStoreFileRequest``, ``CreateVectorStoreFileBatchRequest``,
``UpdateVectorStoreFileAttributesRequest``), validated like every body here (``request_bodies``: strict, unknown
fields refused, OpenAI's 400s naming the field), and read into plain records for the use cases.

An optional field sent as ``null`` is taken as not sent, except in an update, where ``null`` clears
(``UpdateVectorStoreRequest`` has every field nullable). A search's body is ``search_bodies``'s (named here too).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from threads_api.domain import errors
from threads_api.domain.vector_stores import STORE_MAX_FILE_IDS, Attributes, Chunking, ExpiresAfter
from threads_api.wire.request_bodies import FileId, Metadata, _Body, parse

# Re-exported: the search handler's bodies come from here, as the others' do.
from threads_api.wire.search_bodies import SearchRequest as SearchRequest  # noqa: PLC0414
from threads_api.wire.search_bodies import search_request as search_request  # noqa: PLC0414
from threads_api.wire.vector_store_fields import AttributesIn, ChunkingStrategy, chunking, integer

# OpenAI's bounds (and STORE_MAX_FILE_IDS, the domain's: a thread's vector_stores helper has it too).
BATCH_MAX_FILES = 2000
EXPIRY_MAX_DAYS = 365
# Ours: a store's record stays small.
NAME_MAX_CHARS = 256
DESCRIPTION_MAX_CHARS = 512

StoreName = Annotated[str, Field(max_length=NAME_MAX_CHARS)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_CHARS)]


class ExpiresAfterIn(_Body):
    """``VectorStoreExpirationAfter``."""

    anchor: Literal["last_active_at"]
    days: Annotated[int, *integer(1, EXPIRY_MAX_DAYS)]


def _expires(value: ExpiresAfterIn | None) -> ExpiresAfter | None:
    return None if value is None else ExpiresAfter(days=value.days, anchor=value.anchor)


class CreateVectorStoreRequest(_Body):
    file_ids: Annotated[list[FileId], Field(max_length=STORE_MAX_FILE_IDS)] | None = None
    name: StoreName | None = None
    description: Description | None = None
    expires_after: ExpiresAfterIn | None = None
    chunking_strategy: ChunkingStrategy | None = None
    metadata: Metadata = None


class UpdateVectorStoreRequest(_Body):
    """What is sent replaces the stored value, what is omitted is kept; ``null`` clears (the name becomes
    empty, the metadata empty, and the store no longer expires)."""

    name: StoreName | None = None
    expires_after: ExpiresAfterIn | None = None
    metadata: Metadata = None


class CreateVectorStoreFileRequest(_Body):
    file_id: FileId
    chunking_strategy: ChunkingStrategy | None = None
    attributes: AttributesIn = Field(default_factory=dict)


class CreateVectorStoreFileBatchRequest(_Body):
    """Either ``file_ids`` (the global ``attributes`` and ``chunking_strategy`` apply to each) or ``files``
    (each with its own; the global ones are then ignored, as OpenAI documents)."""

    file_ids: Annotated[list[FileId], Field(min_length=1, max_length=BATCH_MAX_FILES)] | None = None
    files: Annotated[list[CreateVectorStoreFileRequest], Field(min_length=1, max_length=BATCH_MAX_FILES)] | None = None
    chunking_strategy: ChunkingStrategy | None = None
    attributes: AttributesIn = Field(default_factory=dict)


class UpdateVectorStoreFileAttributesRequest(_Body):
    attributes: AttributesIn  # null clears them


# What the bodies are read into.


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET = _Unset.UNSET  # a field an update did not send (``None`` is one sent as null)
type Unset = Literal[_Unset.UNSET]


@dataclass(frozen=True, slots=True)
class NewVectorStore:
    name: str
    description: str | None
    metadata: dict[str, str]
    expires_after: ExpiresAfter | None
    file_ids: list[str]  # each once, in the order first given
    chunking: Chunking  # of the files of file_ids


@dataclass(frozen=True, slots=True)
class VectorStoreUpdate:
    """What an update sets. ``name`` and ``metadata``: ``None`` keeps them (sent as null, they are already what
    null clears them to: ``""`` and ``{}``); ``expires_after``: ``UNSET`` keeps it, ``None`` removes it (the store
    no longer expires)."""

    name: str | None = None
    metadata: dict[str, str] | None = None
    expires_after: ExpiresAfter | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class NewStoreFile:
    file_id: str
    attributes: Attributes
    chunking: Chunking


def new_vector_store(body: dict[str, Any]) -> NewVectorStore:
    request = parse(CreateVectorStoreRequest, body)
    return NewVectorStore(
        name=request.name or "",
        description=request.description,
        metadata=request.metadata or {},
        expires_after=_expires(request.expires_after),
        file_ids=list(dict.fromkeys(request.file_ids or [])),
        chunking=chunking(request.chunking_strategy),
    )


def vector_store_update(body: dict[str, Any]) -> VectorStoreUpdate:
    request = parse(UpdateVectorStoreRequest, body)
    sent = request.model_fields_set
    return VectorStoreUpdate(
        name=request.name or "" if "name" in sent else None,
        metadata=request.metadata or {} if "metadata" in sent else None,
        expires_after=_expires(request.expires_after) if "expires_after" in sent else UNSET,
    )


def _store_file(request: CreateVectorStoreFileRequest) -> NewStoreFile:
    return NewStoreFile(request.file_id, request.attributes, chunking(request.chunking_strategy))


def new_store_file(body: dict[str, Any]) -> NewStoreFile:
    return _store_file(parse(CreateVectorStoreFileRequest, body))


def new_batch(body: dict[str, Any]) -> list[NewStoreFile]:
    """The files of a batch, each once (a file id repeated in ``file_ids`` is taken once; in ``files``, where
    each may have its own attributes, it is refused)."""
    request = parse(CreateVectorStoreFileBatchRequest, body)
    if request.file_ids is not None and request.files is not None:
        raise errors.invalid(
            "Invalid 'files': 'file_ids' and 'files' are mutually exclusive; give one of them.",
            param="files",
            code="invalid_value",
        )
    if request.files is not None:
        seen: dict[str, int] = {}
        for index, item in enumerate(request.files):
            if seen.setdefault(item.file_id, index) != index:
                raise errors.invalid(
                    f"Invalid 'files[{index}].file_id': file '{item.file_id}' is given twice (also in "
                    f"'files[{seen[item.file_id]}]').",
                    param=f"files[{index}].file_id",
                    code="invalid_value",
                )
        return [_store_file(item) for item in request.files]
    if request.file_ids is None:
        raise errors.invalid(
            "Missing required parameter: 'file_ids' (or 'files').",
            param="file_ids",
            code="missing_required_parameter",
        )
    common = chunking(request.chunking_strategy)
    return [NewStoreFile(file_id, dict(request.attributes), common) for file_id in dict.fromkeys(request.file_ids)]


def attributes_update(body: dict[str, Any]) -> Attributes:
    return parse(UpdateVectorStoreFileAttributesRequest, body).attributes
