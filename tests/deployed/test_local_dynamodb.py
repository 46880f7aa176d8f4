"""The embedded DynamoDB (moto, patched by ``infra/local/moto_patches.py``) checked against DynamoDB's documented
behaviour, not against DynamoDB itself (nothing here calls AWS):

- TransactWriteItems' ``ClientRequestToken`` (DynamoDB API Reference, TransactWriteItems, ClientRequestToken:
  identical calls with the token have the effect of one, for 10 minutes): a conditional put retried with its
  token succeeds again instead of failing its own condition, while the same put under another token fails it.
  moto alone ignores the token. Not checked: the 10 minutes, and IdempotentParameterMismatch for other items
  under the same token.
- A transaction is all or nothing (the same page: either every action succeeds or none does), and DynamoDB
  Streams records only item-level modifications (DynamoDB Developer Guide, "Change data capture for DynamoDB
  Streams"): a cancelled transaction leaves every item and the stream as they were (the patched rollback).
- AttributeValue (DynamoDB API Reference, data type AttributeValue: S, N, B, SS, NS, BS, M, L, NULL, BOOL): an
  item of every type, nested too, reads back as written, a set's members in any order (the patched serializer).
- Item size (DynamoDB Developer Guide, "Constraints in Amazon DynamoDB", Items: an item is at most 400 KB, its
  attribute names and values counted in UTF-8 bytes; with local secondary indexes, the 400 KB holds the item and
  its entries in them together): checked on the item as the write leaves it, so an update that replaces a large
  value with another as large succeeds, one whose result is over fails and leaves the item as it was
  (``assert_item_size_rule``, also run on the handler tests' moto). moto alone counts a replaced value on top of
  its replacement, and no index.
- Lambda's event filtering of a DynamoDB stream (Lambda Developer Guide, "Filter rule syntax" and "Using event
  filtering with a DynamoDB event source"): the local poller's ``matches`` lets through to the cleanup only the
  records the template's FilterCriteria let through. That one checks the local poller, not moto.
"""

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
FILE = {"pk": {"S": "files#p"}, "sk": {"S": "file#f"}}


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
        ({"eventName": "REMOVE", "dynamodb": {"Keys": FILE, "OldImage": {"pending": {"BOOL": True}}}}, True),
        ({"eventName": "REMOVE", "dynamodb": {"Keys": FILE, "OldImage": {"fname": {"S": "a"}}}}, False),
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


ITEM_MAX_BYTES = 400 * 1024  # "400 KB": DynamoDB's KB is 1,024 bytes


def _size(item: dict[str, dict[str, str]]) -> int:
    """A string-valued item's size as DynamoDB counts it: names and values, in UTF-8 bytes."""
    return sum(len(name.encode()) + len(value["S"].encode()) for name, value in item.items())


def assert_item_size_rule(client: object, table: str) -> None:
    """DynamoDB's item size rule on ``table`` (the template's: keys pk and sk, the local index by_order on ok, which
    projects every attribute), as the documentation states it; a ValidationException leaves the item unchanged."""
    from botocore.exceptions import ClientError

    key = {"pk": {"S": f"thread_{uuid.uuid4().hex}"}, "sk": {"S": "big"}}

    def update(expression: str, **values: str) -> None:
        client.update_item(  # type: ignore[attr-defined]
            TableName=table,
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeValues={f":{name}": {"S": value} for name, value in values.items()},
        )

    def stored() -> dict[str, dict[str, str]]:
        return client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]  # type: ignore[attr-defined,no-any-return]

    client.put_item(TableName=table, Item=key | {"v": {"S": "a" * 250_000}})  # type: ignore[attr-defined]
    update("SET v = :v", v="b" * 250_000)  # replaced: 250 KB after the update, not 500
    client.transact_write_items(  # type: ignore[attr-defined]
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "c" * 250_000}},
                }
            }
        ]
    )
    assert stored()["v"]["S"] == "c" * 250_000
    full = ITEM_MAX_BYTES - _size(key | {"v": {"S": ""}})
    update("SET v = :v", v="d" * full)  # exactly 400 KB
    assert _size(stored()) == ITEM_MAX_BYTES
    with pytest.raises(ClientError) as over:  # one byte more: its name alone
        update("SET v = :v, w = :w", v="e" * full, w="")
    assert over.value.response["Error"]["Code"] == "ValidationException"
    assert over.value.response["Error"]["Message"] == "Item size to update has exceeded the maximum allowed size"
    assert stored() == key | {"v": {"S": "d" * full}}  # nothing of it applied
    update("SET w = :w REMOVE v", w="f" * (full - 1))  # larger while it runs, within the bound once done
    assert stored() == key | {"w": {"S": "f" * (full - 1)}}
    with pytest.raises(ClientError) as put:
        client.put_item(TableName=table, Item=key | {"v": {"S": "g" * (full + 1)}})  # type: ignore[attr-defined]
    assert put.value.response["Error"]["Message"] == "Item size has exceeded the maximum allowed size"

    # In by_order (it has ok), the item and its copy there share the 400 KB: each at most half.
    indexed = key | {"ok": {"S": "0" * 28}}
    half = ITEM_MAX_BYTES // 2 - _size(indexed | {"v": {"S": ""}})
    client.put_item(TableName=table, Item=indexed | {"v": {"S": "h" * half}})  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as indexed_update:
        update("SET v = :v", v="i" * (half + 1))
    assert indexed_update.value.response["Error"]["Code"] == "ValidationException"
    assert stored()["v"]["S"] == "h" * half
    with pytest.raises(ClientError):
        client.put_item(TableName=table, Item=indexed | {"v": {"S": "j" * (half + 1)}})  # type: ignore[attr-defined]


def test_an_items_size_is_checked_as_the_write_leaves_it(client: object) -> None:
    assert_item_size_rule(client, "tokens")
