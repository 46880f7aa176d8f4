"""template.yaml: least privilege for every function, a table that outlives mistakes, a hardened stage.

The template is read with ``infra.template.load()``, whose loader keeps CloudFormation's short tags as
plain values: ``!GetAtt Table.Arn`` is ``{"GetAtt": "Table.Arn"}``, ``!Sub "..."`` is ``{"Sub": "..."}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import template
from infra.local import stack

API_GATEWAY_TIMEOUT_SECONDS = 29  # API Gateway's integration timeout: a slower function is a 504

TABLE = "table"


def _index(name: str) -> str:
    return f"index/{name}"


DLQ = "dead-letter queue"


# What each function may do is not listed here: tests/least_privilege.py checks every call against the role
# SAM generates, and a full run fails on a permission that no call used. These tests check the policies' form.
KEY_LOOKUP = {("dynamodb:GetItem", TABLE)}  # what authenticating a key needs: the authorizer's only grant
PUBLIC_FUNCTIONS = {"NotFoundFunction", "DocsFunction"}  # no key, no table


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


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dead_letter_queue() -> str:
    """The logical id of the queue the cleanup's stream event sends failed records to."""
    events = _functions()["CleanupFunction"]["Properties"]["Events"]
    (stream,) = [e for e in events.values() if e["Type"] == "DynamoDB"]
    destination = stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    assert isinstance(destination, dict) and set(destination) == {"GetAtt"}, destination
    queue, _, attribute = destination["GetAtt"].partition(".")
    assert attribute == "Arn" and _resources()[queue]["Type"] == "AWS::SQS::Queue"
    return str(queue)


def _index_names() -> set[str]:
    props = _resources()["Table"]["Properties"]
    indexes = props.get("LocalSecondaryIndexes", []) + props.get("GlobalSecondaryIndexes", [])
    return {index["IndexName"] for index in indexes}


def _resource_label(resource: Any) -> str:
    """The table, one of its indexes, or the dead-letter queue; anything else fails."""
    if resource == {"GetAtt": "Table.Arn"}:
        return TABLE
    if resource == {"GetAtt": f"{_dead_letter_queue()}.Arn"}:
        return DLQ
    if resource == {"GetAtt": "RunWorkerFunction.Arn"}:
        return WORKER
    if isinstance(resource, dict) and set(resource) == {"Sub"} and isinstance(resource["Sub"], str):
        match = re.fullmatch(r"\$\{Table\.Arn\}/index/([A-Za-z0-9_.-]+)", resource["Sub"])
        if match and match.group(1) in _index_names():
            return _index(match.group(1))
    pytest.fail(
        f"a Resource that is not the table, one of its indexes, the dead-letter queue or the worker: {resource!r}"
    )


WORKER = "run worker"
# Outside DynamoDB, each function may do only these: (function, action) -> the resource label it must be on.
# The run worker's provider grants exist only under the stack's conditions (a key parameter, Bedrock).
OTHER_GRANTS = {
    ("CleanupFunction", "sqs:SendMessage"): DLQ,
    ("CreateRunFunction", "lambda:InvokeFunction"): WORKER,
    ("CreateThreadAndRunFunction", "lambda:InvokeFunction"): WORKER,
    ("SubmitToolOutputsFunction", "lambda:InvokeFunction"): WORKER,
}
CONDITIONAL_GRANTS = {
    # Sending to a dead-letter queue encrypted with a customer managed key takes the key (Lambda sends as the role).
    "HasKmsKey": [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": {"Ref": "KmsKeyArn"}}
    ],
    "HasModelKey": [
        {
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": {
                "Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ModelApiKeyParameter}"
            },
        }
    ],
    "UsesBedrock": [
        {
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel"],
            "Resource": [
                {"Sub": "arn:${AWS::Partition}:bedrock:*::foundation-model/*"},
                {"Sub": "arn:${AWS::Partition}:bedrock:*:${AWS::AccountId}:inference-profile/*"},
            ],
        }
    ],
}


# Which function may hold each conditional grant.
CONDITIONAL_GRANTEES = {
    "HasKmsKey": "CleanupFunction",
    "HasModelKey": "RunWorkerFunction",
    "UsesBedrock": "RunWorkerFunction",
}


