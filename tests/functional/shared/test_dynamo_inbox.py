"""The DynamoDB inbox against the local cloud's DynamoDB: claim, complete, duplicate, release, expired lease."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws

from gears_shared.consumers import DynamoInbox, EventInProgress


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName="svc",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield c


def test_claim_complete_and_duplicate(client) -> None:  # type: ignore[no-untyped-def]
    inbox = DynamoInbox("svc", "orders", client=client)
    assert inbox.begin("e1") is True
    with pytest.raises(EventInProgress):
        inbox.begin("e1")
    inbox.complete("e1")
    assert inbox.begin("e1") is False
    assert DynamoInbox("svc", "payment", client=client).begin("e1") is True  # another consumer is independent


def test_an_abandoned_claim_can_be_taken_again(client) -> None:  # type: ignore[no-untyped-def]
    inbox = DynamoInbox("svc", "orders", client=client)
    assert inbox.begin("e2")
    inbox.abandon("e2")
    assert inbox.begin("e2")


def test_an_expired_lease_can_be_taken_over(client) -> None:  # type: ignore[no-untyped-def]
    crashed = DynamoInbox("svc", "orders", client=client, lease_s=-1)  # its lease is already over
    assert crashed.begin("e3")
    assert DynamoInbox("svc", "orders", client=client).begin("e3")
    item = client.get_item(TableName="svc", Key={"pk": {"S": "INBOX#orders#e3"}, "sk": {"S": "INBOX"}})["Item"]
    assert int(item["expiresAt"]["N"]) > time.time() + 86400


def test_claims_are_completed_together_in_batches_of_25(client) -> None:  # type: ignore[no-untyped-def]
    inbox = DynamoInbox("svc", "orders", client=client)
    ids = [f"b{i}" for i in range(60)]
    for event_id in ids:
        assert inbox.begin(event_id)
    calls: list[int] = []
    client.meta.events.register("before-call.dynamodb.BatchWriteItem", lambda **kw: calls.append(1))
    inbox.complete_many(ids)
    assert len(calls) == 3
    assert all(inbox.begin(event_id) is False for event_id in ids)  # each is now applied, not in progress
    item = client.get_item(TableName="svc", Key={"pk": {"S": "INBOX#orders#b7"}, "sk": {"S": "INBOX"}})["Item"]
    assert "leaseUntil" not in item
    assert int(item["expiresAt"]["N"]) > time.time() + 86400
