"""Request bodies as pydantic v2 models, and their translation into OpenAI's 400s.

Imported only by the handlers that take a body: the functions that do not, start without pydantic.
Validation is strict (no coercion, unknown fields refused), like OpenAI's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from threads_api.domain import errors, limits
from threads_api.domain.records import JsonObject
from threads_api.domain.vector_stores import STORE_MAX_FILE_IDS, Chunking

# Re-exported: the bodies of assistants, runs and vector stores import them from here, as before.
from threads_api.wire.fields import ID_PATTERN as ID_PATTERN  # noqa: PLC0414
from threads_api.wire.fields import FileId as FileId  # noqa: PLC0414
from threads_api.wire.fields import Metadata as Metadata  # noqa: PLC0414
from threads_api.wire.fields import _Body as _Body  # noqa: PLC0414
from threads_api.wire.fields import _check_metadata as _check_metadata  # noqa: PLC0414
from threads_api.wire.vector_store_fields import ChunkingStrategy, chunking

Detail = Literal["auto", "low", "high"]


# An http(s) URL by RFC 3986's grammar (OpenAI's schema says format: uri): authority, path, query, fragment.
_CH = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})"  # unreserved, sub-delims, percent-encoded
_P = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"  # pchar
_URL = (
    rf"^https?://(?:(?:{_CH}|:)*@)?{_CH}+(?::[0-9]*)?"  # userinfo, host (a reg-name), port
    rf"(?:/{_P}*)*(?:\?(?:{_P}|[/?])*)?(?:#(?:{_P}|[/?])*)?$"  # path, query, fragment
)


class _ImageUrl(_Body):
    url: Annotated[str, Field(max_length=limits.IMAGE_URL_MAX_CHARS, pattern=_URL)]
    detail: Detail = "auto"


class _ImageFile(_Body):
    file_id: FileId
    detail: Detail = "auto"


class TextPart(_Body):
    type: Literal["text"]
    text: Annotated[str, Field(min_length=1)]


class ImageUrlPart(_Body):
    type: Literal["image_url"]
    image_url: _ImageUrl


class ImageFilePart(_Body):
    type: Literal["image_file"]
    image_file: _ImageFile


def _text_as_part(value: Any) -> Any:
    if isinstance(value, str):
        if not value:
            raise PydanticCustomError("empty_string", "empty string. Expected a non-empty string.")
        return [{"type": "text", "text": value}]
    return value


def _text_limit(parts: list[Any]) -> list[Any]:
    chars = sum(len(part.text) for part in parts if isinstance(part, TextPart))
    if chars > limits.MESSAGE_TEXT_MAX_CHARS:
        raise PydanticCustomError(
            "string_above_max_length",
            "content too long. Expected at most {most} characters of text, but got {got} characters instead.",
            {"most": limits.MESSAGE_TEXT_MAX_CHARS, "got": chars},
        )
    return parts


ContentPart = Annotated[TextPart | ImageUrlPart | ImageFilePart, Field(discriminator="type")]
Content = Annotated[
    list[ContentPart],
    Field(min_length=1, max_length=limits.CONTENT_MAX_PARTS),
    BeforeValidator(_text_as_part),
    AfterValidator(_text_limit),
]


class _Tool(_Body):
    type: Literal["code_interpreter", "file_search"]


class Attachment(_Body):
    file_id: FileId
    tools: list[Annotated[_Tool, Field()]] = Field(default_factory=list, max_length=2)


class MessageIn(_Body):
    """``CreateMessageRequest``: a message given at thread creation or appended to a thread."""

    role: Literal["user", "assistant"]
    content: Content
    attachments: Annotated[list[Attachment], Field(max_length=limits.ATTACHMENTS_MAX)] | None = None
    metadata: Metadata = None

    def stored_content(self) -> list[JsonObject]:
        """The content in the response shape: text becomes ``{"value", "annotations"}``."""
        out: list[JsonObject] = []
        for part in self.content:
            if isinstance(part, TextPart):
                out.append({"type": "text", "text": {"value": part.text, "annotations": []}})
            else:
                out.append(part.model_dump())
        return out

    def stored_attachments(self) -> list[JsonObject]:
        return [a.model_dump() for a in self.attachments or []]

    def as_new(self) -> tuple[str, list[JsonObject], list[JsonObject], dict[str, str]]:
        return self.role, self.stored_content(), self.stored_attachments(), self.metadata or {}


class _CodeInterpreter(_Body):
    file_ids: Annotated[list[FileId], Field(max_length=limits.CODE_INTERPRETER_MAX_FILES)] = Field(default_factory=list)


class NewStoreIn(_Body):
    """A ``vector_stores`` helper: a vector store made at the request, with these files, for the object."""

    file_ids: Annotated[list[FileId], Field(max_length=STORE_MAX_FILE_IDS)] = Field(default_factory=list)
    chunking_strategy: ChunkingStrategy | None = None
    metadata: Metadata = None


class _FileSearch(_Body):
    vector_store_ids: Annotated[list[FileId], Field(max_length=limits.FILE_SEARCH_MAX_VECTOR_STORES)] | None = None
    vector_stores: Annotated[list[NewStoreIn], Field(max_length=limits.FILE_SEARCH_MAX_VECTOR_STORES)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> _FileSearch:
        # OpenAI's oneOf: a store given by id, or one made from files, not both (at most one store either way).
        if self.vector_store_ids is not None and self.vector_stores is not None:
            raise PydanticCustomError(
                "invalid_value",
                "give either 'vector_store_ids' or 'vector_stores', not both: a thread or an assistant has at most "
                "one vector store.",
            )
        return self


class ToolResources(_Body):
    code_interpreter: _CodeInterpreter | None = None
    file_search: _FileSearch | None = None

    def stored(self) -> JsonObject:
        """The resources as the records keep them: a ``vector_stores`` helper is never kept (the store it makes
        is, by id: ``tool_resources.stores``)."""
        return self.model_dump(exclude_none=True, exclude={"file_search": {"vector_stores"}})

    def new_store(self) -> tuple[list[str], Chunking, dict[str, str]] | None:
        """The ``vector_stores`` helper's store to make (its files, chunking, metadata), or None."""
        helpers = self.file_search.vector_stores if self.file_search is not None else None
        if not helpers:
            return None
        helper = helpers[0]
        return list(dict.fromkeys(helper.file_ids)), chunking(helper.chunking_strategy), helper.metadata or {}


