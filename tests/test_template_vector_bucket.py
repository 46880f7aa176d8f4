"""template.yaml's vector bucket (the vector stores' indexes, made at run time): encrypted with S3's keys or the
stack's KMS key when given, retained; its indexes reachable by the functions that index, search or delete only,
each with the actions it uses, and the bucket itself by none; and what the local stack makes of its Ref and
GetAtt, as CloudFormation does: the bucket's ARN (the primary identifier of AWS::S3Vectors::VectorBucket's
registry schema; its attributes are VectorBucketArn and CreationTime), the name its last part."""

from __future__ import annotations

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _deployed

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# function -> the S3 Vectors actions it has on the bucket's indexes (one a vector store)
INDEX_ACTIONS = {
    # A store's index made with its first file, its vectors written, a failed file's deleted, and the index
    # deleted again when its store was purged while the worker wrote.
    "IngestWorkerFunction": {
        "s3vectors:CreateIndex",
        "s3vectors:PutVectors",
        "s3vectors:DeleteVectors",
        "s3vectors:DeleteIndex",
    },
    "SearchVectorStoreFunction": {"s3vectors:QueryVectors", "s3vectors:GetVectors"},  # returnMetadata: GetVectors
    "DeleteVectorStoreFileFunction": {"s3vectors:DeleteVectors"},  # the file's vectors
    "CleanupFunction": {"s3vectors:DeleteIndex"},  # a deleted store's index, every vector at once
    # a run's file_search: the worker, and the functions that answer a streamed run themselves
    **{
        name: {"s3vectors:QueryVectors", "s3vectors:GetVectors"}
        for name in (
            "RunWorkerFunction",
            "CreateRunFunction",
            "CreateThreadAndRunFunction",
            "SubmitToolOutputsFunction",
        )
    },
}
ACTIONS = sorted(
    {a for actions in INDEX_ACTIONS.values() for a in actions} | {"s3vectors:GetIndex", "s3vectors:ListVectors"}
)
BUCKET_ACTIONS = ["s3vectors:ListIndexes", "s3vectors:GetVectorBucket", "s3vectors:DeleteVectorBucket"]


@pytest.mark.parametrize("kms_key", ["", KMS_KEY])
def test_the_vector_bucket_is_retained_and_encrypted_with_the_stacks_key_when_given(kms_key: str) -> None:
    bucket = _deployed(KmsKeyArn=kms_key).resources["VectorBucket"]
    assert bucket["Type"] == "AWS::S3Vectors::VectorBucket"
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    expected = {"SseType": "aws:kms", "KmsKeyArn": kms_key} if kms_key else {"SseType": "AES256"}
    assert bucket["Properties"] == {"EncryptionConfiguration": expected}  # no name: CloudFormation makes one


def test_its_ref_and_arn_resolve_as_cloudformation_resolves_them() -> None:
    resolver = stack._Resolver(stack.translate(template.TEMPLATE), "s", "threads-api-test", {})
    arn = "arn:aws:s3vectors:us-east-1:123456789012:bucket/threads-api-test-vectors"
    assert resolver.resolve({"Ref": "VectorBucket"}) == arn
    assert resolver.resolve({"Fn::GetAtt": ["VectorBucket", "VectorBucketArn"]}) == arn
    assert resolver.resolve({"Fn::Sub": "${VectorBucket.VectorBucketArn}/index/*"}) == f"{arn}/index/*"
    name = {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": ["VectorBucket", "VectorBucketArn"]}]}]}
    assert resolver.resolve(name) == stack.vector_bucket_name("threads-api-test") == "threads-api-test-vectors"


def test_only_the_vector_functions_reach_the_indexes_each_with_its_actions() -> None:
    deployed = _deployed()
    bucket_arn = f"arn:aws:s3vectors:us-east-1:123456789012:bucket/{stack.vector_bucket_name(deployed.table_name)}"
    index_arn = f"{bucket_arn}/index/{'a' * 44}"
    others = "arn:aws:s3vectors:us-east-1:123456789012:bucket/another-bucket/index/aaaa"
    for name, function in deployed.functions.items():
        granted = {action for action in ACTIONS if function.allows(action, index_arn)}
        assert granted == INDEX_ACTIONS.get(name, set()), name
        assert not any(function.allows(action, others) for action in ACTIONS), name
        assert not any(function.allows(action, bucket_arn) for action in BUCKET_ACTIONS), name
        if name in INDEX_ACTIONS:
            assert function.environment["VECTOR_BUCKET_NAME"] == bucket_arn, name  # its Ref: s3vectors takes either
