"""Operations, read from template.yaml: every function's log group with retention, access logs without keys or
bodies, alarms whose metrics exist for the stack's resources, a dashboard of the same, a deploy whose defaults
work (layer per stack, URL suffix, optional KMS key), SnapStart behind a parameter, and the docs page's SRI
and Content-Security-Policy.

Lists (functions, alarms, queues, tables) are derived from the template, through ``infra.template.load()``
(the template as written) and ``infra.local.stack.load()`` (as SAM translates it, intrinsics resolved).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from html.parser import HTMLParser
from typing import Any

import pytest

from infra import template
from infra.local import stack

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "arn:aws:sns:us-east-1:123456789012:on-call"


@cache
def _deployed(**parameters: str) -> stack.Stack:
    return stack.load(template.TEMPLATE, dict(parameters))


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _functions() -> dict[str, Any]:
    return _of_type(template.load()["Resources"], "AWS::Serverless::Function")


# -- logs ---------------------------------------------------------------------------------------------


def test_retention_is_a_parameter_of_30_days_by_default() -> None:
    parameter = template.load()["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30 and 30 in parameter["AllowedValues"]


@pytest.mark.parametrize("name", sorted(_functions()))
def test_every_function_logs_json_to_its_own_group_with_retention(name: str) -> None:
    resources = template.load()["Resources"]
    logging_config = _functions()[name]["Properties"].get("LoggingConfig") or {}
    assert set(logging_config.get("LogGroup") or {}) == {"Ref"}, f"{name}: no LoggingConfig.LogGroup of its own"
    group = logging_config["LogGroup"]["Ref"]
    assert resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # As deployed: the function's log group is that group (by name), in JSON, with the retention.
    deployed = _deployed().resources
    function = deployed[name]["Properties"]
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert function["LoggingConfig"]["LogGroup"] == deployed[group]["Properties"]["LogGroupName"]
    assert deployed[group]["Properties"]["RetentionInDays"] == "30"


def test_each_function_has_a_log_group_no_other_function_uses() -> None:
    groups = [(f["Properties"].get("LoggingConfig") or {}).get("LogGroup") for f in _functions().values()]
    named = [json.dumps(group) for group in groups if group]
    assert len(set(named)) == len(named)
    names = [r["Properties"]["LogGroupName"] for r in _of_type(_deployed().resources, "AWS::Logs::LogGroup").values()]
    assert len(set(names)) == len(names)
    assert all(
        name.startswith(("/aws/lambda/threads-api-local/", "/aws/apigateway/threads-api-local/")) for name in names
    )


def test_log_lines_carry_lambdas_request_id() -> None:
    """Powertools' Logger (JSON) adds Lambda's context to each line of an invocation: its request id among them."""
    from threads_api import observability

    assert "function_request_id" in observability.LAMBDA_CONTEXT_KEYS


# What API Gateway puts in an access log line for each variable (a sample), to parse the format as JSON.
ACCESS_LOG_SAMPLES = {
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "$context.identity.sourceIp": "192.0.2.1",
    "$context.identity.userAgent": "OpenAI/Python 1.0",
    "$context.requestTime": "09/Apr/2015:12:34:56 +0000",
    "$context.httpMethod": "POST",
    "$context.resourcePath": "/threads/{thread_id}/messages",
    "$context.status": "200",
    "$context.protocol": "HTTP/1.1",
    "$context.responseLength": "123",
    "$context.responseLatency": "42",
    "$context.integrationLatency": "40",
    "$context.integrationStatus": "200",
    "$context.error.responseType": "-",
    "$context.authorizer.principalId": "my-project",
    "$context.authorizer.latency": "3",
}


def test_access_log_is_off_by_default_so_that_a_fresh_account_deploys() -> None:
    """Access logs need the account's API Gateway CloudWatch role, which a fresh account lacks."""
    (stage,) = _of_type(_deployed().resources, "AWS::ApiGateway::Stage").values()
    assert "AccessLogSetting" not in stage["Properties"]


