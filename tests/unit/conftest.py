"""The unit tests' one fixture: a scripted model server (infra/ops/chat_server.py) for the provider tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.ops.chat_server import ChatServer


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer() as started:
        yield started
    assert not started.invalid, [r.problems for r in started.invalid]
