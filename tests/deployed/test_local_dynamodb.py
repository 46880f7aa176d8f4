"""The embedded DynamoDB keeps DynamoDB's promises that moto does not: a transaction retried with its
``ClientRequestToken`` answers its first success instead of failing its own conditions, and the stream
reaches the cleanup only through the template's filters."""

from __future__ import annotations

import uuid

import pytest

from infra import local_dynamodb, template


@pytest.fixture(scope="module")
def client() -> object:
    endpoint = local_dynamodb.start_embedded()
    dynamodb = local_dynamodb.client(endpoint)
    local_dynamodb.create_table(dynamodb, "tokens")
    return dynamodb


def test_a_retried_transaction_with_its_token_succeeds_once(client: object) -> None:
    item = {"pk": {"S": f"thread_{uuid.uuid4().hex}"}, "sk": {"S": "thread"}, "data": {"B": b"\x00binary"}}
    put = {"Put": {"TableName": "tokens", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
    token = str(uuid.uuid4())
    client.transact_write_items(TransactItems=[put], ClientRequestToken=token)  # type: ignore[attr-defined]
    client.transact_write_items(TransactItems=[put], ClientRequestToken=token)  # type: ignore[attr-defined]
    with pytest.raises(client.exceptions.TransactionCanceledException):  # type: ignore[attr-defined]
        client.transact_write_items(TransactItems=[put], ClientRequestToken=str(uuid.uuid4()))  # type: ignore[attr-defined]


MESSAGE = {"sk": {"S": "msg#m"}}


@pytest.mark.parametrize(
    ("record", "delivered"),
    [
        ({"eventName": "REMOVE", "dynamodb": {"Keys": {"sk": {"S": "thread"}}}}, True),
        ({"eventName": "INSERT", "dynamodb": {"Keys": {"sk": {"S": "thread"}}}}, False),
        (
            {"eventName": "REMOVE", "dynamodb": {"Keys": {"sk": {"S": "msg#m"}}, "OldImage": {"parts": {"N": "2"}}}},
            True,
        ),
        (
            {"eventName": "REMOVE", "dynamodb": {"Keys": {"sk": {"S": "msg#m"}}, "OldImage": {"body": {"S": "{}"}}}},
            False,
        ),
    ],
)
def test_the_cleanup_gets_only_what_the_templates_filters_let_through(
    record: dict[str, object], delivered: bool
) -> None:
    patterns = template.stream_filters("CleanupFunction")
    assert any(local_dynamodb.matches(pattern, record) for pattern in patterns) is delivered
