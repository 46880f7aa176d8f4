"""IAM as AWS evaluates it for our functions: which (action, resource) pairs an API call needs, and
whether a role's policies allow them.

Standard library only: the deployed mode's Lambda workers load this file beside the function's code,
without the development virtualenv. The handler tests use it too, so a call that a function's policy
does not allow fails every test run, in-process and deployed alike.

What a call needs follows IAM's documentation for DynamoDB: one action per operation on the table, or
on ``<table>/index/<name>`` for a ``Query`` or ``Scan`` of an index; ``BatchGetItem`` and
``BatchWriteItem`` on each table they name; a transaction has no action of its own: each of its items
needs ``PutItem``, ``UpdateItem``, ``DeleteItem``, ``ConditionCheckItem`` or ``GetItem`` on its table.
And for the run worker's calls: Lambda's ``Invoke`` needs ``lambda:InvokeFunction`` on the function, SSM's
``GetParameter`` ``ssm:GetParameter`` on the parameter, Bedrock's ``Converse`` ``bedrock:InvokeModel`` on
the model; S3's ``PutObject``, ``GetObject`` and ``DeleteObject`` their action on the object
(``arn:aws:s3:::<bucket>/<key>``), ``DeleteObjects`` ``s3:DeleteObject`` on each object it names; a multipart
upload's ``CreateMultipartUpload``, ``UploadPart`` and ``CompleteMultipartUpload`` ``s3:PutObject`` on the
object, ``AbortMultipartUpload`` ``s3:AbortMultipartUpload``; a copy (``CopyObject``, ``UploadPartCopy``)
``s3:PutObject`` on the object and ``s3:GetObject`` on its source (AWS's Service Authorization Reference).
S3 Vectors' operations on an index their action (``s3vectors:<Operation>``) on the index
(``arn:aws:s3vectors:<region>:<account>:bucket/<bucket>/index/<index>``), and a read of vectors' metadata or
data through QueryVectors or ListVectors ``s3vectors:GetVectors`` there too.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

Grant = tuple[str, str]  # (action, resource ARN)
Statement = dict[str, Any]

# AWS managed policies that SAM attaches, as far as they matter here (what they grant, not their full text).
MANAGED_POLICIES: dict[str, list[Statement]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}

_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


# S3's object operations of the Files API: each needs its action on the object's ARN (arn:aws:s3:::bucket/key).
_S3_OBJECT_ACTIONS = {
    "PutObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "DeleteObject": "s3:DeleteObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "CopyObject": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
}
_S3_COPIES = {"CopyObject", "UploadPartCopy"}  # and s3:GetObject on the source (CopySource: "bucket/key")


# S3 Vectors' operations on an index: each needs its action on the index's ARN (CreateIndex too: its resource is
# the index it makes). QueryVectors with a filter or returnMetadata, and ListVectors with returnData or
# returnMetadata, need s3vectors:GetVectors on the index as well (API Reference, QueryVectors and ListVectors).
_S3VECTORS_INDEX_OPERATIONS = {
    "CreateIndex",
    "DeleteIndex",
    "GetIndex",
    "PutVectors",
    "DeleteVectors",
    "GetVectors",
    "ListVectors",
    "QueryVectors",
}


def _s3vectors(operation: str, params: dict[str, Any], region: str, account: str) -> list[Grant]:
    arn = str(params.get("indexArn") or "")
    if not arn:
        bucket = str(params.get("vectorBucketArn") or "").rpartition("/")[2] or params.get("vectorBucketName", "")
        arn = f"arn:aws:s3vectors:{region}:{account}:bucket/{bucket}/index/{params.get('indexName', '')}"
    grants = [(f"s3vectors:{operation}", arn)]
    reads = {"QueryVectors": ("filter", "returnMetadata"), "ListVectors": ("returnData", "returnMetadata")}
    if any(params.get(name) for name in reads.get(operation, ())):
        grants.append(("s3vectors:GetVectors", arn))
    return grants


def table_arn(table: str, region: str, account: str) -> str:
    return table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"


def required(service: str, operation: str, params: dict[str, Any], region: str, account: str) -> list[Grant]:
    """The (action, resource) pairs IAM checks for one API call."""
    if service == "lambda" and operation == "Invoke":
        name = str(params.get("FunctionName", ""))
        return [
            (
                "lambda:InvokeFunction",
                name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}",
            )
        ]
    if service == "ssm" and operation == "GetParameter":
        name = str(params.get("Name", "")).lstrip("/")
        return [("ssm:GetParameter", f"arn:aws:ssm:{region}:{account}:parameter/{name}")]
    if service == "bedrock-runtime" and operation in ("Converse", "ConverseStream"):
        model = str(params.get("modelId", ""))
        arn = model if model.startswith("arn:") else f"arn:aws:bedrock:{region}::foundation-model/{model}"
        return [("bedrock:InvokeModel", arn)]
    if service == "s3":
        return _s3_required(operation, params)
    if service == "s3vectors" and operation in _S3VECTORS_INDEX_OPERATIONS:
        return _s3vectors(operation, params, region, account)
    if service != "dynamodb":
        return [(f"{service}:{operation}", "*")]  # nothing else is expected of our functions: fail closed
    action = f"dynamodb:{operation}"
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(action, table_arn(table, region, account)) for table in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        grants = []
        for item in params.get("TransactItems", []):
            ((kind, request),) = item.items()
            grants.append((_TRANSACT_ACTIONS[kind], table_arn(request["TableName"], region, account)))
        return grants
    table = str(params.get("TableName", ""))
    resource = table_arn(table, region, account)
    if params.get("IndexName") and operation in ("Query", "Scan"):
        resource += f"/index/{params['IndexName']}"
    return [(action, resource)]


def _s3_required(operation: str, params: dict[str, Any]) -> list[Grant]:
    bucket = params.get("Bucket", "")
    if operation == "DeleteObjects":
        return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{o.get('Key', '')}") for o in params["Delete"]["Objects"]]
    if operation not in _S3_OBJECT_ACTIONS:
        return [(f"s3:{operation}", "*")]  # nothing else is expected of our functions: fail closed
    grants = [(_S3_OBJECT_ACTIONS[operation], f"arn:aws:s3:::{bucket}/{params.get('Key', '')}")]
    if operation in _S3_COPIES:
        source = params.get("CopySource", "")
        if isinstance(source, dict):
            source = f"{source.get('Bucket', '')}/{source.get('Key', '')}"
        grants.append(("s3:GetObject", f"arn:aws:s3:::{str(source).lstrip('/').split('?', 1)[0]}"))
    return grants


def _listed(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _matches(patterns: Iterable[str], value: str, *, ignore_case: bool) -> bool:
    if ignore_case:
        return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _applies(statement: Statement, action: str, resource: str) -> bool:
    if "Action" in statement:
        action_ok = _matches(_listed(statement["Action"]), action, ignore_case=True)
    else:
        action_ok = not _matches(_listed(statement["NotAction"]), action, ignore_case=True)
    if "Resource" in statement:
        resource_ok = _matches(_listed(statement["Resource"]), resource, ignore_case=False)
    else:
        resource_ok = not _matches(_listed(statement["NotResource"]), resource, ignore_case=False)
    if "Condition" in statement:
        raise ValueError(f"a policy condition is not evaluated here: {statement!r}")
    return action_ok and resource_ok


def allows(statements: list[Statement], action: str, resource: str) -> bool:
    """An explicit Allow and no explicit Deny (identity-based policies only, as for a Lambda role)."""
    relevant = [s for s in statements if _applies(s, action, resource)]
    return any(s["Effect"] == "Allow" for s in relevant) and not any(s["Effect"] == "Deny" for s in relevant)


def role_statements(inline: list[Statement], managed_arns: list[str]) -> list[Statement]:
    """Every statement of a role: its inline policies' and its managed policies' (unknown ones refused)."""
    statements = list(inline)
    for arn in managed_arns:
        if arn not in MANAGED_POLICIES:
            raise ValueError(f"unknown managed policy {arn}: add what it grants to MANAGED_POLICIES")
        statements += MANAGED_POLICIES[arn]
    return statements


def denial_message(role_arn: str, action: str, resource: str) -> str:
    """AWS's wording for an identity-based denial."""
    session = role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/function"
    return (
        f"User: {session} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