class CreateThreadIn(_Body):
    messages: Annotated[list[MessageIn], Field(max_length=limits.MESSAGES_PER_CREATE)] | None = None
    tool_resources: ToolResources | None = None
    metadata: Metadata = None


class ModifyThreadIn(_Body):
    """What is sent replaces the stored value; what is omitted is kept; ``null`` clears."""

    tool_resources: ToolResources | None = None
    metadata: Metadata = None


class ModifyMessageIn(_Body):
    metadata: Metadata = None


_TAGS = {"text", "image_url", "image_file"}
_TYPE_NAMES = {
    "dict_type": "an object",
    "model_type": "an object",
    "list_type": "an array",
    "string_type": "a string",
    "literal_error": "one of the supported values",
}


def _param(loc: tuple[int | str, ...]) -> str:
    out = ""
    previous_was_index = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            previous_was_index = True
            continue
        if (previous_was_index and part in _TAGS) or part.startswith(("function-", "nullable[", "choice:")):
            previous_was_index = False
            continue  # the discriminator's tag or a validator's wrapper, not a field
        out += f".{part}" if out else part
        previous_was_index = False
    return out


def _describe(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), "null" if value is None else "a value")


def _api_error(exc: ValidationError) -> errors.Invalid:
    """OpenAI's 400 for the first problem pydantic found, with ``param`` naming the field."""
    error = exc.errors(include_url=False)[0]
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    param = _param(loc)
    if kind == "extra_forbidden":
        return errors.invalid(f"Unrecognized request argument supplied: {param}", param=param)
    if kind == "missing":
        return errors.invalid(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    if kind in ("literal_error", "union_tag_invalid"):
        expected = ctx.get("expected", ctx.get("expected_tags", ""))
        return errors.invalid(
            f"Invalid value: {error['input']!r}. Supported values are: {expected}.", param=param, code="invalid_value"
        )
    if kind == "union_tag_not_found":
        return errors.invalid(
            f"Missing required parameter: '{param}.type'.", param=f"{param}.type", code="missing_required_parameter"
        )
    if kind in _TYPE_NAMES or kind.endswith("_type"):
        expected = _TYPE_NAMES.get(kind, kind.removesuffix("_type").replace("_", " "))
        return errors.invalid(
            f"Invalid type for '{param}': expected {expected}, but got {_describe(error['input'])} instead.",
            param=param,
            code="invalid_type",
        )
    if kind == "too_long":
        return errors.invalid(
            f"Invalid '{param}': array too long. Expected an array with maximum length {ctx.get('max_length')}, "
            f"but got an array with length {ctx.get('actual_length')} instead.",
            param=param,
            code="array_above_max_length",
        )
    if kind == "too_short":
        return errors.invalid(
            f"Invalid '{param}': empty array. Expected an array with minimum length {ctx.get('min_length')}, "
            "but got an empty array instead.",
            param=param,
            code="empty_array",
        )
    if kind == "string_too_short":
        return errors.invalid(
            f"Invalid '{param}': empty string. Expected a non-empty string.", param=param, code="empty_string"
        )
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        return errors.invalid_id(param, limits.ID_MAX_CHARS)
    if kind == "string_pattern_mismatch":
        return errors.invalid(f"Invalid '{param}': expected an absolute http(s) URL.", param=param, code="invalid_url")
    if kind == "string_too_long":
        return errors.invalid(
            f"Invalid '{param}': string too long. Expected a string with maximum length {ctx.get('max_length')}, "
            f"but got a string with length {len(error['input'])} instead.",
            param=param,
            code="string_above_max_length",
        )
    return errors.invalid(f"Invalid '{param}': {error['msg']}", param=param, code=kind)


def parse[M: BaseModel](model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _api_error(exc) from None
