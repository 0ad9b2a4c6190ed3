"""Reading what a service publishes, in functional tests against moto: its table's stream as the Lambda event a
DynamoDB event source mapping delivers, and its topic through an SQS queue subscribed to it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import boto3

from gears.local.provision import Stack
from gears_shared.events import CloudEvent, parse_event


def subscribe_queue(topic_arn: str, types: list[str] | None = None) -> str:
    """A fresh queue subscribed to the topic with raw delivery (as the services' queues are), optionally filtered
    on the event ``type`` attribute; its URL."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true"}
    if types:
        attributes["FilterPolicy"] = json.dumps({"type": types})
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def drain(url: str) -> list[CloudEvent]:
    """Every event waiting in the queue, in the order received; the queue is left empty."""
    sqs = boto3.client("sqs")
    events: list[CloudEvent] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            events.append(parse_event(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return events


def stream_batch(stack: Stack, table: str) -> dict[str, Any]:
    """The ``table``'s stream so far (logical id), as the Lambda event a DynamoDB event source mapping delivers."""
    arn = stack.lookup(table, "StreamArn")
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
