"""The embedded DynamoDB keeps DynamoDB's promises that moto does not: a transaction retried with its
``ClientRequestToken`` answers its first success instead of failing its own conditions, and the stream
reaches the cleanup only through the template's filters."""

from __future__ import annotations

import uuid

import pytest

from infra import template
from infra.local import dynamodb as local_dynamodb


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


def _stream_records(client: object, table: str) -> int:
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]  # type: ignore[attr-defined]
    streams = local_dynamodb.client(client.meta.endpoint_url, "dynamodbstreams")  # type: ignore[attr-defined]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_a_transaction_that_fails_leaves_every_item_and_the_stream_as_they_were(client: object) -> None:
    """Its rollback restores the items it named, one by one (not a copy of the table): a put of a new item,
    an update and a delete of existing ones, then a condition that fails."""
    pk = f"thread_{uuid.uuid4().hex}"
    kept = {"pk": {"S": pk}, "sk": {"S": "a"}, "n": {"S": "1"}}
    gone = {"pk": {"S": pk}, "sk": {"S": "b"}}
    for item in (kept, gone):
        client.put_item(TableName="tokens", Item=item)  # type: ignore[attr-defined]
    records = _stream_records(client, "tokens")
    actions = [
        {"Put": {"TableName": "tokens", "Item": {"pk": {"S": pk}, "sk": {"S": "new"}}}},
        {
            "Update": {
                "TableName": "tokens",
                "Key": {"pk": {"S": pk}, "sk": {"S": "a"}},
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"S": "2"}},
            }
        },
        {"Delete": {"TableName": "tokens", "Key": {"pk": {"S": pk}, "sk": {"S": "b"}}}},
        {
            "ConditionCheck": {
                "TableName": "tokens",
                "Key": {"pk": {"S": pk}, "sk": {"S": "missing"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ]
    with pytest.raises(client.exceptions.TransactionCanceledException):  # type: ignore[attr-defined]
        client.transact_write_items(TransactItems=actions)  # type: ignore[attr-defined]
    items = client.query(  # type: ignore[attr-defined]
        TableName="tokens", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
    )["Items"]
    assert sorted(items, key=lambda i: i["sk"]["S"]) == [kept, gone]
    assert _stream_records(client, "tokens") == records


def test_an_item_of_every_attribute_type_reads_back_as_written(client: object) -> None:
    """AttributeValues are serialized directly, not by moto's generic serializer: each type, nested too."""
    every = {
        "s": {"S": "text ✓"},
        "empty": {"S": ""},
        "n": {"N": "1.5E-130"},
        "b": {"B": b"\x00\xffbinary"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "null": {"NULL": True},
        "yes": {"BOOL": True},
        "no": {"BOOL": False},
        "l": {"L": [{"S": "x"}, {"N": "3"}, {"B": b"\x03"}, {"L": []}, {"M": {}}]},
        "m": {"M": {"inner": {"M": {"b": {"B": b"\x04"}, "no": {"BOOL": False}}}}},
    }
    key = {"pk": {"S": f"thread_{uuid.uuid4().hex}"}, "sk": {"S": "every"}}
    client.put_item(TableName="tokens", Item=key | every)  # type: ignore[attr-defined]
    got = client.get_item(TableName="tokens", Key=key, ConsistentRead=True)["Item"]  # type: ignore[attr-defined]
    for name in ("ss", "ns", "bs"):  # a set's order is DynamoDB's own
        got[name] = {kind: sorted(members) for kind, members in got[name].items()}
    assert got == key | every
