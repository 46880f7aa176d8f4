"""template.yaml's least privilege: every function's policies are plain statements of specific actions on the
table, its indexes, the dead-letter queue, the workers, the files bucket's objects or the vector bucket's indexes;
no role of its own; the provider grants only under their conditions; and every route that serves data behind the
authorizer and the usage plan.

The template is read with ``infra.template.load()``, whose loader keeps CloudFormation's short tags as
plain values: ``!GetAtt Table.Arn`` is ``{"GetAtt": "Table.Arn"}``, ``!Sub "..."`` is ``{"Sub": "..."}``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import template
from tests.template_support import _api_functions, _dead_letter_queue, _functions, _resources

TABLE = "table"


def _index(name: str) -> str:
    return f"index/{name}"


DLQ = "dead-letter queue"


# What each function may do is not listed here: tests/least_privilege.py checks every call against the role
# SAM generates, and a full run fails on a permission that no call used. These tests check the policies' form.
KEY_LOOKUP = {("dynamodb:GetItem", TABLE)}  # what authenticating a key needs: the authorizer's only grant


PUBLIC_FUNCTIONS = {"DocsFunction"}  # no key, no table (an unknown route runs no function: API Gateway's 404)


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _index_names() -> set[str]:
    props = _resources()["Table"]["Properties"]
    indexes = props.get("LocalSecondaryIndexes", []) + props.get("GlobalSecondaryIndexes", [])
    return {index["IndexName"] for index in indexes}


def _resource_label(resource: Any) -> str:
    """The table, one of its indexes, the dead-letter queue, a worker, the files bucket's objects or the vector
    bucket's indexes; anything else fails."""
    if resource == {"GetAtt": "Table.Arn"}:
        return TABLE
    if resource == {"GetAtt": f"{_dead_letter_queue()}.Arn"}:
        return DLQ
    if resource == {"GetAtt": "RunWorkerFunction.Arn"}:
        return WORKER
    if resource == {"GetAtt": "IngestWorkerFunction.Arn"}:
        return INGEST_WORKER
    if resource == {"Sub": "${FilesBucket.Arn}/*"}:
        return BUCKET_OBJECTS
    if resource == {"Sub": "${VectorBucket.VectorBucketArn}/index/*"}:
        return VECTOR_INDEXES
    if isinstance(resource, dict) and set(resource) == {"Sub"} and isinstance(resource["Sub"], str):
        match = re.fullmatch(r"\$\{Table\.Arn\}/index/([A-Za-z0-9_.-]+)", resource["Sub"])
        if match and match.group(1) in _index_names():
            return _index(match.group(1))
    pytest.fail(
        "a Resource that is not the table, one of its indexes, the dead-letter queue, a worker, the files bucket's "
        f"objects or the vector bucket's indexes: {resource!r}"
    )


WORKER = "run worker"
INGEST_WORKER = "ingestion worker"
BUCKET_OBJECTS = "the files bucket's objects"
VECTOR_INDEXES = "the vector bucket's indexes"
# Resources named by a wildcard (no narrower name exists): a bucket's objects (a file's key holds its project),
# the vector bucket's indexes (one a vector store, made at run time).
WILDCARD_LABELS = frozenset({BUCKET_OBJECTS, VECTOR_INDEXES})


# The functions that call a model (and search vector stores for a run's file_search): the run worker, and the
# three that answer a streamed run themselves.
MODEL_CALLERS = frozenset(
    {"RunWorkerFunction", "CreateRunFunction", "CreateThreadAndRunFunction", "SubmitToolOutputsFunction"}
)
_QUERY = ("s3vectors:QueryVectors", "s3vectors:GetVectors")  # GetVectors: QueryVectors' returnMetadata
# The functions that write a tool_resources helper's or attachments' files into a store hand them to the ingestion
# worker; two of them start runs too, so they may invoke both workers.
_WRITERS = ("CreateAssistant", "ModifyAssistant", "CreateThread", "ModifyThread", "CreateMessage", "CreateRun")
STORE_WRITERS = frozenset({*(f"{name}Function" for name in _WRITERS), "CreateThreadAndRunFunction"})


