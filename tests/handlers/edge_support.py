"""What the edge tests share: a clock they move, make serve's in-process gateway with the functions it ran, and
the DynamoDB calls made meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.test import Client

from infra.local.api_gateway import GatewayApp, LocalApi
from infra.local.edge import Edge, in_process
from infra.local.lambda_pool import Outcome
from tests import least_privilege
from threads_api import store


@contextmanager
def dynamodb_calls() -> Iterator[list[tuple[str | None, str]]]:
    """Every DynamoDB call meanwhile: (the function making it, or None for the test's own, operation)."""
    calls: list[tuple[str | None, str]] = []

    def record(model: Any, **_: Any) -> None:
        calls.append((least_privilege._current.get(), model.name))

    store.client.meta.events.register("before-call.dynamodb", record, unique_id="edge-reads")
    try:
        yield calls
    finally:
        store.client.meta.events.unregister("before-call.dynamodb", unique_id="edge-reads")


class Clock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now


def recording(invoked: list[str]) -> Any:
    """The functions run in this process, each under its role, its name added to ``invoked``."""

    def function(name: str, event: dict[str, Any]) -> Outcome:
        invoked.append(name)
        with least_privilege.running(name):
            return in_process(name, event)

    return function


def gateway(clock: Clock, invoked: list[str], rate: float, burst: float, **edge: Any) -> Client:
    """make serve's in-process gateway, with the usage plan's throttle at ``rate``/``burst``."""
    function = recording(invoked)
    gateway_edge = Edge(function, rate=rate, burst=burst, clock=clock, **edge)
    return Client(GatewayApp(LocalApi(gateway_edge), lambda route, event: function(route.function, event)))
