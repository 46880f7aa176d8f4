"""IAM's evaluation as the deployed mode and the handler tests apply it (infra/local/iam.py), without AWS."""

from __future__ import annotations

import pytest

from infra.local import iam

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"


def test_a_call_needs_its_action_on_the_table_or_the_queried_index() -> None:
    def required(operation: str, **params: object) -> list[iam.Grant]:
        return iam.required("dynamodb", operation, params, "us-east-1", "123456789012")

    assert required("GetItem", TableName="t") == [("dynamodb:GetItem", TABLE)]
    assert required("Query", TableName="t", IndexName="by_order") == [("dynamodb:Query", f"{TABLE}/index/by_order")]
    assert required("BatchGetItem", RequestItems={"t": {"Keys": []}}) == [("dynamodb:BatchGetItem", TABLE)]
    transaction = [
        {"Update": {"TableName": "t"}},
        {"Put": {"TableName": "t"}},
        {"ConditionCheck": {"TableName": "t"}},
        {"Delete": {"TableName": TABLE}},
    ]
    assert required("TransactWriteItems", TransactItems=transaction) == [
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:ConditionCheckItem", TABLE),
        ("dynamodb:DeleteItem", TABLE),
    ]
    assert iam.required("sqs", "SendMessage", {}, "us-east-1", "1") == [("sqs:SendMessage", "*")]


def test_an_s3_call_needs_its_action_on_each_object_it_touches() -> None:
    """S3's actions as AWS's Service Authorization Reference maps its operations: a multipart upload's steps are
    s3:PutObject, its abort s3:AbortMultipartUpload, DeleteObjects s3:DeleteObject on each key, a copy
    s3:PutObject on the object and s3:GetObject on its source."""

    def required(operation: str, **params: object) -> list[iam.Grant]:
        return iam.required("s3", operation, {"Bucket": "b", **params}, "us-east-1", "123456789012")

    for operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert required(operation, Key="p/f") == [("s3:PutObject", "arn:aws:s3:::b/p/f")], operation
    assert required("GetObject", Key="p/f") == [("s3:GetObject", "arn:aws:s3:::b/p/f")]
    assert required("AbortMultipartUpload", Key="p/f") == [("s3:AbortMultipartUpload", "arn:aws:s3:::b/p/f")]
    assert required("DeleteObjects", Delete={"Objects": [{"Key": "p/u/1"}, {"Key": "p/u/2"}]}) == [
        ("s3:DeleteObject", "arn:aws:s3:::b/p/u/1"),
        ("s3:DeleteObject", "arn:aws:s3:::b/p/u/2"),
    ]
    assert required("UploadPartCopy", Key="p/f", CopySource="b/p/u/1") == [
        ("s3:PutObject", "arn:aws:s3:::b/p/f"),
        ("s3:GetObject", "arn:aws:s3:::b/p/u/1"),
    ]
    assert required("CopyObject", Key="p/f", CopySource={"Bucket": "b", "Key": "p/u/1"})[1] == (
        "s3:GetObject",
        "arn:aws:s3:::b/p/u/1",
    )
    assert required("ListObjectsV2") == [("s3:ListObjectsV2", "*")]  # nothing else expected: fail closed


def test_allow_deny_and_wildcards() -> None:
    statements: list[iam.Statement] = [
        {"Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Query"], "Resource": [TABLE, f"{TABLE}/index/*"]},
        {"Effect": "Deny", "Action": "dynamodb:Query", "Resource": f"{TABLE}/index/secret"},
    ]
    assert iam.allows(statements, "dynamodb:GetItem", TABLE)
    assert iam.allows(statements, "DynamoDB:getitem", TABLE)  # actions are case-insensitive
    assert iam.allows(statements, "dynamodb:Query", f"{TABLE}/index/by_order")
    assert not iam.allows(statements, "dynamodb:Query", f"{TABLE}/index/secret")  # an explicit deny wins
    assert not iam.allows(statements, "dynamodb:PutItem", TABLE)  # nothing allows it
    assert not iam.allows(statements, "dynamodb:GetItem", TABLE.upper())  # resources are case-sensitive
    assert not iam.allows([], "dynamodb:GetItem", TABLE)


def test_a_condition_or_an_unknown_managed_policy_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="condition"):
        iam.allows([{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}], "dynamodb:GetItem", TABLE)
    with pytest.raises(ValueError, match="unknown managed policy"):
        iam.role_statements([], ["arn:aws:iam::aws:policy/AdministratorAccess"])


def test_denials_read_as_aws_writes_them() -> None:
    message = iam.denial_message("arn:aws:iam::1:role/r", "dynamodb:GetItem", TABLE)
    assert message == (
        f"User: arn:aws:sts::1:assumed-role/r/function is not authorized to perform: dynamodb:GetItem on resource: "
        f"{TABLE} because no identity-based policy allows the dynamodb:GetItem action"
    )


def test_an_s3_vectors_call_needs_its_action_on_the_index() -> None:
    """Service Authorization Reference (Amazon S3 Vectors): the operations on an index take the index's ARN,
    CreateIndex too; API Reference, QueryVectors and ListVectors: a filter or metadata (ListVectors: data or
    metadata) also needs s3vectors:GetVectors."""

    def required(operation: str, **params: object) -> list[iam.Grant]:
        return iam.required("s3vectors", operation, params, "us-east-1", "123456789012")

    index = "arn:aws:s3vectors:us-east-1:123456789012:bucket/b/index/i"
    named = {"vectorBucketName": "b", "indexName": "i"}
    for operation in ("CreateIndex", "DeleteIndex", "GetIndex", "PutVectors", "DeleteVectors", "GetVectors"):
        assert required(operation, **named) == [(f"s3vectors:{operation}", index)]
    assert required("CreateIndex", vectorBucketArn=index.removesuffix("/index/i"), indexName="i") == [
        ("s3vectors:CreateIndex", index)
    ]
    assert required("QueryVectors", indexArn=index, topK=1) == [("s3vectors:QueryVectors", index)]
    for asked in ({"returnMetadata": True}, {"filter": {"file_id": "f"}}):
        assert required("QueryVectors", **named, **asked) == [
            ("s3vectors:QueryVectors", index),
            ("s3vectors:GetVectors", index),
        ]
    assert required("ListVectors", **named) == [("s3vectors:ListVectors", index)]
    assert required("ListVectors", **named, returnData=True)[1] == ("s3vectors:GetVectors", index)
    assert required("CreateVectorBucket", vectorBucketName="b") == [("s3vectors:CreateVectorBucket", "*")]
