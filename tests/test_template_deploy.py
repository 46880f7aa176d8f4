"""A deploy whose defaults work, read from template.yaml: a layer per stack, the partition's URL suffix, the
customer managed key only when given, samconfig.toml's answers, AWS WAF's rate rule per address only when
asked for, and SnapStart behind a parameter."""

from __future__ import annotations

import json
import re

import pytest

from infra import template
from tests.template_support import _deployed, _of_type

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


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
    assert "${AWS::URLSuffix}" in base_url
    assert "amazonaws.com" not in base_url
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
    # The key is granted to the functions that write to the queue or the files bucket (GenerateDataKey), read
    # from the bucket (Decrypt) or make S3 Vectors' vector operations (Decrypt, the caller's), and only when there
    # is a key: the table's callers are let in by the key policy (through DynamoDB), not by their roles.
    for name, function in deployed.functions.items():
        uses_key = function.allows("kms:GenerateDataKey", kms_key or KMS_KEY)
        assert uses_key == (bool(kms_key) and name in KEY_WRITERS), name
        decrypts = function.allows("kms:Decrypt", kms_key or KMS_KEY)
        assert decrypts == (bool(kms_key) and name in KEY_READERS), name


# With the stack's key: who asks KMS for a data key (the queue's sender, PutObject's callers) and who decrypts
# (the queue's sender, GetObject's callers; S3 Vectors' PutVectors, DeleteVectors and QueryVectors take
# kms:Decrypt from the caller: Amazon S3 User Guide, "Data protection and encryption in S3 Vectors").
# An upload's completion is a multipart upload: with a customer managed key, S3 needs both of its caller.
KEY_WRITERS = frozenset(
    {"CleanupFunction", "CreateFileFunction", "IngestWorkerFunction", "AddUploadPartFunction", "CompleteUploadFunction"}
)
KEY_READERS = frozenset(
    {
        "CleanupFunction",  # the dead-letter queue
        "CompleteUploadFunction",  # GetObject (the parts), and a multipart upload's
        "RetrieveFileContentFunction",  # GetObject
        "RetrieveVectorStoreFileContentFunction",  # GetObject
        "IngestWorkerFunction",  # GetObject, PutVectors, DeleteVectors
        "DeleteVectorStoreFileFunction",  # DeleteVectors
        "SearchVectorStoreFunction",  # QueryVectors
        # a run's file_search (QueryVectors): the worker, and the functions that answer a streamed run themselves
        "RunWorkerFunction",
        "CreateRunFunction",
        "CreateThreadAndRunFunction",
        "SubmitToolOutputsFunction",
    }
)


def test_samconfig_deploys_without_questions_with_iam_capability_and_a_changeset_review() -> None:
    import tomllib

    config = tomllib.loads((template.ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
    assert deploy["resolve_s3"] is True
    assert config["default"]["global"]["parameters"]["stack_name"]
    assert "region" not in deploy  # the region is the user's (AWS_REGION or the profile's)


def test_without_ip_rate_limit_there_is_no_web_acl() -> None:
    kinds = {r["Type"] for r in _deployed().resources.values()}
    assert not {k for k in kinds if k.startswith("AWS::WAFv2::")}


def test_ip_rate_limit_puts_a_rate_rule_per_address_on_the_apis_stage() -> None:
    resources = _deployed(IpRateLimit="1000").resources
    ((acl_name, acl),) = _of_type(resources, "AWS::WAFv2::WebACL").items()
    (association,) = _of_type(resources, "AWS::WAFv2::WebACLAssociation").values()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    assert props["DefaultAction"] == {"Allow": {}}
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
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    assert (error["type"], error["param"], error["code"]) == ("requests", None, "rate_limit_exceeded")
    assert f"after {headers['retry-after']} seconds" in error["message"]


@pytest.mark.parametrize(
    ("value", "accepted"), [("0", True), ("10", True), ("2000", True), ("5", False), ("010", False), ("-1", False)]
)
def test_ip_rate_limit_takes_0_or_wafs_minimum_of_10_and_more(value: str, accepted: bool) -> None:
    pattern = template.load()["Parameters"]["IpRateLimit"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted


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
        # A streaming integration invokes InvokeWithResponseStream (.../response-streaming-invocations).
        target = uri.split(":function:")[1].removesuffix("/response-streaming-invocations").removesuffix("/invocations")
        function, _, alias = target.partition(":")
        assert aliases.get(function) == alias, uri
