"""The fields that the vector store bodies share (``vector_store_bodies``, ``search_bodies``): integers and
booleans refused in OpenAI's words, a file's ``attributes``, a ``chunking_strategy``, and the dispatch of an
object to the model its ``type`` names.

That dispatch is by hand, so that a 400's ``param`` names the field itself
(``chunking_strategy.static.chunk_overlap_tokens``, ``filters.filters[0].value``) rather than a member of a union.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from threads_api.domain.vector_stores import MAX_CHUNK_TOKENS, MIN_CHUNK_TOKENS, Chunking
from threads_api.wire.fields import _Body

# OpenAI's (VectorStoreFileAttributes).
ATTRIBUTES_MAX_PAIRS = 16
ATTRIBUTE_KEY_MAX_CHARS = 64
ATTRIBUTE_VALUE_MAX_CHARS = 512


def _an_integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("an_integer_type", "Input should be an integer")  # "expected an integer"
    return value


def _a_boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("a_boolean_type", "Input should be a boolean")
    return value


def _within(low: int, high: int | None) -> Any:
    """A check that an integer is within [low, high], refused in OpenAI's words."""

    def check(value: int) -> int:
        if value < low:
            raise PydanticCustomError(
                "integer_below_min_value",
                "integer below minimum value. Expected a value >= {low}, but got {got} instead.",
                {"low": low, "got": value},
            )
        if high is not None and value > high:
            raise PydanticCustomError(
                "integer_above_max_value",
                "integer above maximum value. Expected a value <= {high}, but got {got} instead.",
                {"high": high, "got": value},
            )
        return value

    return check


def integer(low: int, high: int | None = None) -> tuple[Any, ...]:
    """What makes ``Annotated[int, *integer(low, high)]`` an integer within [low, high] (no boolean, no 1.0)."""
    schema: dict[str, Any] = {"minimum": low} | ({"maximum": high} if high is not None else {})
    return BeforeValidator(_an_integer), AfterValidator(_within(low, high)), Field(json_schema_extra=schema)


Flag = Annotated[bool, BeforeValidator(_a_boolean)]


def _kind(value: Any) -> str:
    return {type(None): "null", dict: "an object", list: "an array"}.get(type(value), "a number that is not finite")


def _check_attributes(value: Any) -> Any:
    """``VectorStoreFileAttributes``: at most 16 keys of at most 64 characters; values strings (at most 512
    characters), numbers or booleans. ``null`` is none."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value  # the type check that follows reports it
    if len(value) > ATTRIBUTES_MAX_PAIRS:
        raise PydanticCustomError(
            "object_above_max_properties",
            "too many properties. Expected an object with at most {most} properties, but got an object with "
            "{got} properties instead.",
            {"most": ATTRIBUTES_MAX_PAIRS, "got": len(value)},
        )
    for key, item in value.items():
        if len(key) > ATTRIBUTE_KEY_MAX_CHARS:
            raise PydanticCustomError(
                "string_above_max_length",
                "key too long. Expected keys of at most {most} characters, but got a key of {got} characters.",
                {"most": ATTRIBUTE_KEY_MAX_CHARS, "got": len(key)},
            )
        if isinstance(item, str) and len(item) > ATTRIBUTE_VALUE_MAX_CHARS:
            raise PydanticCustomError(
                "string_above_max_length",
                "value of '{key}' too long. Expected a string with maximum length {most}, but got a string with "
                "length {got} instead.",
                {"key": key, "most": ATTRIBUTE_VALUE_MAX_CHARS, "got": len(item)},
            )
        if not isinstance(item, str | bool) and not (isinstance(item, int | float) and math.isfinite(item)):
            raise PydanticCustomError(
                "invalid_value",
                "value of '{key}' must be a string, a number or a boolean, but got {got} instead.",
                {"key": key, "got": _kind(item)},
            )
    return value


AttributesIn = Annotated[dict[str, Any], BeforeValidator(_check_attributes)]


def tagged(models: dict[str, type[_Body]], fallback: type[_Body]) -> WrapValidator:
    """An object validated as the model its ``type`` names (``fallback``, which has only ``type``, reports a
    missing or unknown one, naming ``<field>.type``)."""

    def validate(value: Any, _: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(value, dict):
            raise PydanticCustomError("dict_type", "Input should be an object")
        kind = value.get("type")
        return (models.get(kind, fallback) if isinstance(kind, str) else fallback).model_validate(value)

    return WrapValidator(validate)


class AutoChunking(_Body):
    type: Literal["auto"]


class StaticSettings(_Body):
    max_chunk_size_tokens: Annotated[int, *integer(MIN_CHUNK_TOKENS, MAX_CHUNK_TOKENS)]
    chunk_overlap_tokens: Annotated[int, *integer(0)]

    @field_validator("chunk_overlap_tokens")
    @classmethod
    def _at_most_half(cls, value: int, info: ValidationInfo) -> int:
        most = info.data.get("max_chunk_size_tokens")  # absent when it was refused itself
        if most is not None and 2 * value > most:
            raise PydanticCustomError(
                "integer_above_max_value",
                "overlap above half of max_chunk_size_tokens. Expected a value <= {half}, but got {got} instead.",
                {"half": most // 2, "got": value},
            )
        return value


class StaticChunking(_Body):
    type: Literal["static"]
    static: StaticSettings


class _ChunkingType(_Body, extra="allow"):
    type: Literal["auto", "static"]


ChunkingStrategy = Annotated[
    AutoChunking | StaticChunking, tagged({"auto": AutoChunking, "static": StaticChunking}, _ChunkingType)
]


def chunking(strategy: AutoChunking | StaticChunking | None) -> Chunking:
    if isinstance(strategy, StaticChunking):
        return Chunking(strategy.static.max_chunk_size_tokens, strategy.static.chunk_overlap_tokens)
    return Chunking()  # auto, also when none is given