def _conditional(name: str, policy: Any) -> bool:
    """The run worker's provider grants and the cleanup's key grant, each under its condition and exactly as
    written above."""
    if set(policy) != {"If"} or name not in CONDITIONAL_GRANTEES.values():
        return False
    condition, then, otherwise = policy["If"]
    assert CONDITIONAL_GRANTEES.get(condition) == name, f"{name}: a grant under {condition}"
    assert otherwise == {"Ref": "AWS::NoValue"} and then == {"Statement": CONDITIONAL_GRANTS[condition]}, policy
    return True


def _grants(name: str) -> set[tuple[str, str]]:
    """(action, resource) pairs a function's Policies allow, after checking that they are plain statements."""
    props = _functions()[name]["Properties"]
    granted: set[tuple[str, str]] = set()
    for policy in props.get("Policies") or []:
        if _conditional(name, policy):
            continue
        # Not a managed policy's name or ARN (a string), not a SAM policy template ({"DynamoDBCrudPolicy": ...}).
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, f"{name}: {policy!r}"
        statements = policy["Statement"]
        assert isinstance(statements, list) and statements, f"{name}: {policy!r}"
        for statement in statements:
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, f"{name}: {statement!r}"
            assert statement["Effect"] == "Allow", f"{name}: {statement!r}"
            actions, resources = _listify(statement["Action"]), _listify(statement["Resource"])
            assert actions and resources, f"{name}: {statement!r}"
            for action in actions:
                assert isinstance(action, str) and "*" not in action, f"{name}: wildcard action {action!r}"
                allowed = re.fullmatch(r"dynamodb:[A-Z][A-Za-z]+", action) or (name, action) in OTHER_GRANTS
                assert allowed, f"{name}: {action!r} is not a specific DynamoDB action"
            for resource in resources:
                assert "*" not in json.dumps(resource), f"{name}: wildcard resource {resource!r}"
                for action in actions:
                    label = _resource_label(resource)
                    assert OTHER_GRANTS.get((name, action), label) == label, f"{name}: {action} on {resource!r}"
                    granted.add((action, label))
    return granted


# -- least privilege ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_functions()))
def test_policies_are_specific_actions_on_the_table_its_indexes_or_the_queue(name: str) -> None:
    assert _grants(name) is not None  # _grants asserts the form of every statement


def test_no_role_or_policy_is_defined_outside_the_functions_policies() -> None:
    for name, function in _functions().items():
        props = function["Properties"]
        assert "Role" not in props, f"{name} brings its own role: its permissions escape this test"
    assert "Policies" not in template.load()["Globals"]["Function"]
    iam = {name for name, r in _resources().items() if str(r["Type"]).startswith("AWS::IAM::")}
    assert not iam, f"IAM resources besides the functions' own policies: {iam}"


def test_every_route_that_serves_data_is_behind_the_authorizer_and_the_usage_plan() -> None:
    """Keys are checked at the edge: a function that can touch the table is reached only through the
    authorizer with an API key (so metered per project); only the functions without any grant are public."""
    routes = template.routes()
    assert {r.function for r in routes} == set(_api_functions())
    for route in routes:
        if route.function in PUBLIC_FUNCTIONS:
            assert route.authorizer is None and not route.api_key_required, route
            assert not _grants(route.function), route.function
        else:
            assert route.authorizer == "KeyAuthorizer" and route.api_key_required, route
    assert "AuthorizerFunction" not in _api_functions()  # API Gateway calls it; it serves no route


