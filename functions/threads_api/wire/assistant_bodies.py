"""Request bodies of assistants (``CreateAssistantRequest``, ``ModifyAssistantRequest``), and the tools and
response formats that runs take too (``Tools``, ``ResponseFormat``), validated like every body here
(``request_bodies``: strict, unknown fields refused, OpenAI's 400s naming the field)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from threads_api.domain import file_search
from threads_api.domain.records import JsonObject
from threads_api.wire.request_bodies import ID_PATTERN, Metadata, ToolResources, _Body
from threads_api.wire.vector_store_fields import integer, tagged

# OpenAI's bounds (AssistantObject's schema).
NAME_MAX_CHARS = 256
DESCRIPTION_MAX_CHARS = 512
INSTRUCTIONS_MAX_CHARS = 256_000
TOOLS_MAX = 128
MODEL_MAX_CHARS = 256  # ours: a model id is passed through to the provider as it is; none is this long

# A name of a function or a JSON schema: OpenAI's ^[a-zA-Z0-9_-]+$, at most 64 characters (the id alphabet).
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]

# Tools that need a service this stack does not have, and why: refused, never silently dropped.
UNSUPPORTED_TOOLS = {"code_interpreter": "it has no sandbox to execute code in"}
SEARCH_MAX_RESULTS = 50  # OpenAI's (AssistantToolsFileSearch)


def _supported(value: Any) -> Any:
    if isinstance(value, str) and value in UNSUPPORTED_TOOLS:
        raise PydanticCustomError(
            "unsupported_value",
            "'{kind}' tools are not supported by this deployment: {why}. Only 'function' and 'file_search' tools "
            "are supported; run such a tool in your own code and return its result with submit_tool_outputs.",
            {"kind": value, "why": UNSUPPORTED_TOOLS[value]},
        )
    return value  # anything else is the Literal's "Invalid value" that follows


def _between(low: float, high: float) -> Any:
    """A check that a number (an integer is one too) is within [low, high], refused in OpenAI's words."""

    def check(value: float) -> float:
        if low <= value <= high:
            return value
        below = value < low
        bound, expected = ("below minimum", f">= {low:g}") if below else ("above maximum", f"<= {high:g}")
        raise PydanticCustomError(
            "decimal_below_min_value" if below else "decimal_above_max_value",  # OpenAI's codes
            "decimal {bound} value. Expected a value {expected}, but got {got} instead.",
            {"bound": bound, "expected": expected, "got": f"{value:g}"},
        )

    return check


def _a_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        # request_bodies' 400 names the type from the error's kind: "Invalid type ...: expected a number"
        raise PydanticCustomError("a_number_type", "Input should be a number")
    return value


Temperature = Annotated[
    float,
    BeforeValidator(_a_number),
    AfterValidator(_between(0, 2)),
    Field(json_schema_extra={"minimum": 0, "maximum": 2}),
]
TopP = Annotated[
    float,
    BeforeValidator(_a_number),
    AfterValidator(_between(0, 1)),
    Field(json_schema_extra={"minimum": 0, "maximum": 1}),
]


class FunctionDefinition(_Body):
    """``FunctionObject``: what the model is told about a function it may call."""

    name: Name
    description: str | None = None
    parameters: dict[str, Any] | None = None  # a JSON Schema object, passed on to the provider as it is
    strict: bool | None = None


class FunctionTool(_Body):
    """``AssistantToolsFunction``: run by the client (``submit_tool_outputs``)."""

    type: Literal["function"]
    function: FunctionDefinition

    def stored(self) -> JsonObject:
        return self.model_dump(exclude_none=True)


class FileSearchRankingIn(_Body):
    """``FileSearchRankingOptions``: the ranker is taken as a name (results are ranked by score whichever)."""

    ranker: Literal["auto", "default_2024_08_21"] = "auto"
    score_threshold: TopP  # a number within [0, 1], required as OpenAI's schema has it


class FileSearchOptionsIn(_Body):
    max_num_results: Annotated[int, *integer(1, SEARCH_MAX_RESULTS)] | None = None
    ranking_options: FileSearchRankingIn | None = None


class FileSearchTool(_Body):
    """``AssistantToolsFileSearch``: run by the worker, over the assistant's and the thread's vector stores."""

    type: Literal["file_search"]
    file_search: FileSearchOptionsIn | None = None

    def stored(self) -> JsonObject:
        return self.model_dump(exclude_none=True)


class _ToolType(_Body, extra="allow"):
    """Only the ``type`` of a tool: reports a missing, unknown or unsupported one, naming ``tools[i].type``."""

    type: Annotated[Literal["function", "file_search"], BeforeValidator(_supported)]


def _conflict(index: int, loc: tuple[str, ...], message: str, value: Any) -> ValidationError:
    """A 400 naming ``tools[index].<loc>``, from a check of the whole list."""
    error = PydanticCustomError("invalid_value", message)
    details: list[InitErrorDetails] = [{"type": error, "loc": (index, *loc), "input": value}]
    return ValidationError.from_exception_data("Tools", details)


