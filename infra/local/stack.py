"""The stack as CloudFormation would create it: the SAM template translated by SAM's own translator
(``samtranslator``, what ``sam deploy`` runs in AWS) with the given parameters, then its intrinsics
resolved for a local account. What comes out is each function as Lambda would run it: handler, code,
layers, environment, timeout, tracing, and its role's policies.

The deployed mode runs each function from this; the tests read the roles from it, so what they check
is what SAM generates (the policies it adds, such as X-Ray's), not the template's shorthand.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infra.local import iam

REGION = "us-east-1"
ACCOUNT = "123456789012"
_LOCAL_BUCKET = "local-artifacts"


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    handler: str  # e.g. handlers/create_message.handler
    code_dir: Path
    layer_dirs: tuple[Path, ...]  # each layer's content (its python/ folder goes on sys.path)
    runtime: str
    architectures: tuple[str, ...]
    timeout: int
    memory: int
    environment: dict[str, str]
    tracing: str  # Active or PassThrough
    role_arn: str
    statements: list[iam.Statement] = field(repr=False)

    def allows(self, action: str, resource: str) -> bool:
        return iam.allows(self.statements, action, resource)


@dataclass(frozen=True)
class Stack:
    name: str
    table_name: str
    parameters: dict[str, str]
    functions: dict[str, Function]
    resources: dict[str, Any] = field(repr=False)  # the translated, resolved CloudFormation resources

    def table_arn(self) -> str:
        return iam.table_arn(self.table_name, REGION, ACCOUNT)

    def bucket_objects_arn(self) -> str:
        return f"arn:aws:s3:::{bucket_name(self.table_name)}/*"


def bucket_name(table_name: str) -> str:
    """The files bucket of a local stack: named after its table (lower case, as S3 requires)."""
    return f"{table_name}-files".lower()


def vector_bucket_name(table_name: str) -> str:
    """The vector bucket of a local stack, named after its table (its Ref and VectorBucketArn: its ARN)."""
    return f"{table_name}-vectors".lower()


def _parse(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return dict(yaml_parse(path.read_text()))


def _to_s3(value: Any, base: Path) -> str:
    """A local CodeUri/ContentUri as an S3 URI whose key is the absolute path (mapped back after)."""
    return f"s3://{_LOCAL_BUCKET}/{(base / str(value)).resolve()}"


def translate(template_path: Path, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The CloudFormation template SAM's transform makes of ``template_path`` (before intrinsics): a copy of
    the one made for the same file as it is now and the same parameters (a translation costs ~0.3 s, and the
    template tests ask for the same few dozens of times)."""
    stat, settings = template_path.stat(), tuple(sorted((parameters or {}).items()))
    return copy.deepcopy(_translated(template_path.resolve(), stat.st_mtime_ns, stat.st_size, settings))


@cache
def _translated(
    template_path: Path, _mtime_ns: int, _size: int, parameters: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    import os

    from samtranslator.translator.transform import transform

    template = _parse(template_path)
    base = template_path.parent
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = _to_s3(function_globals["CodeUri"], base)
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = _to_s3(props["CodeUri"], base)
        if resource["Type"] == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = _to_s3(props["ContentUri"], base)

    class NoManagedPolicies:  # our policies are inline statements: no IAM lookup of policy names
        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)  # the translator reads the region of the "account"
    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its feature-toggle and metrics notices
    return dict(transform(template, dict(parameters), NoManagedPolicies()))