# Outside DynamoDB, each function may do only these: (function, action) -> the resource label it must be on.
# The run worker's provider grants exist only under the stack's conditions (a key parameter, Bedrock).
OTHER_GRANTS = {
    ("CleanupFunction", "sqs:SendMessage"): DLQ,
    ("CreateRunFunction", "lambda:InvokeFunction"): WORKER,
    ("CreateThreadAndRunFunction", "lambda:InvokeFunction"): WORKER,
    ("SubmitToolOutputsFunction", "lambda:InvokeFunction"): WORKER,
    ("CreateFileFunction", "s3:PutObject"): BUCKET_OBJECTS,
    ("CreateFileFunction", "s3:DeleteObject"): BUCKET_OBJECTS,  # the bytes of a file whose item failed
    ("RetrieveFileContentFunction", "s3:GetObject"): BUCKET_OBJECTS,
    ("DeleteFileFunction", "s3:DeleteObject"): BUCKET_OBJECTS,
    ("CleanupFunction", "s3:DeleteObject"): BUCKET_OBJECTS,  # an upload's whose pending item expired
    # Vector stores: the ingestion worker is handed files, one event each, by the functions that add them.
    ("CreateVectorStoreFunction", "lambda:InvokeFunction"): INGEST_WORKER,
    ("CreateVectorStoreFileFunction", "lambda:InvokeFunction"): INGEST_WORKER,
    ("CreateVectorStoreFileBatchFunction", "lambda:InvokeFunction"): INGEST_WORKER,
    # A store's file's bytes read, its parsed text written (and deleted when the ingestion fails), read
    # (content), deleted with the file or the store.
    ("IngestWorkerFunction", "s3:GetObject"): BUCKET_OBJECTS,
    ("IngestWorkerFunction", "s3:PutObject"): BUCKET_OBJECTS,
    ("IngestWorkerFunction", "s3:DeleteObject"): BUCKET_OBJECTS,
    ("RetrieveVectorStoreFileContentFunction", "s3:GetObject"): BUCKET_OBJECTS,
    ("DeleteVectorStoreFileFunction", "s3:DeleteObject"): BUCKET_OBJECTS,
    # A store's index: made and written by the worker (and deleted again when its store was purged meanwhile),
    # searched, a file's vectors deleted with it, the whole index with its store.
    ("IngestWorkerFunction", "s3vectors:CreateIndex"): VECTOR_INDEXES,
    ("IngestWorkerFunction", "s3vectors:PutVectors"): VECTOR_INDEXES,
    ("IngestWorkerFunction", "s3vectors:DeleteVectors"): VECTOR_INDEXES,
    ("IngestWorkerFunction", "s3vectors:DeleteIndex"): VECTOR_INDEXES,
    ("SearchVectorStoreFunction", "s3vectors:QueryVectors"): VECTOR_INDEXES,
    ("SearchVectorStoreFunction", "s3vectors:GetVectors"): VECTOR_INDEXES,  # QueryVectors' returnMetadata
    ("DeleteVectorStoreFileFunction", "s3vectors:DeleteVectors"): VECTOR_INDEXES,
    ("CleanupFunction", "s3vectors:DeleteIndex"): VECTOR_INDEXES,
    # file_search in runs: the worker, and the three functions that answer a streamed run, search the stores.
    **{(name, action): VECTOR_INDEXES for name in MODEL_CALLERS for action in _QUERY},
    ("AddUploadPartFunction", "s3:PutObject"): BUCKET_OBJECTS,
    ("CompleteUploadFunction", "s3:GetObject"): BUCKET_OBJECTS,  # the parts
    ("CompleteUploadFunction", "s3:PutObject"): BUCKET_OBJECTS,  # the file's multipart upload
    ("CompleteUploadFunction", "s3:AbortMultipartUpload"): BUCKET_OBJECTS,  # one that failed
    ("CompleteUploadFunction", "s3:DeleteObject"): BUCKET_OBJECTS,  # the parts, once done
    ("CancelUploadFunction", "s3:DeleteObject"): BUCKET_OBJECTS,
}


SSM_PARAMETER = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"


def _key(*actions: str) -> list[dict[str, Any]]:
    """The statement of a grant on the stack's KMS key."""
    return [{"Effect": "Allow", "Action": list(actions), "Resource": {"Ref": "KmsKeyArn"}}]


