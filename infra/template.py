"""``template.yaml`` read as the local API needs it: routes, handlers and the table's definition.

The template is the one source of truth: the local API serves exactly the routes it declares, and the
embedded table (and the tests' moto table) is created from its ``Table`` resource.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short tags (!Ref, !GetAtt, ...) as plain values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load() -> dict[str, Any]:
    with TEMPLATE.open() as f:
        return dict(yaml.load(f, Loader=_CfnLoader))  # noqa: S506 - a safe loader with CFN tags


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # as in the template, e.g. /threads/{thread_id}
    handler: str  # module:function, e.g. handlers.create_thread:handler
    function: str  # the template's logical id

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    @property
    def greedy(self) -> bool:
        return "+}" in self.path

    def load_handler(self) -> Any:
        """The handler, imported in this process (the in-process mode and the handler tests)."""
        module, _, name = self.handler.partition(":")
        return getattr(importlib.import_module(module), name)


def routes() -> list[Route]:
    """Every Api event of every function; greedy (``{proxy+}``) routes last, as API Gateway matches them."""
    found = []
    for name, resource in load()["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, _, function = props["Handler"].rpartition(".")
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            method = str(event["Properties"]["Method"]).upper()
            found.append(Route(method, event["Properties"]["Path"], f"{module.replace('/', '.')}:{function}", name))
    return sorted(found, key=lambda r: (r.greedy, r.path == "/", r.path))


def timeout(function: str) -> float:
    """A function's timeout in seconds: its own, else the Globals'."""
    resources = load()
    own = resources["Resources"][function]["Properties"].get("Timeout")
    return float(own if own is not None else resources["Globals"]["Function"]["Timeout"])


def stage() -> str:
    return str(load()["Resources"]["Api"]["Properties"]["StageName"])


def table_definition(table_name: str) -> dict[str, Any]:
    """``create_table`` arguments for the template's table (on-demand, with its indexes and stream)."""
    props = load()["Resources"]["Table"]["Properties"]
    definition: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": props["BillingMode"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "LocalSecondaryIndexes": props["LocalSecondaryIndexes"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "StreamSpecification": {"StreamEnabled": True, **props["StreamSpecification"]},
    }
    return definition


def ttl_attribute() -> str:
    return str(load()["Resources"]["Table"]["Properties"]["TimeToLiveSpecification"]["AttributeName"])


def stream_filters(function: str) -> list[dict[str, Any]]:
    """The event patterns of a function's DynamoDB stream event (``FilterCriteria``), parsed."""
    import json

    events = load()["Resources"][function]["Properties"]["Events"]
    (stream,) = [e for e in events.values() if e["Type"] == "DynamoDB"]
    filters = stream["Properties"].get("FilterCriteria", {}).get("Filters", [])
    return [json.loads(f["Pattern"]) for f in filters]
