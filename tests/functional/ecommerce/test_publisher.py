"""The table's stream through the publisher onto the topic, read back from an SQS queue subscribed to it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import boto3

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.events import CloudEvent, parse_event
from tests.functional.ecommerce.conftest import ADMIN, Call, cold, new_product


def subscribe_queue(topic_arn: str) -> str:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"catalog-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def drain(url: str) -> list[CloudEvent]:
    sqs = boto3.client("sqs")
    events: list[CloudEvent] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return events
        for message in messages:
            events.append(parse_event(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def stream_batch(stack: Stack) -> dict[str, Any]:
    """The table's stream so far, as the Lambda event a DynamoDB event source mapping would deliver."""
    arn = stack.lookup("EcommerceTable", "StreamArn")
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            ddb = dict(record["dynamodb"])
            when = ddb.get("ApproximateCreationDateTime")
            if isinstance(when, datetime):
                ddb["ApproximateCreationDateTime"] = int(when.timestamp())
            records.append({**record, "dynamodb": ddb, "eventSourceARN": arn})
    return {"Records": records}


def test_catalog_changes_arrive_as_cloudevents(call: Call, cloud: Stack, lambda_env) -> None:
    env = lambda_env("EcommercePublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("ecommerce.publisher")

    created = call(
        "POST",
        "/products",
        admin=True,
        claims=ADMIN,
        headers={"x-correlation-id": "corr-create"},
        body=new_product("PUB-1"),
    ).body
    pid = created["productId"]
    call(
        "PUT",
        f"/products/{pid}",
        admin=True,
        claims=ADMIN,
        headers={"x-correlation-id": "corr-update"},
        body={**created, "price": {"amount": 800, "currency": "GBP"}},
    )
    call("DELETE", f"/products/{pid}", admin=True, claims=ADMIN, headers={"x-correlation-id": "corr-delete"})

    batch = stream_batch(cloud)
    result = publisher.handler(batch, LambdaContext("EcommercePublisherFunction", timeout_s=30))
    assert result == {"batchItemFailures": []}

    events = [e for e in drain(queue) if e.subject == pid]
    assert [e.type for e in events] == ["ProductCreated.v1", "ProductUpdated.v1", "ProductDeleted.v1"]
    assert [e.correlationid for e in events] == ["corr-create", "corr-update", "corr-delete"]
    assert all(e.source == "gears.ecommerce" and e.specversion == "1.0" for e in events)
    assert events[0].data["price"] == {"amount": 1250, "currency": "GBP"}
    assert events[1].data["changedFields"] == ["price"]
    assert events[1].data["previous"]["price"]["amount"] == 1250
    assert events[2].data["archived"] is True

    # A retried batch publishes the very same ids, so consumers can drop the repeats.
    publisher.handler(batch, LambdaContext("EcommercePublisherFunction", timeout_s=30))
    again = [e for e in drain(queue) if e.subject == pid]
    assert [e.id for e in again] == [e.id for e in events]
    assert json.loads(events[0].to_json())["id"] == events[0].id
