"""Operations, read from template.yaml: every function's log group with retention, access logs without keys or
bodies, alarms whose metrics exist for the stack's resources, and a dashboard of the same.

Lists (functions, alarms, queues, tables) are derived from the template, through ``infra.template.load()``
(the template as written) and ``infra.local.stack.load()`` (as SAM translates it, intrinsics resolved).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _deployed, _of_type

TOPIC = "arn:aws:sns:us-east-1:123456789012:on-call"


def _functions() -> dict[str, Any]:
    return _of_type(template.load()["Resources"], "AWS::Serverless::Function")


def test_retention_is_a_parameter_of_30_days_by_default() -> None:
    parameter = template.load()["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30
    assert 30 in parameter["AllowedValues"]


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
    assert "$input" not in line_format  # no body
    assert "$util" not in line_format
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
        assert set(dims) == {"FunctionName"}, f"{where}: {dims}"
        assert dims["FunctionName"] in targets["functions"], f"{where}: {dims}"
    elif namespace == "AWS/ApiGateway":
        assert (dims.get("ApiName"), dims.get("Stage")) == targets["api"], where
        assert set(dims) == {"ApiName", "Stage"}, where
    elif namespace == "AWS/SQS":
        assert set(dims) == {"QueueName"}, f"{where}: {dims}"
        assert dims["QueueName"] in targets["queues"], f"{where}: {dims}"
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


def test_alarms_cover_5xx_rate_median_latency_dead_letters_iterator_age_and_table_throttles() -> None:
    deployed = _deployed()
    api_name, stage = _stack_metric_targets(deployed)["api"]
    api_dims = (("ApiName", api_name), ("Stage", stage))
    alarms = list(_alarms().values())
    by_metric = {(m["Namespace"], m["MetricName"]): a for a in alarms for m in _alarm_metrics(a)}
    five_xx = by_metric[("AWS/ApiGateway", "5XXError")]["Properties"]
    assert five_xx["Statistic"] == "Average"
    assert 0 < float(five_xx["Threshold"]) < 1  # a rate
    latency = by_metric[("AWS/ApiGateway", "Latency")]["Properties"]
    # The median: a streamed run's request lasts as long as the run, so p99 would be the runs' length.
    assert latency["ExtendedStatistic"] == "p50"
    assert ("AWS/ApiGateway", "5XXError", api_dims) in _watched()
    # The dead-letter queue is the cleanup's OnFailure destination; any message in it alarms.
    queue = by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]["Properties"]
    assert queue["ComparisonOperator"] == "GreaterThanThreshold"
    assert float(queue["Threshold"]) == 0
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