def test_the_authorizer_may_only_read_a_key_and_no_api_function_needs_the_key_cache() -> None:
    assert _grants("AuthorizerFunction") == KEY_LOOKUP
    variables = _functions()["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["KEY_CACHE_SECONDS"] == {"Ref": "KeyCacheSeconds"}
    assert "KEY_CACHE_SECONDS" not in template.load()["Globals"]["Function"]["Environment"]["Variables"]


def test_the_authorizer_is_uncached_at_the_gateway_so_either_key_header_works() -> None:
    """With result caching on, API Gateway answers 401 itself when any identity source is missing: a key in
    either of two headers needs it off, and an identity source every request has (README: Keys and projects)."""
    api = _resources()["Api"]["Properties"]
    assert api["ApiKeySourceType"] == "AUTHORIZER"
    spec = template.authorizer(api["Auth"]["DefaultAuthorizer"])
    assert spec.function == "AuthorizerFunction"
    assert spec.ttl_seconds == 0
    assert spec.identity_sources == ("context.requestId",)
    authorizer = api["Auth"]["Authorizers"]["KeyAuthorizer"]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    body = stack.translate(template.TEMPLATE)["Resources"]["Api"]["Properties"]["Body"]
    security = body["components"]["securitySchemes"]  # OpenApiVersion 3: not securityDefinitions
    generated = security["KeyAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert (generated["type"], generated["authorizerResultTtlInSeconds"]) == ("request", 0)
    assert generated["identitySource"] == "context.requestId"


def test_each_project_is_throttled_by_the_usage_plan_below_the_stage() -> None:
    plans = [r for r in _resources().values() if r["Type"] == "AWS::ApiGateway::UsagePlan"]
    assert len(plans) == 1
    props = plans[0]["Properties"]
    assert props["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Api.Stage"}}]
    rate, burst = template.usage_plan_throttle()
    assert props["Throttle"] == {"RateLimit": {"Ref": "ProjectRateLimit"}, "BurstLimit": {"Ref": "ProjectBurstLimit"}}
    (stage,) = _resources()["Api"]["Properties"]["MethodSettings"]
    # One project alone cannot take the whole stage: at least two can run at their limits side by side.
    assert 2 * rate <= float(_parameter_default(stage["ThrottlingRateLimit"]))
    assert 2 * burst <= float(_parameter_default(stage["ThrottlingBurstLimit"]))
    outputs = template.load()["Outputs"]
    assert outputs["ApiId"]["Value"] == {"Ref": "Api"}  # make key STACK=... reads them
    assert outputs["UsagePlanId"]["Value"] == {"Ref": next(n for n, r in _resources().items() if r in plans)}


# -- the table ----------------------------------------------------------------------------------------


