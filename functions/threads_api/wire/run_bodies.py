"""Request bodies of runs (``CreateRunRequest``, ``CreateThreadAndRunRequest``, ``ModifyRunRequest``,
``SubmitToolOutputsRunRequest``), validated like every body here (``request_bodies``); tools and response
formats as assistants take them (``assistant_bodies``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from threads_api.domain import limits
from threads_api.domain.records import JsonObject
from threads_api.wire.assistant_bodies import (
    Instructions,
    ModelName,
    ReasoningEffort,
    ResponseFormat,
    Temperature,
    Tools,
    TopP,
    stored_response_format,
    stored_tools,
)
from threads_api.wire.request_bodies import ID_PATTERN, CreateThreadIn, MessageIn, Metadata, ToolResources, _Body
from threads_api.wire.vector_store_fields import tagged

ObjectId = Annotated[str, Field(min_length=1, max_length=limits.ID_MAX_CHARS, pattern=ID_PATTERN)]
TokenLimit = Annotated[int, Field(ge=256)]


class _Truncation(_Body):
    type: Literal["auto", "last_messages"]
    last_messages: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _count_given(self) -> _Truncation:
        if self.type == "last_messages" and self.last_messages is None:
            raise ValueError("'last_messages' is required when type is 'last_messages'")
        return self


class _NamedFunction(_Body):
    name: str


class _NamedTool(_Body):
    type: Literal["function"]
    function: _NamedFunction


class _NamedSearch(_Body):
    """``{"type": "file_search"}``: the model must search first (``AssistantsNamedToolChoice``)."""

    type: Literal["file_search"]


class _NamedType(_Body, extra="allow"):
    type: Literal["function", "file_search"]


def _choice_kind(value: object) -> str:
    return "choice:object" if isinstance(value, dict) else "choice:string"


_Named = Annotated[_NamedTool | _NamedSearch, tagged({"function": _NamedTool, "file_search": _NamedSearch}, _NamedType)]
# A string ("none", "auto", "required") or a named tool; told apart by type, so that a 400 names the field
# that is wrong (tool_choice.function.name), not a member of the union.
ToolChoice = Annotated[
    Annotated[Literal["none", "auto", "required"], Tag("choice:string")] | Annotated[_Named, Tag("choice:object")],
    Discriminator(_choice_kind),
]


class _RunFields(_Body):
    """What every run takes: its assistant, and that assistant's settings overridden for this run."""

    assistant_id: ObjectId
    model: ModelName | None = None
    instructions: Instructions | None = None
    tools: Tools | None = None
    metadata: Metadata = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stream: bool | None = None
    max_prompt_tokens: TokenLimit | None = None
    max_completion_tokens: TokenLimit | None = None
    truncation_strategy: _Truncation | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: ReasoningEffort = None  # accepted (OpenAI's schema has it); not sent to the provider

    def overrides(self) -> JsonObject:
        """What this body sets for the run, as plain JSON (None: the assistant's setting, or the default)."""
        return {
            "model": self.model,
            "instructions": self.instructions,
            "additional_instructions": getattr(self, "additional_instructions", None),
            "tools": None if self.tools is None else stored_tools(self.tools),
            "metadata": self.metadata,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stream": self.stream,
            "max_prompt_tokens": self.max_prompt_tokens,
            "max_completion_tokens": self.max_completion_tokens,
            "truncation_strategy": self.truncation_strategy.model_dump() if self.truncation_strategy else None,
            "tool_choice": self.tool_choice.model_dump() if isinstance(self.tool_choice, _Body) else self.tool_choice,
            "parallel_tool_calls": self.parallel_tool_calls,
            "response_format": None if self.response_format is None else stored_response_format(self.response_format),
        }


class RunIn(_RunFields):
    """``CreateRunRequest``."""

    additional_instructions: Instructions | None = None
    additional_messages: Annotated[list[MessageIn], Field(max_length=limits.MESSAGES_PER_CREATE)] | None = None


class ThreadAndRunIn(_RunFields):
    """``CreateThreadAndRunRequest``: a new thread (as ``CreateThreadRequest``) and its first run."""

    thread: CreateThreadIn | None = None
    tool_resources: ToolResources | None = None  # the assistant's, for this run: its stores are searched

    def overrides(self) -> JsonObject:
        """As every run's, and the assistant's tool_resources replaced for this run (a ``vector_stores`` helper
        left out: ``tool_resources.stores`` makes its store and gives its id)."""
        resources = self.tool_resources.stored() if self.tool_resources else None
        return {**super().overrides(), "tool_resources": resources}
