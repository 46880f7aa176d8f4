"""What every request body shares: the base model (strict, unknown fields refused), ``metadata`` checked in
OpenAI's words, and ids. Apart from ``request_bodies`` so that the vector stores' fields (``vector_store_fields``)
and ``request_bodies`` (whose thread resources take a chunking strategy) both import it, neither the other."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from threads_api.domain import limits


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _check_metadata(value: Any) -> Any:
    if not isinstance(value, dict):
        return value  # the type check that follows reports it
    if len(value) > limits.METADATA_MAX_PAIRS:
        raise PydanticCustomError(
            "object_above_max_properties",
            "too many properties. Expected an object with at most {most} properties, but got an object with "
            "{got} properties instead.",
            {"most": limits.METADATA_MAX_PAIRS, "got": len(value)},
        )
    for key, item in value.items():
        if len(key) > limits.METADATA_KEY_MAX_CHARS:
            raise PydanticCustomError(
                "string_above_max_length",
                "key too long. Expected keys of at most {most} characters, but got a key of {got} characters.",
                {"most": limits.METADATA_KEY_MAX_CHARS, "got": len(key)},
            )
        if isinstance(item, str) and len(item) > limits.METADATA_VALUE_MAX_CHARS:
            raise PydanticCustomError(
                "string_above_max_length",
                "value of '{key}' too long. Expected a string with maximum length {most}, but got a string with "
                "length {got} instead.",
                {"key": key, "most": limits.METADATA_VALUE_MAX_CHARS, "got": len(item)},
            )
    return value


Metadata = Annotated[dict[str, str] | None, BeforeValidator(_check_metadata)]
# Every id the API accepts (file ids, vector store ids) is 1 to 64 characters of [A-Za-z0-9_-]: stored and
# returned as given, so nothing else (paths, markup, spaces) gets in. The path ids are checked in ``gateway``.
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
FileId = Annotated[str, Field(min_length=1, max_length=limits.ID_MAX_CHARS, pattern=ID_PATTERN)]