def test_table_is_retained_protected_recoverable_encrypted_on_demand() -> None:
    table = _resources()["Table"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_table_expires_on_expires_at_and_streams_old_images_to_the_cleanup() -> None:
    props = _resources()["Table"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert template.ttl_attribute() == "expires_at"  # what store's staged creation and idempotency write
    assert props["StreamSpecification"] == {"StreamViewType": "OLD_IMAGE"}
    events = _functions()["CleanupFunction"]["Properties"]["Events"]
    streams = [e["Properties"]["Stream"] for e in events.values() if e["Type"] == "DynamoDB"]
    assert streams == [{"GetAtt": "Table.StreamArn"}]


@pytest.mark.parametrize("kms_key", ["", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
def test_dead_letter_queue_is_encrypted_and_keeps_records_for_14_days(kms_key: str) -> None:
    """SQS's own keys by default; the customer managed key (KmsKeyArn) instead when one is given."""
    queue = stack.load(template.TEMPLATE, {"KmsKeyArn": kms_key}).resources[_dead_letter_queue()]["Properties"]
    assert queue["SqsManagedSseEnabled"] is not bool(kms_key)
    assert queue.get("KmsMasterKeyId", "") == kms_key
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


# -- the stage ----------------------------------------------------------------------------------------


def _parameter_default(value: Any) -> Any:
    """A literal, or the Default of the parameter a ``!Ref`` names."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template.load()["Parameters"][value["Ref"]]["Default"]
    return value


def test_stage_is_v1_and_throttled() -> None:
    api = _resources()["Api"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["StageName"] == "v1" == template.stage()
    settings = api["Properties"]["MethodSettings"]
    every_method = [s for s in settings if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    assert len(every_method) == 1, settings
    rate = float(_parameter_default(every_method[0]["ThrottlingRateLimit"]))
    burst = int(_parameter_default(every_method[0]["ThrottlingBurstLimit"]))
    assert rate > 0 and burst >= rate


def test_every_api_event_is_on_the_throttled_stage() -> None:
    """An Api event without RestApiId makes SAM create another, implicit API: unthrottled, default errors."""
    for name, function in _api_functions().items():
        for event in function["Properties"]["Events"].values():
            if event["Type"] == "Api":
                assert event["Properties"].get("RestApiId") == {"Ref": "Api"}, name


# What API Gateway substitutes for the variables a gateway response may use. ``messageString`` is "the
# quoted value of $context.error.message" (API Gateway's variable reference): it comes with its quotes.
SAMPLES = {
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "$context.httpMethod": "PUT",
    "$context.path": "/v1/threads",
    "$context.error.message": "Missing Authentication Token",
    "$context.error.messageString": '"Missing Authentication Token"',
    "$context.error.responseType": "MISSING_AUTHENTICATION_TOKEN",
    # The authorizer's Deny context: JSON literals (handlers/authorizer.py).
    "$context.authorizer.message": json.dumps("Incorrect API key provided: sk-***abcd."),
    "$context.authorizer.code": json.dumps("invalid_api_key"),
}


def _render(body_template: str) -> str:
    def sample(match: re.Match[str]) -> str:
        assert match.group(0) in SAMPLES, f"add a sample value for {match.group(0)}"
        return SAMPLES[match.group(0)]

    return re.sub(r"\$context(?:\.[A-Za-z]+)+", sample, body_template)


def _gateway_responses() -> dict[str, Any]:
    return dict(_resources()["Api"]["Properties"]["GatewayResponses"])


def _header(response: dict[str, Any], name: str) -> str | None:
    value = ((response.get("ResponseParameters") or {}).get("Headers") or {}).get(name)
    if value is None:
        return None
    assert re.fullmatch(r"'[^']*'", value), f"{name}: a static header value is quoted: {value!r}"
    return str(value[1:-1])


def test_gateway_responses_cover_throttling_unknown_methods_and_every_4xx_5xx() -> None:
    responses = _gateway_responses()
    expected = {"THROTTLED", "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"}
    expected |= {"ACCESS_DENIED", "UNAUTHORIZED", "INVALID_API_KEY"}  # the authorizer's and the usage plan's
    assert expected <= set(responses)
    for kind in ("ACCESS_DENIED", "UNAUTHORIZED"):  # OpenAI's status for a missing or wrong key
        assert responses[kind]["StatusCode"] == "401"
        assert _header(responses[kind], "x-should-retry") == "false"
    # A valid key whose project is not in the usage plan yet (README: 403 project_not_enabled).
    assert responses["INVALID_API_KEY"]["StatusCode"] == "403"
    not_enabled = json.loads(_render(responses["INVALID_API_KEY"]["ResponseTemplates"]["application/json"]))
    assert not_enabled["error"]["code"] == "project_not_enabled"
    throttled = responses["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    retry_after = _header(throttled, "retry-after")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert _header(responses["MISSING_AUTHENTICATION_TOKEN"], "x-should-retry") == "false"
    # API Gateway's own 5xx status is kept: a function that failed after writing must not become a "retry" 503.
    assert "StatusCode" not in responses["DEFAULT_5XX"]
    assert _header(responses["DEFAULT_5XX"], "retry-after") is None


@pytest.mark.parametrize("response_type", sorted(_gateway_responses()))
def test_gateway_response_body_is_openai_error_envelope(response_type: str) -> None:
    response = _gateway_responses()[response_type]
    assert set(response["ResponseTemplates"]) == {"application/json"}
    body = json.loads(_render(response["ResponseTemplates"]["application/json"]))
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    if response_type == "THROTTLED":
        assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    if response_type == "MISSING_AUTHENTICATION_TOKEN":
        assert error["message"] == "Invalid URL (PUT /v1/threads)"  # OpenAI's 404 for a route it lacks


# -- runtime ------------------------------------------------------------------------------------------


def test_functions_run_python_3_13_on_arm64() -> None:
    function_globals = template.load()["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    for name, function in _functions().items():
        assert function["Properties"].get("Runtime", "python3.13") == "python3.13", name
        assert function["Properties"].get("Architectures", ["arm64"]) == ["arm64"], name
    layer = _resources()["DependenciesLayer"]
    assert "python3.13" in layer["Properties"]["CompatibleRuntimes"]
    assert "arm64" in layer["Properties"]["CompatibleArchitectures"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}


def test_api_functions_finish_before_api_gateway_gives_up() -> None:
    default = template.load()["Globals"]["Function"]["Timeout"]
    assert _api_functions()
    for name, function in _api_functions().items():
        timeout = function["Properties"].get("Timeout", default)
        assert 0 < timeout < API_GATEWAY_TIMEOUT_SECONDS, f"{name}: Timeout {timeout}"


def test_key_cache_bound_is_wired_from_the_template() -> None:
    """The documented revocation bound (30 s by default) is the parameter the authorizer receives."""
    loaded = template.load()
    variables = loaded["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["KEY_CACHE_SECONDS"] == {"Ref": "KeyCacheSeconds"}
    assert loaded["Parameters"]["KeyCacheSeconds"]["Default"] == 30


# -- the stack as SAM translates it -------------------------------------------------------------------


@pytest.mark.parametrize("tracing", ["Disabled", "Active"])
def test_xray_is_granted_and_configured_only_when_tracing_is_on(tracing: str) -> None:
    deployed = stack.load(template.TEMPLATE, {"Tracing": tracing})
    for name, function in deployed.functions.items():
        assert function.tracing == ("Active" if tracing == "Active" else "PassThrough"), name
        assert function.allows("xray:PutTraceSegments", "*") == (tracing == "Active"), name
        assert function.environment["TRACING"] == ("true" if tracing == "Active" else "false"), name


def test_layer_requirements_are_pinned_complete_and_match_pyproject() -> None:
    """The layer installs exactly its list (--no-deps), nothing the runtime provides, and the versions the
    development environment (pyproject.toml, .venv) tests with."""
    import tomllib
    from importlib.metadata import version as installed

    lines = (template.ROOT / "functions/dependencies/requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.]*", version) for version in pins.values()), pins
    assert not {"boto3", "botocore", "s3transfer", "urllib3"} & set(pins), "the Lambda runtime provides these"
    makefile = (template.ROOT / "functions/dependencies/Makefile").read_text()
    assert "--no-deps" in makefile and "manylinux2014_aarch64" in makefile and "--python-version 3.13" in makefile
    pyproject = tomllib.loads((template.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in pyproject:
        name, _, version = requirement.partition("==")
        if name in pins:
            assert version == pins[name], f"{name}: pyproject.toml {version}, layer {pins[name]}"
    for name, version in pins.items():
        assert installed(name) == version, f"{name}: .venv has {installed(name)}, the layer {version}"
    lock = (template.ROOT / "requirements.lock").read_text().splitlines()
    locked = dict(line.lower().replace("_", "-").split("==") for line in lock if "==" in line)
    for name, version in pins.items():
        assert locked.get(name.lower().replace("_", "-")) == version, f"{name}: the lock differs from the layer"


@pytest.mark.parametrize(
    ("parameters", "service", "operation", "params"),
    [
        ({"ModelApiKeyParameter": "/threads-api/model-key"}, "ssm", "GetParameter", {"Name": "/threads-api/model-key"}),
        (
            {"ModelProvider": "bedrock"},
            "bedrock-runtime",
            "Converse",
            {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        ),
    ],
    ids=["ssm-key", "bedrock"],
)
def test_the_worker_may_make_its_providers_calls_only_when_the_stack_asks_for_them(
    parameters: dict[str, str], service: str, operation: str, params: dict[str, str]
) -> None:
    """What the worker's provider calls need (``infra.local.iam.required``, as the deployed mode checks each call),
    allowed by its role under the parameter, and by no role without it."""
    from infra.local import iam

    needed = iam.required(service, operation, params, stack.REGION, stack.ACCOUNT)
    with_it = stack.load(template.TEMPLATE, parameters).functions
    without = stack.load(template.TEMPLATE).functions
    for action, resource in needed:
        assert with_it["RunWorkerFunction"].allows(action, resource)
        assert not any(f.allows(action, resource) for name, f in with_it.items() if name != "RunWorkerFunction")
        assert not any(f.allows(action, resource) for f in without.values())


def test_lambda_retries_a_worker_that_dies_twice_within_the_runs_life() -> None:
    """README: a worker that dies is retried (after 1 and 3 minutes) under its request id, which takes its run
    up again; a retry later than the run's ten minutes would find it expired."""
    config = _functions()["RunWorkerFunction"]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 600
