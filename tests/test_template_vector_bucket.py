"""template.yaml's vector bucket (the vector stores' indexes, made at run time): encrypted with S3's keys or the
stack's KMS key when given, retained; and what the local stack makes of its Ref and GetAtt, as CloudFormation
does: the bucket's ARN (the primary identifier of AWS::S3Vectors::VectorBucket's registry schema; its attributes
are VectorBucketArn and CreationTime), the name its last part."""

from __future__ import annotations

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _deployed

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


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