def test_access_log_is_json_with_request_id_status_and_latencies_and_no_key_or_body() -> None:
    deployed = _deployed(AccessLogs="Enabled").resources
    (stage,) = _of_type(deployed, "AWS::ApiGateway::Stage").values()
    setting = stage["Properties"]["AccessLogSetting"]
    line_format = setting["Format"]
    variables = set(re.findall(r"\$context(?:\.[A-Za-z]+)+", line_format))
    assert variables <= set(ACCESS_LOG_SAMPLES), f"add a sample for {variables - set(ACCESS_LOG_SAMPLES)}"
    assert "$input" not in line_format and "$util" not in line_format  # no body
    assert not re.search(r"apiKey|header|Authorization|requestOverride|\.claims", line_format, re.I)  # no key
    line = json.loads(re.sub(r"\$context(?:\.[A-Za-z]+)+", lambda m: ACCESS_LOG_SAMPLES[m.group(0)], line_format))
    for needed in ("requestId", "ip", "method", "resource", "status", "responseLatency", "integrationLatency"):
        assert needed in line, needed
    groups = {
        f"arn:aws:logs:us-east-1:123456789012:log-group:{r['Properties']['LogGroupName']}:*": r
        for r in _of_type(deployed, "AWS::Logs::LogGroup").values()
    }
    assert setting["DestinationArn"] in groups
    assert groups[setting["DestinationArn"]]["Properties"]["RetentionInDays"] == "30"


def test_account_cloudwatch_role_is_set_only_when_given() -> None:
    """API Gateway's access logs need the account's CloudWatch role; the stack sets it only when asked."""
    assert not _of_type(_deployed().resources, "AWS::ApiGateway::Account")
    role = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"
    given = _deployed(ApiGatewayCloudWatchRoleArn=role).resources
    (account,) = _of_type(given, "AWS::ApiGateway::Account").values()
    assert account["Properties"] == {"CloudWatchRoleArn": role}
    (stage,) = _of_type(given, "AWS::ApiGateway::Stage").values()
    assert "AccessLogSetting" in stage["Properties"]  # the role given: access logs on


