"""What the template tests share: the template's resources as written (``infra.template.load()``, whose loader
keeps CloudFormation's short tags as plain values: ``!GetAtt Table.Arn`` is ``{"GetAtt": "Table.Arn"}``) and the
stack as SAM translates it (``infra.local.stack.load()``, intrinsics resolved)."""

from __future__ import annotations

from functools import cache
from typing import Any

from infra import template
from infra.local import stack


@cache
def _deployed(**parameters: str) -> stack.Stack:
    return stack.load(template.TEMPLATE, dict(parameters))


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _resources() -> dict[str, Any]:
    return dict(template.load()["Resources"])


def _functions() -> dict[str, dict[str, Any]]:
    return {name: r for name, r in _resources().items() if r["Type"] == "AWS::Serverless::Function"}


def _api_functions() -> dict[str, dict[str, Any]]:
    return {
        name: r
        for name, r in _functions().items()
        if any(e.get("Type") == "Api" for e in (r["Properties"].get("Events") or {}).values())
    }


def _parameter_default(value: Any) -> Any:
    """A literal, or the Default of the parameter a ``!Ref`` names."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template.load()["Parameters"][value["Ref"]]["Default"]
    return value


def _dead_letter_queue() -> str:
    """The logical id of the queue the cleanup's stream event sends failed records to."""
    events = _functions()["CleanupFunction"]["Properties"]["Events"]
    (stream,) = [e for e in events.values() if e["Type"] == "DynamoDB"]
    destination = stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    assert isinstance(destination, dict), destination
    assert set(destination) == {"GetAtt"}, destination
    queue, _, attribute = destination["GetAtt"].partition(".")
    assert attribute == "Arn"
    assert _resources()[queue]["Type"] == "AWS::SQS::Queue"
    return str(queue)
