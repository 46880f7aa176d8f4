"""The official openai SDK's ``client.beta.assistants.*`` against the local API, as a user's code calls it."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import openai
import pytest

from tests.e2e.conftest import Server, assert_not_found
from tests.samples import WEATHER

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
warnings.filterwarnings("ignore", category=DeprecationWarning)


def test_assistants_create_retrieve_update_delete(sdk: Any) -> None:
    client = sdk()
    assistant = client.beta.assistants.create(
        model="gpt-4o",
        name="Weather bot",
        instructions="Answer about the weather.",
        tools=[WEATHER],
        metadata={"team": "a"},
        temperature=0.5,
        response_format={"type": "json_object"},
    )
    assert assistant.id.startswith("asst_")
    assert assistant.object == "assistant"
    assert assistant.tools[0].type == "function"
    assert assistant.tools[0].function.name == "get_weather"
    assert assistant.response_format is not None
    assert assistant.response_format.type == "json_object"
    assert client.beta.assistants.retrieve(assistant.id) == assistant

    updated = client.beta.assistants.update(assistant.id, name="Renamed", top_p=0.9, metadata={"team": "b"})
    assert updated.name == "Renamed"
    assert updated.top_p == 0.9
    assert updated.metadata == {"team": "b"}
    assert updated.instructions == assistant.instructions
    assert updated.tools == assistant.tools

    deleted = client.beta.assistants.delete(assistant.id)
    assert deleted.id == assistant.id
    assert deleted.deleted is True
    assert deleted.object == "assistant.deleted"
    assert_not_found(lambda: client.beta.assistants.retrieve(assistant.id), "assistant", assistant.id)


def test_auto_pagination_lists_a_projects_assistants_in_both_orders(sdk: Any, server: Server) -> None:
    client = sdk(key=server.mint(f"e2e-assistants-{uuid.uuid4().hex[:8]}"))
    ids = [client.beta.assistants.create(model="m", name=f"a{n}").id for n in range(5)]
    assert [a.id for a in client.beta.assistants.list(order="asc", limit=2)] == ids
    assert [a.id for a in client.beta.assistants.list(limit=2)] == ids[::-1]
    page = client.beta.assistants.list(order="asc", limit=2, after=ids[1])
    assert [a.id for a in page.data] == ids[2:4]
    assert page.has_more is True
    before = client.beta.assistants.list(order="asc", limit=10, before=ids[3])
    assert [a.id for a in before.data] == ids[:3]
    assert before.has_more is False


def test_another_projects_key_gets_404_on_every_route(sdk: Any, server: Server) -> None:
    client = sdk()
    other = sdk(key=server.mint("e2e-assistants-other"))
    assistant = client.beta.assistants.create(model="m", name="mine")
    with pytest.raises(openai.NotFoundError, match="No assistant found"):
        other.beta.assistants.retrieve(assistant.id)
    with pytest.raises(openai.NotFoundError, match="No assistant found"):
        other.beta.assistants.update(assistant.id, name="theirs")
    with pytest.raises(openai.NotFoundError, match="No assistant found"):
        other.beta.assistants.delete(assistant.id)
    assert assistant.id not in [a.id for a in other.beta.assistants.list()]
    assert client.beta.assistants.retrieve(assistant.id) == assistant


def test_tools_this_deployment_cannot_run_are_refused_naming_the_tool(sdk: Any) -> None:
    client = sdk()
    with pytest.raises(openai.BadRequestError) as code:
        client.beta.assistants.create(model="m", tools=[{"type": "code_interpreter"}])
    assert code.value.param == "tools[0].type"
    assert "Only 'function' and 'file_search' tools are supported" in code.value.message
    with pytest.raises(openai.BadRequestError) as beside:  # file_search is run; code_interpreter still is not
        client.beta.assistants.create(model="m", tools=[WEATHER, {"type": "file_search"}, {"type": "code_interpreter"}])
    assert beside.value.param == "tools[2].type"
    with pytest.raises(openai.BadRequestError) as temperature:
        client.beta.assistants.create(model="m", temperature=3)
    assert temperature.value.param == "temperature"


def test_a_keyed_create_retried_by_the_sdk_is_one_assistant(sdk: Any, server: Server) -> None:
    client = sdk(key=server.mint(f"e2e-assistants-{uuid.uuid4().hex[:8]}"))
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.beta.assistants.create(model="m", name="once", extra_headers=key)
    again = client.beta.assistants.create(model="m", name="once", extra_headers=key)
    assert again == first
    assert [a.id for a in client.beta.assistants.list()] == [first.id]
