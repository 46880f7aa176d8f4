"""template.yaml's API: the authorizer uncached at the gateway, each project throttled by the usage plan below the
stage, a v1 stage throttled within the account's limits, every API event on it, functions that finish before
API Gateway gives up, gateway responses in OpenAI's envelope, and no catch-all route."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _api_functions, _parameter_default, _resources

API_GATEWAY_TIMEOUT_SECONDS = 29  # API Gateway's integration timeout: a slower function is a 504


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


def test_stage_is_v1_and_throttled() -> None:
    api = _resources()["Api"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["StageName"] == "v1" == template.stage()
    settings = api["Properties"]["MethodSettings"]
    every_method = [s for s in settings if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    assert len(every_method) == 1, settings
    rate = float(_parameter_default(every_method[0]["ThrottlingRateLimit"]))
    burst = int(_parameter_default(every_method[0]["ThrottlingBurstLimit"]))
    assert rate > 0
    assert burst > 0
    # API Gateway caps a stage at the account's limits: a higher default would only mislead.
    assert rate <= ACCOUNT_RATE_LIMIT
    assert burst <= ACCOUNT_BURST_LIMIT


# AWS's own defaults per account and region: API Gateway's throttle (all APIs together) and Lambda's
# concurrent executions (all functions together).
ACCOUNT_RATE_LIMIT, ACCOUNT_BURST_LIMIT = 10_000, 5_000


LAMBDA_CONCURRENCY = 1_000


def test_the_throttling_defaults_let_one_busy_application_run() -> None:
    """docs/deploying.md, Throttling defaults: a project's defaults stop no application before AWS's own limits
    would, and still keep one project to half the stage (test above)."""
    rate, burst = template.usage_plan_throttle()
    (stage,) = _resources()["Api"]["Properties"]["MethodSettings"]
    stage_rate = float(_parameter_default(stage["ThrottlingRateLimit"]))
    stage_burst = float(_parameter_default(stage["ThrottlingBurstLimit"]))
    # 64 creates at once from one project, a chat app polling a few dozen runs a second: far from throttled.
    assert burst >= 64
    assert rate >= 50
    # A burst that Lambda could not run at once anyway (1,000 concurrent executions) is what a project gets.
    assert burst >= LAMBDA_CONCURRENCY
    # All projects together: as much as the account allows.
    assert (stage_rate, stage_burst) == (ACCOUNT_RATE_LIMIT, ACCOUNT_BURST_LIMIT)
    assert rate <= ACCOUNT_RATE_LIMIT
    assert burst <= ACCOUNT_BURST_LIMIT  # a usage plan cannot exceed the account's limits either


def test_every_api_event_is_on_the_throttled_stage() -> None:
    """An Api event without RestApiId makes SAM create another, implicit API: unthrottled, default errors."""
    for name, function in _api_functions().items():
        for event in function["Properties"]["Events"].values():
            if event["Type"] == "Api":
                assert event["Properties"].get("RestApiId") == {"Ref": "Api"}, name


def test_api_functions_finish_before_api_gateway_gives_up() -> None:
    """A buffered answer within API Gateway's 29 s; a streamed one within its 15 minutes of a stream."""
    default = template.load()["Globals"]["Function"]["Timeout"]
    assert _api_functions()
    for name, function in _api_functions().items():
        timeout = function["Properties"].get("Timeout", default)
        bound = STREAM_MAX_SECONDS if name in STREAMING_FUNCTIONS else API_GATEWAY_TIMEOUT_SECONDS
        assert 0 < timeout <= bound, f"{name}: Timeout {timeout}"


STREAM_MAX_SECONDS = 15 * 60  # API Gateway: "The maximum duration for response streaming is 15 minutes."
STREAMING_FUNCTIONS = {"CreateRunFunction", "CreateThreadAndRunFunction", "SubmitToolOutputsFunction"}


def test_the_routes_that_can_stream_stream_through_their_own_runtime() -> None:
    """Exactly the three run routes stream: API Gateway invokes them with InvokeWithResponseStream, and each
    starts the runtime that can write a streamed answer (the managed Python runtime cannot)."""
    streaming = {
        name
        for name, function in _api_functions().items()
        for event in function["Properties"]["Events"].values()
        if event["Properties"].get("ResponseTransferMode") == "RESPONSE_STREAM"
    }
    assert streaming == STREAMING_FUNCTIONS
    for name in STREAMING_FUNCTIONS:
        env = _api_functions()[name]["Properties"]["Environment"]["Variables"]
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/stream_runtime/wrapper", name
    wrapper = template.ROOT / "functions" / "stream_runtime" / "wrapper"
    assert wrapper.stat().st_mode & 0o111, "Lambda runs the wrapper itself: it must be executable"


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
    assert retry_after is not None
    assert retry_after.isdigit()
    assert int(retry_after) >= 1
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
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["type"], str)
    assert error["type"]
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    if response_type == "THROTTLED":
        assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    if response_type == "MISSING_AUTHENTICATION_TOKEN":
        assert error["message"] == "Invalid URL (PUT /v1/threads)"  # OpenAI's 404 for a route it lacks


def test_no_catch_all_route_so_api_gateway_answers_an_unknown_route_without_invoking_anything() -> None:
    """An anonymous request to a path the API lacks invokes no function: API Gateway's own
    MISSING_AUTHENTICATION_TOKEN answers it (OpenAI's 404, from $context.httpMethod and $context.path)."""
    for route in template.routes():
        assert not route.greedy, route
        assert route.method != "ANY", route
        assert route.path != "/", route
    body = _gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]["ResponseTemplates"]["application/json"]
    assert "Invalid URL ($context.httpMethod $context.path)" in body