class _Resolver:
    """Fn::* and Ref for the local account: physical names are ``<stack>-<LogicalId>``."""

    def __init__(self, cfn: dict[str, Any], stack_name: str, table_name: str, parameters: dict[str, str]) -> None:
        self.cfn = cfn
        self.stack_name = stack_name
        self.table_name = table_name
        self.parameters = {
            name: str(parameters.get(name, spec.get("Default", "")))
            for name, spec in (cfn.get("Parameters") or {}).items()
        }
        self.conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.cfn["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.cfn["Resources"][name]
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            return self.table_name
        if kind == "AWS::S3::Bucket":
            return bucket_name(self.table_name)
        if kind == "AWS::S3Vectors::VectorBucket":  # the ARN, the primary identifier of its registry schema
            return self.get_att(name, "VectorBucketArn")
        if kind == "AWS::Lambda::LayerVersion":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{self.stack_name}-{name}:1"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.stack_name}-{name}"
        if kind == "AWS::Logs::LogGroup":
            return self._log_group(name)
        if kind == "AWS::ApiGateway::Stage":
            return resource["Properties"]["StageName"]
        if kind == "AWS::Lambda::Alias":
            function = self.ref(resource["Properties"]["FunctionName"]["Ref"])
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:{resource['Properties']['Name']}"
        return f"{self.stack_name}-{name}"

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.cfn["Resources"][name]["Type"]
        physical = f"{self.stack_name}-{name}"
        vectors = f"arn:aws:s3vectors:{REGION}:{ACCOUNT}:bucket/{vector_bucket_name(self.table_name)}"
        if (kind, attribute) == ("AWS::Logs::LogGroup", "Arn"):
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self._log_group(name)}:*"
        arns = {
            ("AWS::DynamoDB::Table", "Arn"): iam.table_arn(self.table_name, REGION, ACCOUNT),
            ("AWS::DynamoDB::Table", "StreamArn"): f"{iam.table_arn(self.table_name, REGION, ACCOUNT)}/stream/local",
            ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{physical}",
            ("AWS::S3::Bucket", "Arn"): f"arn:aws:s3:::{bucket_name(self.table_name)}",
            ("AWS::S3Vectors::VectorBucket", "VectorBucketArn"): vectors,
            ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical}",
            ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}",
            ("AWS::Lambda::Version", "Version"): "1",  # AutoPublishAlias: the alias's version
            ("AWS::SQS::Queue", "QueueName"): physical,
            ("AWS::CloudWatch::Alarm", "Arn"): f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{physical}",
            ("AWS::WAFv2::WebACL", "Arn"): f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/{physical}/local",
        }
        if (kind, attribute) not in arns:
            raise ValueError(f"Fn::GetAtt {name}.{attribute} ({kind}) is not resolved locally")
        return arns[(kind, attribute)]

    def _log_group(self, name: str) -> str:
        return str(self.resolve(self.cfn["Resources"][name]["Properties"]["LogGroupName"]))

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def resolve(self, value: Any) -> Any:  # noqa: C901 - one branch a CloudFormation intrinsic function
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return self.sub(text, variables)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in arg)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Split":  # with Fn::Select, the vector bucket's name: !Select [1, !Split ["/", <arn>]]
                return str(self.resolve(arg[1])).split(str(arg[0]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key.startswith("Fn::"):
                raise ValueError(f"{key} is not resolved locally")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}


_NO_VALUE = object()


def _local_path(code: dict[str, Any]) -> Path:
    assert code["S3Bucket"] == _LOCAL_BUCKET, code
    return Path("/" + str(code["S3Key"]).lstrip("/"))


def load(
    template_path: Path,
    parameters: dict[str, str] | None = None,
    *,
    stack_name: str = "threads-api-local",
    table_name: str = "threads-api-local",
) -> Stack:
    """The stack ``template_path`` makes with ``parameters``, each function as Lambda would run it."""
    cfn = translate(template_path, parameters)
    resolver = _Resolver(cfn, stack_name, table_name, parameters or {})
    resources: dict[str, Any] = {}
    for name, resource in cfn["Resources"].items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        resources[name] = {**resource, "Properties": resolver.resolve(copy.deepcopy(resource.get("Properties", {})))}
    layers = {
        resolver.ref(name): _local_path(r["Properties"]["Content"])
        for name, r in resources.items()
        if r["Type"] == "AWS::Lambda::LayerVersion"
    }
    functions = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        role_name = props["Role"].rsplit("/", 1)[1].removeprefix(f"{stack_name}-")
        role = resources[role_name]["Properties"]
        inline = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
        functions[name] = Function(
            logical_id=name,
            name=f"{stack_name}-{name}",
            handler=props["Handler"],
            code_dir=_local_path(props["Code"]),
            layer_dirs=tuple(layers[arn] for arn in props.get("Layers", [])),
            runtime=props["Runtime"],
            architectures=tuple(props.get("Architectures", ["x86_64"])),
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            environment={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
            tracing=str(props.get("TracingConfig", {}).get("Mode", "PassThrough")),
            role_arn=props["Role"],
            statements=iam.role_statements(inline, list(role.get("ManagedPolicyArns", []))),
        )
    return Stack(stack_name, table_name, dict(resolver.parameters), functions, resources)
