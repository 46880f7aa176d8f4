"""The local gateway builds the event API Gateway builds: compared with a REST API proxy event as AWS
documents it (Lambda proxy integration, payload 1.0), key by key and type by type."""

from __future__ import annotations

from typing import Any

from infra.local.api_gateway import LocalApi

# A REST API (stage v1) proxy event for GET /v1/threads/thread_abc?limit=2, in AWS's documented shape.
AWS_EVENT: dict[str, Any] = {
    "resource": "/threads/{thread_id}",
    "path": "/threads/thread_abc",
    "httpMethod": "GET",
    "headers": {"Authorization": "Bearer sk-thr-x", "Host": "abc123.execute-api.us-east-1.amazonaws.com"},
    "multiValueHeaders": {"Authorization": ["Bearer sk-thr-x"], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
    "queryStringParameters": {"limit": "2"},
    "multiValueQueryStringParameters": {"limit": ["2"]},
    "pathParameters": {"thread_id": "thread_abc"},
    "stageVariables": None,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc123",
        "extendedRequestId": "YzqLhF3kIAMFQnw=",
        "httpMethod": "GET",
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": "203.0.113.9",
            "user": None,
            "userAgent": "OpenAI/Python 3.54.0",
            "userArn": None,
        },
        "path": "/v1/threads/thread_abc",
        "protocol": "HTTP/1.1",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTime": "23/Nov/2026:19:15:17 +0000",
        "requestTimeEpoch": 1795461317135,
        "resourceId": "a1b2c3",
        "resourcePath": "/threads/{thread_id}",
        "stage": "v1",
    },
    "body": None,
    "isBase64Encoded": False,
}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def test_the_local_event_has_aws_keys_types_and_path_rules() -> None:
    api = LocalApi()
    headers = {"Authorization": "Bearer sk-thr-x", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}
    headers["User-Agent"] = "OpenAI/Python 3.54.0"
    route, params, _ = api.match("GET", "/threads/thread_abc")
    assert route is not None
    event = api.build_event(route, params, "GET", "/v1/threads/thread_abc?limit=2", headers, b"", "203.0.113.9")
    assert set(event) == set(AWS_EVENT)
    assert _shape(event["requestContext"]) == _shape(AWS_EVENT["requestContext"])
    for key in ("resource", "path", "httpMethod", "queryStringParameters", "multiValueQueryStringParameters"):
        assert event[key] == AWS_EVENT[key], key
    assert event["pathParameters"] == AWS_EVENT["pathParameters"]
    assert event["requestContext"]["path"] == AWS_EVENT["requestContext"]["path"]  # the stage is in this one only
    assert event["requestContext"]["resourcePath"] == AWS_EVENT["requestContext"]["resourcePath"]
    assert event["requestContext"]["stage"] == "v1"
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
