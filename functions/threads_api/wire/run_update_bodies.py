"""Request bodies that change a run already there (``ModifyRunRequest``, ``SubmitToolOutputsRunRequest``), apart
from the bodies that create one: the functions that take these never load the assistants' tools and formats
(``assistant_bodies``), which ``run_bodies`` needs, so their cold start stays near the floor."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from threads_api.domain import limits
from threads_api.domain.records import JsonObject
from threads_api.wire.request_bodies import Metadata, _Body


class ModifyRunIn(_Body):
    metadata: Metadata = None


class _ToolOutput(_Body):
    # Any id the API hands out: a model's own up to this length (``lifecycle.tool_call_id``).
    tool_call_id: Annotated[str, Field(min_length=1, max_length=limits.TOOL_CALL_ID_MAX_CHARS)]
    output: Annotated[str, Field(max_length=limits.TOOL_OUTPUT_MAX_CHARS)] = ""


class ToolOutputsIn(_Body):
    tool_outputs: Annotated[list[_ToolOutput], Field(min_length=1, max_length=128)]
    stream: bool | None = None

    def outputs(self) -> list[JsonObject]:
        return [o.model_dump() for o in self.tool_outputs]
