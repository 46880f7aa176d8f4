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


class _CfnLoader(yaml.CSafeLoader):
    """A YAML loader that keeps CloudFormation's short tags (!Ref, !GetAtt, ...) as plain values (libyaml's,
    ten times faster than the pure-Python one on every test process's first read)."""


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
    authorizer: str | None = None  # the Api's authorizer this route runs first (None: a public route)
    api_key_required: bool = False  # whether a usage plan's API key must come with it (from the authorizer)
    streams: bool = False  # its integration streams the function's answer (ResponseTransferMode RESPONSE_STREAM)
    timeout_ms: int = 29_000  # the integration's timeout (TimeoutInMillis; API Gateway's default 29 s)

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


def _api_auth() -> dict[str, Any]:
    return dict(load()["Resources"]["Api"]["Properties"].get("Auth") or {})


def routes() -> list[Route]:
    """Every Api event of every function; greedy (``{proxy+}``) routes last, as API Gateway matches them.

    Each route's authorizer and API key requirement: the event's own ``Auth``, else the Api's defaults."""
    found = []
    defaults = _api_auth()
    for name, resource in load()["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, _, function = props["Handler"].rpartition(".")
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            method = str(event["Properties"]["Method"]).upper()
            auth = event["Properties"].get("Auth") or {}
            authorizer = auth.get("Authorizer", defaults.get("DefaultAuthorizer"))
            route = Route(
                method,
                event["Properties"]["Path"],
                f"{module.replace('/', '.')}:{function}",
                name,
                authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                api_key_required=bool(auth.get("ApiKeyRequired", defaults.get("ApiKeyRequired", False))),
                streams=event["Properties"].get("ResponseTransferMode") == "RESPONSE_STREAM",
                timeout_ms=int(event["Properties"].get("TimeoutInMillis", 29_000)),
            )
            found.append(route)
    return sorted(found, key=lambda r: (r.greedy, r.path == "/", r.path))


def timeout(function: str) -> float:
    """A function's timeout in seconds: its own, else the Globals'."""
    loaded = load()
    own = loaded["Resources"].get(function, {}).get("Properties", {}).get("Timeout")  # a test's probe: Globals'
    return float(own if own is not None else loaded["Globals"]["Function"]["Timeout"])


def parameter(value: Any) -> Any:
    """A value as the template's defaults make it: ``!Ref Parameter`` is the parameter's default."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return load()["Parameters"][value["Ref"]]["Default"]
    return value


@dataclass(frozen=True)
class Authorizer:
    function: str  # the logical id of its Lambda function
    identity_sources: tuple[str, ...]  # as API Gateway names them: method.request.header.X, context.requestId
    ttl_seconds: int  # API Gateway's result cache (0: none)


def authorizer(name: str) -> Authorizer:
    """An authorizer of the Api's ``Auth`` as SAM makes it (``ReauthorizeEvery`` defaults to 300 s)."""
    spec = _api_auth()["Authorizers"][name]
    identity = spec.get("Identity") or {}
    sources = [f"method.request.header.{h}" for h in identity.get("Headers", [])]
    sources += [f"method.request.querystring.{q}" for q in identity.get("QueryStrings", [])]
    sources += [f"stageVariables.{v}" for v in identity.get("StageVariables", [])]
    sources += [f"context.{c}" for c in identity.get("Context", [])]
    function = spec["FunctionArn"]["GetAtt"]
    function = function.split(".")[0] if isinstance(function, str) else function[0]
    return Authorizer(str(function), tuple(sources), int(parameter(identity.get("ReauthorizeEvery", 300))))


def usage_plan_throttle() -> tuple[float, float]:
    """(rate per second, burst) of the usage plan that meters each project: the template's defaults."""
    for resource in load()["Resources"].values():
        if resource.get("Type") == "AWS::ApiGateway::UsagePlan":
            throttle = resource["Properties"]["Throttle"]
            return float(parameter(throttle["RateLimit"])), float(parameter(throttle["BurstLimit"]))
    raise LookupError("template.yaml has no usage plan")


def binary_media_types() -> tuple[str, ...]:
    """The Api's BinaryMediaTypes, as media types (SAM writes "/" as "~1")."""
    types = load()["Resources"]["Api"]["Properties"].get("BinaryMediaTypes", [])
    return tuple(str(t).replace("~1", "/").lower() for t in types)


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


def endpoint_type() -> str:
    """The Api's endpoint type: EDGE (API Gateway's default, with no EndpointConfiguration), REGIONAL or PRIVATE."""
    configured = load()["Resources"]["Api"]["Properties"].get("EndpointConfiguration") or "EDGE"
    return str(configured.get("Type", "EDGE") if isinstance(configured, dict) else configured)
