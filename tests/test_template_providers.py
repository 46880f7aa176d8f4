"""template.yaml's grants to call other services, as SAM translates them (``infra.local.stack``): X-Ray only with
tracing on; the providers' (the models', the embeddings') only when the stack's parameters ask for them, to the
functions that call them and to no other; and the workers invoked only by the functions that hand them work."""

from __future__ import annotations

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _deployed
from tests.test_template_iam import EMBEDDERS, MODEL_CALLERS, STORE_WRITERS

# worker -> the functions that may invoke it: those that start runs; those that add files to vector stores.
INVOKERS = {
    "RunWorkerFunction": {"CreateRunFunction", "CreateThreadAndRunFunction", "SubmitToolOutputsFunction"},
    "IngestWorkerFunction": {
        "CreateVectorStoreFunction",
        "CreateVectorStoreFileFunction",
        "CreateVectorStoreFileBatchFunction",
        *STORE_WRITERS,  # a tool_resources helper's files, attachments' files
    },
}


@pytest.mark.parametrize("tracing", ["Disabled", "Active"])
def test_xray_is_granted_and_configured_only_when_tracing_is_on(tracing: str) -> None:
    deployed = stack.load(template.TEMPLATE, {"Tracing": tracing})
    for name, function in deployed.functions.items():
        assert function.tracing == ("Active" if tracing == "Active" else "PassThrough"), name
        assert function.allows("xray:PutTraceSegments", "*") == (tracing == "Active"), name
        assert function.environment["TRACING"] == ("true" if tracing == "Active" else "false"), name


@pytest.mark.parametrize(
    ("parameters", "service", "operation", "params"),
    [
        ({"ModelApiKeyParameter": "/threads-api/model-key"}, "ssm", "GetParameter", {"Name": "/threads-api/model-key"}),
        (
            {"ModelProvider": "bedrock"},
            "bedrock-runtime",
            "Converse",
            {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        ),
    ],
    ids=["ssm-key", "bedrock"],
)
def test_the_worker_may_make_its_providers_calls_only_when_the_stack_asks_for_them(
    parameters: dict[str, str], service: str, operation: str, params: dict[str, str]
) -> None:
    """What the worker's provider calls need (``infra.local.iam.required``, as the deployed mode checks each call),
    allowed by its role under the parameter, and by no role without it."""
    from infra.local import iam

    needed = iam.required(service, operation, params, stack.REGION, stack.ACCOUNT)
    with_it = stack.load(template.TEMPLATE, parameters).functions
    without = stack.load(template.TEMPLATE).functions
    for action, resource in needed:
        assert all(with_it[name].allows(action, resource) for name in MODEL_CALLERS)
        assert not any(f.allows(action, resource) for name, f in with_it.items() if name not in MODEL_CALLERS)
        assert not any(f.allows(action, resource) for f in without.values())


@pytest.mark.parametrize(
    ("parameters", "needed"),
    [
        (
            {"EmbeddingsApiKeyParameter": "/threads-api/embeddings-key"},
            [("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/threads-api/embeddings-key")],
        ),
        (
            # Bedrock's InvokeModel of Titan Text Embeddings V2 (the Bedrock embedder's one call) needs
            # bedrock:InvokeModel on the foundation model of the stack's region.
            {"EmbeddingsProvider": "bedrock"},
            [("bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0")],
        ),
    ],
    ids=["ssm-key", "bedrock"],
)
def test_the_embedders_may_make_their_providers_calls_only_when_the_stack_asks_for_them(
    parameters: dict[str, str], needed: list[tuple[str, str]]
) -> None:
    """What the ingestion worker's and the search's embedding calls need, allowed by their roles under the
    parameter, and by no role without it."""
    with_it = stack.load(template.TEMPLATE, parameters).functions
    without = stack.load(template.TEMPLATE).functions
    for action, resource in needed:
        assert all(with_it[name].allows(action, resource) for name in EMBEDDERS)
        assert not any(f.allows(action, resource) for name, f in with_it.items() if name not in EMBEDDERS)
        assert not any(f.allows(action, resource) for f in without.values())


def test_only_the_functions_that_hand_work_over_may_invoke_a_function() -> None:
    functions = _deployed().functions
    for target_name, target in functions.items():
        arn = f"arn:aws:lambda:{stack.REGION}:{stack.ACCOUNT}:function:{target.name}"
        for name, function in functions.items():
            invokes = function.allows("lambda:InvokeFunction", arn)
            assert invokes == (name in INVOKERS.get(target_name, set())), f"{name} invoking {target_name}"
