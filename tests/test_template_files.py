"""template.yaml's files bucket: private (Block Public Access, the bucket owner's objects), TLS only, encrypted
(S3's keys, or the stack's KMS key when given), retained, unfinished multipart uploads discarded; its objects
reachable by the functions that use them only (the files' and uploads', and the vector stores' for their files'
bytes and parsed texts), each with the actions it uses; the Api's binary media types for the form and the bytes."""

from __future__ import annotations

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _deployed

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# function -> the S3 actions it has on the bucket's objects
FILE_ACTIONS = {
    "CreateFileFunction": {"s3:PutObject", "s3:DeleteObject"},
    "RetrieveFileContentFunction": {"s3:GetObject"},
    "DeleteFileFunction": {"s3:DeleteObject"},
    # The object of an upload that never finished (its item expired); a purged vector store's files' parsed texts.
    "CleanupFunction": {"s3:DeleteObject"},
    # A vector store's file: its bytes read, its parsed text written (deleted when its ingestion fails).
    "IngestWorkerFunction": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
    "RetrieveVectorStoreFileContentFunction": {"s3:GetObject"},  # its parsed text
    "DeleteVectorStoreFileFunction": {"s3:DeleteObject"},  # its parsed text, with the file
    "AddUploadPartFunction": {"s3:PutObject"},
    # The parts read, the file written as a multipart upload (aborted when it fails), the parts deleted.
    "CompleteUploadFunction": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"},
    "CancelUploadFunction": {"s3:DeleteObject"},
}
OBJECT_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def test_the_bucket_is_private_retained_and_takes_only_tls() -> None:
    deployed = _deployed()
    bucket = deployed.resources["FilesBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (statement,) = deployed.resources["FilesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket_arn = f"arn:aws:s3:::{stack.bucket_name(deployed.table_name)}"
    assert statement["Resource"] == [bucket_arn, f"{bucket_arn}/*"]


def test_the_bucket_discards_unfinished_multipart_uploads_after_a_day() -> None:
    """A completion stopped between its multipart upload's start and its end leaves parts S3 keeps (and bills)
    until they are aborted: the lifecycle rule aborts them a day on."""
    props = _deployed().resources["FilesBucket"]["Properties"]
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert set(rule) == {"Id", "Status", "AbortIncompleteMultipartUpload"}  # nothing else expires


@pytest.mark.parametrize("kms_key", ["", KMS_KEY])
def test_the_bucket_is_encrypted_with_the_stacks_key_when_given(kms_key: str) -> None:
    deployed = _deployed(KmsKeyArn=kms_key)
    (rule,) = deployed.resources["FilesBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    if kms_key:
        assert rule == {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key},
        }
    else:
        assert rule == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}


def test_only_the_files_functions_reach_the_objects_each_with_its_actions() -> None:
    deployed = _deployed()
    objects = deployed.bucket_objects_arn()
    for name, function in deployed.functions.items():
        granted = {a for a in OBJECT_ACTIONS if function.allows(a, objects)}
        assert granted == FILE_ACTIONS.get(name, set()), name
        assert not function.allows("s3:ListBucket", objects.removesuffix("/*")), name
        if name in FILE_ACTIONS or name in ("ListFilesFunction", "RetrieveFileFunction"):
            assert function.environment["BUCKET_NAME"] == stack.bucket_name(deployed.table_name)


def test_the_form_and_the_bytes_are_binary_media() -> None:
    types = template.binary_media_types()
    assert {"multipart/form-data", "application/binary", "application/octet-stream"} <= set(types)
    assert "application/json" not in types
    assert "*/*" not in types