def _ssm(parameter: str) -> list[dict[str, Any]]:
    """The statement of a grant to read a key's parameter, named by the stack's parameter ``parameter``."""
    return [
        {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": {"Sub": f"{SSM_PARAMETER}${{{parameter}}}"}}
    ]


CONDITIONAL_GRANTS = {
    # Sending to a dead-letter queue encrypted with a customer managed key takes the key (Lambda sends as the role).
    "HasKmsKey": _key("kms:Decrypt", "kms:GenerateDataKey"),
    "HasModelKey": _ssm("ModelApiKeyParameter"),
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
    "HasEmbeddingsKey": _ssm("EmbeddingsApiKeyParameter"),
    # Titan Text Embeddings V2, a foundation model of the stack's region (no inference profile).
    "EmbedsWithBedrock": [
        {
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel"],
            "Resource": {"Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*"},
        }
    ],
}


# The key grants of the functions that touch the buckets (S3: GenerateDataKey to write an object, Decrypt to
# read one; S3 Vectors' vector operations take Decrypt from the caller): (function, condition) -> statements.
_DECRYPT = _key("kms:Decrypt")
FUNCTION_CONDITIONAL_GRANTS = {
    ("CreateFileFunction", "HasKmsKey"): _key("kms:GenerateDataKey"),
    ("RetrieveFileContentFunction", "HasKmsKey"): _DECRYPT,
    ("RetrieveVectorStoreFileContentFunction", "HasKmsKey"): _DECRYPT,  # GetObject
    ("DeleteVectorStoreFileFunction", "HasKmsKey"): _DECRYPT,  # DeleteVectors
    ("SearchVectorStoreFunction", "HasKmsKey"): _DECRYPT,  # QueryVectors
    **{(name, "HasKmsKey"): _DECRYPT for name in MODEL_CALLERS},  # a run's file_search: QueryVectors
    # GetObject, PutVectors and DeleteVectors (Decrypt); PutObject (GenerateDataKey).
    ("IngestWorkerFunction", "HasKmsKey"): _key("kms:Decrypt", "kms:GenerateDataKey"),
    ("AddUploadPartFunction", "HasKmsKey"): _key("kms:GenerateDataKey"),
    # A multipart upload with a customer managed key needs both (S3 decrypts the parts to complete it).
    ("CompleteUploadFunction", "HasKmsKey"): _key("kms:Decrypt", "kms:GenerateDataKey"),
}


# The functions that embed text: the ingestion worker (chunks), the search and a run's file_search (queries).
EMBEDDERS = frozenset({"IngestWorkerFunction", "SearchVectorStoreFunction", *MODEL_CALLERS})
# Which functions may hold each conditional grant.
CONDITIONAL_GRANTEES = {
    # the dead-letter queue's sender (CONDITIONAL_GRANTS), and the functions of the buckets (above)
    "HasKmsKey": frozenset({"CleanupFunction"} | {n for n, c in FUNCTION_CONDITIONAL_GRANTS if c == "HasKmsKey"}),
    "HasModelKey": MODEL_CALLERS,
    "UsesBedrock": MODEL_CALLERS,
    "HasEmbeddingsKey": EMBEDDERS,
    "EmbedsWithBedrock": EMBEDDERS,
}


def _conditional(name: str, policy: Any) -> bool:
    """The providers' grants (models, embeddings) and the key grants, each under its condition and exactly as
    written above."""
    if set(policy) != {"If"} or not any(name in grantees for grantees in CONDITIONAL_GRANTEES.values()):
        return False
    condition, then, otherwise = policy["If"]
    assert name in CONDITIONAL_GRANTEES.get(condition, frozenset()), f"{name}: a grant under {condition}"
    assert otherwise == {"Ref": "AWS::NoValue"}, policy
    expected = FUNCTION_CONDITIONAL_GRANTS.get((name, condition), CONDITIONAL_GRANTS[condition])
    assert then == {"Statement": expected}, policy
    return True


def _grants(name: str) -> set[tuple[str, str]]:
    """(action, resource) pairs a function's Policies allow, after checking that they are plain statements."""
    props = _functions()[name]["Properties"]
    granted: set[tuple[str, str]] = set()
    for policy in props.get("Policies") or []:
        if _conditional(name, policy):
            continue
        # Not a managed policy's name or ARN (a string), not a SAM policy template ({"DynamoDBCrudPolicy": ...}).
        assert isinstance(policy, dict), f"{name}: {policy!r}"
        assert set(policy) == {"Statement"}, f"{name}: {policy!r}"
        statements = policy["Statement"]
        assert isinstance(statements, list), f"{name}: {policy!r}"
        assert statements, f"{name}: {policy!r}"
        for statement in statements:
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, f"{name}: {statement!r}"
            assert statement["Effect"] == "Allow", f"{name}: {statement!r}"
            actions, resources = _listify(statement["Action"]), _listify(statement["Resource"])
            assert actions, f"{name}: {statement!r}"
            assert resources, f"{name}: {statement!r}"
            for action in actions:
                assert isinstance(action, str), f"{name}: wildcard action {action!r}"
                assert "*" not in action, f"{name}: wildcard action {action!r}"
                allowed = re.fullmatch(r"dynamodb:[A-Z][A-Za-z]+", action) or _labels(name, action)
                assert allowed, f"{name}: {action!r} is not a specific DynamoDB action"
            for resource in resources:
                label = _resource_label(resource)
                # Only what no narrower name reaches is named by a wildcard (WILDCARD_LABELS says why).
                assert label in WILDCARD_LABELS or "*" not in json.dumps(resource), f"{name}: wildcard {resource!r}"
                for action in actions:
                    assert label in (_labels(name, action) or {label}), f"{name}: {action} on {resource!r}"
                    granted.add((action, label))
    return granted


def _labels(name: str, action: str) -> set[str]:
    """The resources a function's action outside DynamoDB may be on (none: it may not have it)."""
    labels = {OTHER_GRANTS[(name, action)]} if (name, action) in OTHER_GRANTS else set()
    if action == "lambda:InvokeFunction" and name in STORE_WRITERS:
        labels.add(INGEST_WORKER)
    return labels


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
            assert route.authorizer is None, route
            assert not route.api_key_required, route
            assert not _grants(route.function), route.function
        else:
            assert route.authorizer == "KeyAuthorizer", route
            assert route.api_key_required, route
    assert "AuthorizerFunction" not in _api_functions()  # API Gateway calls it; it serves no route


def test_the_authorizer_may_only_read_a_key_and_no_api_function_needs_the_key_cache() -> None:
    assert _grants("AuthorizerFunction") == KEY_LOOKUP
    variables = _functions()["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["KEY_CACHE_SECONDS"] == {"Ref": "KeyCacheSeconds"}
    assert "KEY_CACHE_SECONDS" not in template.load()["Globals"]["Function"]["Environment"]["Variables"]