# -- alarms -------------------------------------------------------------------------------------------


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or each MetricStat of its metric math."""
    props = alarm["Properties"]
    if "Metrics" in props:
        assert any(m.get("ReturnData") for m in props["Metrics"]), "metric math without a result"
        return [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    return [{k: props[k] for k in ("Namespace", "MetricName", "Dimensions")}]


def _dimensions(metric: dict[str, Any]) -> dict[str, str]:
    return {d["Name"]: str(d["Value"]) for d in metric.get("Dimensions", [])}


# The metrics each AWS namespace publishes that the alarms may use (AWS's names, not the template's).
KNOWN_METRICS = {
    "AWS/Lambda": {"Errors", "Throttles", "IteratorAge", "Duration", "ConcurrentExecutions"},
    "AWS/ApiGateway": {"5XXError", "4XXError", "Latency", "IntegrationLatency", "Count"},
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
    "AWS/DynamoDB": {"ReadThrottleEvents", "WriteThrottleEvents", "ThrottledRequests", "SystemErrors"},
}


def _stack_metric_targets(deployed: stack.Stack) -> dict[str, Any]:
    """What each namespace's dimensions may name: the stack's own resources, as deployed."""
    resources = deployed.resources
    (api,) = _of_type(resources, "AWS::ApiGateway::RestApi").values()
    (stage,) = _of_type(resources, "AWS::ApiGateway::Stage").values()
    table = template.load()["Resources"]["Table"]["Properties"]
    return {
        "functions": {f.name for f in deployed.functions.values()},
        "api": (api["Properties"]["Name"], stage["Properties"]["StageName"]),
        "queues": {f"{deployed.name}-{name}" for name in _of_type(resources, "AWS::SQS::Queue")},
        "table": deployed.table_name,
        "indexes": {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])},
    }


def _assert_metric_of_the_stack(metric: dict[str, Any], targets: dict[str, Any], where: str) -> None:
    namespace, name, dims = metric["Namespace"], metric["MetricName"], _dimensions(metric)
    assert name in KNOWN_METRICS.get(namespace, set()), f"{where}: {namespace} {name}"
    if namespace == "AWS/Lambda":
        assert set(dims) == {"FunctionName"} and dims["FunctionName"] in targets["functions"], f"{where}: {dims}"
    elif namespace == "AWS/ApiGateway":
        assert (dims.get("ApiName"), dims.get("Stage")) == targets["api"] and set(dims) == {"ApiName", "Stage"}, where
    elif namespace == "AWS/SQS":
        assert set(dims) == {"QueueName"} and dims["QueueName"] in targets["queues"], f"{where}: {dims}"
    elif namespace == "AWS/DynamoDB":
        assert dims.get("TableName") == targets["table"], f"{where}: {dims}"
        assert set(dims) - {"TableName"} <= {"GlobalSecondaryIndexName"}, f"{where}: {dims}"
        assert dims.get("GlobalSecondaryIndexName", next(iter(targets["indexes"]))) in targets["indexes"], where
    else:
        pytest.fail(f"{where}: a namespace no resource of the stack publishes to: {namespace}")


def _alarms(**parameters: str) -> dict[str, Any]:
    return _of_type(_deployed(**parameters).resources, "AWS::CloudWatch::Alarm")


def test_every_alarm_watches_a_metric_of_a_resource_of_the_stack() -> None:
    deployed = _deployed()
    targets = _stack_metric_targets(deployed)
    assert _alarms()
    for name, alarm in _alarms().items():
        metrics = _alarm_metrics(alarm)
        assert metrics, name
        for metric in metrics:
            _assert_metric_of_the_stack(metric, targets, name)


def _watched() -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return {
        (m["Namespace"], m["MetricName"], tuple(sorted(_dimensions(m).items())))
        for alarm in _alarms().values()
        for m in _alarm_metrics(alarm)
    }


@pytest.mark.parametrize("name", sorted(_functions()))
def test_every_function_has_an_alarm_on_its_errors_and_throttles(name: str) -> None:
    function = _deployed().functions[name].name
    for metric in ("Errors", "Throttles"):
        assert ("AWS/Lambda", metric, (("FunctionName", function),)) in _watched(), f"{name}: {metric}"


def test_alarms_cover_5xx_rate_p99_latency_dead_letters_iterator_age_and_table_throttles() -> None:
    deployed = _deployed()
    api_name, stage = _stack_metric_targets(deployed)["api"]
    api_dims = (("ApiName", api_name), ("Stage", stage))
    alarms = list(_alarms().values())
    by_metric = {(m["Namespace"], m["MetricName"]): a for a in alarms for m in _alarm_metrics(a)}
    five_xx = by_metric[("AWS/ApiGateway", "5XXError")]["Properties"]
    assert five_xx["Statistic"] == "Average" and 0 < float(five_xx["Threshold"]) < 1  # a rate
    latency = by_metric[("AWS/ApiGateway", "Latency")]["Properties"]
    assert latency["ExtendedStatistic"] == "p99"
    assert ("AWS/ApiGateway", "5XXError", api_dims) in _watched()
    # The dead-letter queue is the cleanup's OnFailure destination; any message in it alarms.
    queue = by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]["Properties"]
    assert queue["ComparisonOperator"] == "GreaterThanThreshold" and float(queue["Threshold"]) == 0
    # The iterator age of the function the table's stream feeds.
    streamed = [
        name
        for name, f in _functions().items()
        if any(e["Type"] == "DynamoDB" for e in (f["Properties"].get("Events") or {}).values())
    ]
    for name in streamed:
        assert ("AWS/Lambda", "IteratorAge", (("FunctionName", deployed.functions[name].name),)) in _watched()
    throttles = {m for (namespace, m, _dims) in _watched() if namespace == "AWS/DynamoDB"}
    assert {"ReadThrottleEvents", "WriteThrottleEvents"} <= throttles


@pytest.mark.parametrize("topic", ["", TOPIC])
def test_alarms_notify_the_topic_only_when_one_is_given(topic: str) -> None:
    for name, alarm in _alarms(AlarmTopicArn=topic).items():
        props = alarm["Properties"]
        assert props.get("AlarmActions", []) == ([topic] if topic else []), name
        assert props.get("OKActions", []) == ([topic] if topic else []), name
        assert props["TreatMissingData"] == "notBreaching", name  # a quiet API is not an outage


def test_dashboard_shows_every_alarms_metrics() -> None:
    (dashboard,) = _of_type(_deployed().resources, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"])
    shown = set()
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            fields = [v for v in row if isinstance(v, str)]
            namespace, metric, *pairs = fields
            shown.add((namespace, metric, tuple(sorted(zip(pairs[::2], pairs[1::2], strict=True)))))
    missing = _watched() - shown
    assert not missing, f"alarmed but not on the dashboard: {sorted(missing)}"


# -- a deploy whose defaults work ---------------------------------------------------------------------


def test_layer_is_named_per_stack_and_its_old_versions_deleted() -> None:
    layers = _of_type(template.load()["Resources"], "AWS::Serverless::LayerVersion")
    assert layers
    for name, layer in layers.items():
        assert "${AWS::StackName}" in layer["Properties"]["LayerName"]["Sub"], name
        assert layer["Properties"]["RetentionPolicy"] == "Delete", name
    for name in _of_type(_deployed().resources, "AWS::Lambda::LayerVersion"):
        assert _deployed().resources[name]["Properties"]["LayerName"].startswith("threads-api-local-")


def test_base_url_uses_the_partitions_url_suffix() -> None:
    base_url = template.load()["Outputs"]["BaseUrl"]["Value"]["Sub"]
    assert "${AWS::URLSuffix}" in base_url and "amazonaws.com" not in base_url
    assert base_url.endswith(f"/{template.stage()}")


@pytest.mark.parametrize("kms_key", ["", KMS_KEY])
def test_table_uses_the_customer_managed_key_only_when_given(kms_key: str) -> None:
    deployed = _deployed(KmsKeyArn=kms_key)
    sse = deployed.resources["Table"]["Properties"]["SSESpecification"]
    assert sse["SSEEnabled"] is True
    if kms_key:
        assert sse == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key}
    else:
        assert set(sse) == {"SSEEnabled"}
    # The key is granted to the one function that writes to the queue, and only when there is a key: the
    # table's callers are let in by the key policy (through DynamoDB), not by their roles.
    for name, function in deployed.functions.items():
        uses_key = function.allows("kms:GenerateDataKey", kms_key or KMS_KEY)
        assert uses_key == (bool(kms_key) and name == "CleanupFunction"), name


def test_samconfig_deploys_without_questions_with_iam_capability_and_a_changeset_review() -> None:
    import tomllib

    config = tomllib.loads((template.ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True and deploy["resolve_s3"] is True
    assert config["default"]["global"]["parameters"]["stack_name"]
    assert "region" not in deploy  # the region is the user's (AWS_REGION or the profile's)


# -- a rate rule per address (AWS WAF), optional -----------------------------------------------------


def test_without_ip_rate_limit_there_is_no_web_acl() -> None:
    kinds = {r["Type"] for r in _deployed().resources.values()}
    assert not {k for k in kinds if k.startswith("AWS::WAFv2::")}


def test_ip_rate_limit_puts_a_rate_rule_per_address_on_the_apis_stage() -> None:
    resources = _deployed(IpRateLimit="1000").resources
    ((acl_name, acl),) = _of_type(resources, "AWS::WAFv2::WebACL").items()
    (association,) = _of_type(resources, "AWS::WAFv2::WebACLAssociation").values()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    (rule,) = props["Rules"]
    assert rule["Statement"] == {
        "RateBasedStatement": {"Limit": "1000", "EvaluationWindowSec": 300, "AggregateKeyType": "IP"}
    }
    # On this API's stage, so before its authorizer: a flood without a key invokes nothing.
    (stage,) = _of_type(resources, "AWS::ApiGateway::Stage").values()
    api_id, stage_name = stage["Properties"]["RestApiId"], stage["Properties"]["StageName"]
    assert (
        association["Properties"]["ResourceArn"]
        == f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/{stage_name}"
    )
    assert acl_name in association["Properties"]["WebACLArn"]


def test_the_web_acls_refusal_is_the_gateways_429_in_openais_envelope() -> None:
    """The same status, type and code as the usage plan's throttle (THROTTLED), with a Retry-After."""
    props = template.load()["Resources"]["IpRateLimitAcl"]["Properties"]
    (rule,) = props["Rules"]
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    headers = {h["Name"].lower(): h["Value"] for h in response["ResponseHeaders"]}
    assert headers["retry-after"] == "60"  # README: Retry-After: 60 (WAF's window is five minutes)
    body_spec = props["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert body_spec["ContentType"] == "APPLICATION_JSON"
    error = json.loads(body_spec["Content"])["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert (error["type"], error["param"], error["code"]) == ("requests", None, "rate_limit_exceeded")
    assert f"after {headers['retry-after']} seconds" in error["message"]


@pytest.mark.parametrize(
    ("value", "accepted"), [("0", True), ("10", True), ("2000", True), ("5", False), ("010", False), ("-1", False)]
)
def test_ip_rate_limit_takes_0_or_wafs_minimum_of_10_and_more(value: str, accepted: bool) -> None:
    pattern = template.load()["Parameters"]["IpRateLimit"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted


# -- SnapStart ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("snap_start", ["None", "PublishedVersions"])
def test_snapstart_is_a_parameter_and_api_events_invoke_the_published_alias(snap_start: str) -> None:
    deployed = _deployed(SnapStart=snap_start)
    resources = deployed.resources
    aliases = {
        r["Properties"]["FunctionName"]: r["Properties"]["Name"]
        for r in _of_type(resources, "AWS::Lambda::Alias").values()
    }
    for name in deployed.functions:
        props = resources[name]["Properties"]
        if snap_start == "PublishedVersions":
            assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
        else:
            assert "SnapStart" not in props, name
    # Every API integration invokes an alias (a published version), the only thing SnapStart restores.
    (api,) = _of_type(resources, "AWS::ApiGateway::RestApi").values()
    uris = [
        method["x-amazon-apigateway-integration"]["uri"]
        for path in api["Properties"]["Body"]["paths"].values()
        for method in path.values()
        if isinstance(method, dict) and "x-amazon-apigateway-integration" in method
    ]
    assert uris
    for uri in uris:
        function, _, alias = uri.split(":function:")[1].removesuffix("/invocations").partition(":")
        assert aliases.get(function) == alias, uri


# -- the docs page ------------------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and not found.get("src"):
            self._in_script = True
        if (tag == "script" and found.get("src")) or (tag == "link" and found.get("rel") == "stylesheet"):
            self.external.append({"url": found.get("src") or found.get("href"), **found})

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)


def test_docs_page_pins_swagger_ui_with_sri_under_a_content_security_policy() -> None:
    from handlers import docs

    reply = docs.handler({"path": "/docs", "requestContext": {"requestId": "r"}})
    assets = _Assets()
    assets.feed(reply["body"])
    assert len(assets.external) == 2
    policy = dict(
        [*directive.split(" ", 1), ""][:2] for directive in reply["headers"]["content-security-policy"].split("; ")
    )
    assert policy["default-src"] == "'none'" and "unsafe-eval" not in json.dumps(policy)
    assert policy["frame-ancestors"] == "'none'" and policy["connect-src"] == "'self'"
    for asset in assets.external:
        url = str(asset["url"])
        assert re.search(r"@\d+\.\d+\.\d+/", url), f"not pinned to one version: {url}"
        assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", str(asset["integrity"])), url
        assert asset["crossorigin"] == "anonymous", url  # SRI on a cross-origin file needs CORS
        directive = "script-src" if url.endswith(".js") else "style-src"
        assert url in policy[directive].split(), f"{url} not allowed by {directive}"
    (script,) = assets.inline_scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy["script-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"]
    document = docs.handler({"path": "/openapi.json", "requestContext": {"requestId": "r"}})
    assert "content-security-policy" not in document["headers"]
