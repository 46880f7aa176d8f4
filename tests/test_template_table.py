"""template.yaml's table, which outlives mistakes: retained, protected, recoverable, encrypted, on demand; items
that expire on ``expires_at``; its stream's old images to the cleanup, whose failures go to an encrypted
dead-letter queue."""

from __future__ import annotations

import pytest

from infra import template
from infra.local import stack
from tests.template_support import _dead_letter_queue, _functions, _resources


def test_table_is_retained_protected_recoverable_encrypted_on_demand() -> None:
    table = _resources()["Table"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_table_expires_on_expires_at_and_streams_old_images_to_the_cleanup() -> None:
    props = _resources()["Table"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert template.ttl_attribute() == "expires_at"  # what store's staged creation and idempotency write
    assert props["StreamSpecification"] == {"StreamViewType": "OLD_IMAGE"}
    events = _functions()["CleanupFunction"]["Properties"]["Events"]
    streams = [e["Properties"]["Stream"] for e in events.values() if e["Type"] == "DynamoDB"]
    assert streams == [{"GetAtt": "Table.StreamArn"}]


@pytest.mark.parametrize("kms_key", ["", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
def test_dead_letter_queue_is_encrypted_and_keeps_records_for_14_days(kms_key: str) -> None:
    """SQS's own keys by default; the customer managed key (KmsKeyArn) instead when one is given."""
    queue = stack.load(template.TEMPLATE, {"KmsKeyArn": kms_key}).resources[_dead_letter_queue()]["Properties"]
    assert queue["SqsManagedSseEnabled"] is not bool(kms_key)
    assert queue.get("KmsMasterKeyId", "") == kms_key
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