def _one_search(tools: list[FunctionTool | FileSearchTool]) -> list[FunctionTool | FileSearchTool]:
    """At most one file_search tool, and no function of its name beside it (the model could not tell them
    apart)."""
    searches = [i for i, tool in enumerate(tools) if isinstance(tool, FileSearchTool)]
    if len(searches) > 1:
        raise _conflict(searches[1], ("type",), "tools may hold at most one file_search tool.", "file_search")
    for index, tool in enumerate(tools):
        if searches and isinstance(tool, FunctionTool) and tool.function.name == file_search.TOOL_NAME:
            message = "a function may not be named 'file_search' beside the file_search tool."
            raise _conflict(index, ("function", "name"), message, tool.function.name)
    return tools


Tool = Annotated[
    FunctionTool | FileSearchTool, tagged({"function": FunctionTool, "file_search": FileSearchTool}, _ToolType)
]
Tools = Annotated[list[Tool], Field(max_length=TOOLS_MAX), AfterValidator(_one_search)]


def stored_tools(tools: list[FunctionTool | FileSearchTool]) -> list[JsonObject]:
    """Tools as the records and the responses hold them: plain JSON, what was sent (nulls left out)."""
    return [tool.stored() for tool in tools]


class TextFormat(_Body):
    type: Literal["text"]


class JsonObjectFormat(_Body):
    type: Literal["json_object"]


class JsonSchemaSpec(_Body):
    name: Name
    description: str | None = None
    schema_: Annotated[dict[str, Any] | None, Field(alias="schema")] = None  # a JSON Schema object
    strict: bool | None = None


class JsonSchemaFormat(_Body):
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


class _FormatType(_Body, extra="allow"):
    """Only the ``type`` of a response format object: reports a missing or unknown one, naming ``type``."""

    type: Literal["text", "json_object", "json_schema"]


_FORMATS: dict[str, type[_Body]] = {
    "text": TextFormat,
    "json_object": JsonObjectFormat,
    "json_schema": JsonSchemaFormat,
}


def _auto_or_format(value: Any, _: ValidatorFunctionWrapHandler) -> Any:
    """``"auto"`` or the format object its ``type`` names: checked by hand, so that a 400's ``param`` names the
    field itself (``response_format.json_schema.name``) rather than a member of a union."""
    if value == "auto":
        return value
    if isinstance(value, str):
        raise PydanticCustomError("literal_error", "Input should be 'auto'", {"expected": "'auto'"})
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be an object")
    kind = value.get("type")  # any JSON: a list or an object is no format's name (and cannot key a dict)
    return _FORMATS.get(kind if isinstance(kind, str) else "", _FormatType).model_validate(value)


ResponseFormat = Annotated[
    Literal["auto"] | TextFormat | JsonObjectFormat | JsonSchemaFormat, WrapValidator(_auto_or_format)
]


def stored_response_format(value: str | _Body | None) -> str | JsonObject:
    """A response format as the records and the responses hold it: ``"auto"`` (also for null) or its object."""
    if value is None or isinstance(value, str):
        return "auto"
    return value.model_dump(by_alias=True, exclude_none=True)


ModelName = Annotated[str, Field(min_length=1, max_length=MODEL_MAX_CHARS)]
AssistantName = Annotated[str, Field(max_length=NAME_MAX_CHARS)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_CHARS)]
Instructions = Annotated[str, Field(max_length=INSTRUCTIONS_MAX_CHARS)]
# Accepted (OpenAI's schema has it) and not kept: no provider call is made with an assistant's own settings.
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None


class _AssistantFields(_Body):
    model: ModelName
    name: AssistantName | None = None
    description: Description | None = None
    instructions: Instructions | None = None
    reasoning_effort: ReasoningEffort = None
    tools: Tools = Field(default_factory=list)
    tool_resources: ToolResources | None = None
    metadata: Metadata = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    response_format: ResponseFormat | None = None

    def fields(self) -> JsonObject:
        """The assistant's fields as the store keeps them (null: metadata and tool_resources empty,
        response_format ``"auto"``, the others absent)."""
        return {
            "model": self.model,
            "name": self.name,
            "description": self.description,
            "instructions": self.instructions,
            "tools": stored_tools(self.tools),
            "tool_resources": self.tool_resources.stored() if self.tool_resources else {},
            "metadata": self.metadata or {},
            "temperature": self.temperature,
            "top_p": self.top_p,
            "response_format": stored_response_format(self.response_format),
        }


class AssistantIn(_AssistantFields):
    """``CreateAssistantRequest``."""


class AssistantUpdate(_AssistantFields):
    """``ModifyAssistantRequest``: what is sent replaces the stored value, what is omitted is kept, ``null``
    clears (``model`` and ``tools`` are not nullable)."""

    model: ModelName = ""  # omitted: kept

    def changes(self) -> JsonObject:
        """The fields sent, with their stored values, for ``store.update_assistant``."""
        sent = self.model_fields_set
        return {name: value for name, value in self.fields().items() if name in sent}
