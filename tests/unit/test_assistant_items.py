"""An assistant's item, encoded and decoded without DynamoDB, and the bound that keeps it one item."""

from __future__ import annotations

import dataclasses
import random
import zlib
from typing import Any

import pytest

from threads_api.domain import errors, limits
from threads_api.domain.errors import InvalidText
from threads_api.domain.records import Assistant
from threads_api.http.errors import from_exception
from threads_api.store import assistants, item_size

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


def _assistant(**changes: Any) -> Assistant:
    base = Assistant(
        id="asst_x",
        created_at=1_700_000_000,
        model="gpt-4o",
        name="n",
        description="d",
        instructions="i",
        tools=[TOOL],
        tool_resources={"code_interpreter": {"file_ids": ["file-1"]}},
        metadata={"k": "v"},
        temperature=0.7,
        top_p=1.0,
        response_format={"type": "json_object"},
    )
    return dataclasses.replace(base, **changes)


def test_every_record_field_has_an_attribute() -> None:
    assert {f.name for f in dataclasses.fields(Assistant)} == {"id", "created_at", *assistants.ATTRIBUTES}


def test_the_key_puts_an_assistant_in_its_projects_partition() -> None:
    assert assistants.assistant_key("alpha", "asst_x") == {"pk": {"S": "assistants#alpha"}, "sk": {"S": "asst#asst_x"}}
    item = assistants.assistant_item("alpha", _assistant(), "0001")
    assert item["pk"] == {"S": "assistants#alpha"}
    assert item["ok"] == {"S": "0001"}


def test_an_item_decodes_to_the_assistant_it_encodes() -> None:
    for assistant in (
        _assistant(),
        _assistant(name=None, description=None, instructions=None, temperature=None, top_p=None),
        _assistant(response_format="auto", tools=[], tool_resources={}, metadata={}, instructions=""),
    ):
        assert assistants.assistant_from_item(assistants.assistant_item("p", assistant, "k")) == assistant


def test_null_fields_are_absent_attributes() -> None:
    item = assistants.assistant_item("p", _assistant(name=None, instructions=None, temperature=None), "k")
    assert not {"aname", "instr", "temp"} & set(item)


def test_values_past_a_kilobyte_are_stored_compressed_and_small_ones_as_text() -> None:
    small = assistants.encode("instructions", "be brief")
    assert small == {"S": '"be brief"'}
    big = assistants.encode("instructions", "be brief. " * 1000)
    assert big is not None
    assert "B" in big
    assert zlib.decompress(big["B"]).decode() == '"' + "be brief. " * 1000 + '"'
    assert assistants.decode("instructions", big) == "be brief. " * 1000


def test_a_value_over_its_stored_bound_is_a_400_naming_its_field() -> None:
    rng = random.Random(1)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(256_000))
    with pytest.raises(errors.Invalid) as caught:
        assistants.encode("instructions", noise)
    refused = from_exception(caught.value)
    assert refused.status == 400
    assert refused.param == "instructions"
    assert "too large to store" in refused.message


def test_the_largest_item_the_bounds_allow_fits_dynamodbs_limit_with_its_index_copy() -> None:
    """Every bounded field at its largest in 4-byte characters, every packed one at its stored bound: the item
    and its by_order copy stay within 400 KB, so an update of any fields can never make it too large."""
    wide = "\U0001f600"
    largest = _assistant(
        model=wide * 256,
        name=wide * 256,
        description=wide * 512,
        metadata={f"{n:02d}" + wide * 62: wide * limits.METADATA_VALUE_MAX_CHARS for n in range(16)},
        tool_resources={
            "code_interpreter": {"file_ids": ["f" * 64] * 20},
            "file_search": {"vector_store_ids": ["v" * 64]},
        },
        temperature=1.2345678901234567,
        top_p=0.12345678901234567,
    )
    item = assistants.assistant_item("p" * 64, largest, "f" * 28)
    for field, bound in assistants.PACKED_MAX_BYTES.items():
        item[assistants.ATTRIBUTES[field][0]] = {"B": b"x" * bound}
    assert 2 * item_size(item) <= 400 * 1024


def test_an_update_sets_what_is_given_and_removes_what_is_null() -> None:
    expression, names, values = assistants.update_expression({"name": "x", "instructions": None, "top_p": 0.5})
    assert expression == "SET #a0 = :v0, #a2 = :v2 REMOVE #a1"
    assert names == {"#a0": "aname", "#a1": "instr", "#a2": "top_p"}
    assert values == {":v0": {"S": "x"}, ":v2": {"S": "0.5"}}
    only_removes = assistants.update_expression({"description": None})
    assert only_removes == ("REMOVE #a0", {"#a0": "descr"}, {})


def test_text_with_a_lone_surrogate_is_refused_before_any_write() -> None:
    with pytest.raises(InvalidText):
        assistants.assistant_item("p", _assistant(instructions="\ud800"), "k")
