"""A confirmed account's profile change, through the auth table's stream and the publisher, onto the auth topic."""

from __future__ import annotations

import importlib
import uuid
from datetime import datetime
from typing import Any

import boto3

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.events import CloudEvent, parse_event
from tests.functional.auth.conftest import AuthApi, claims_of


def subscribe_queue(topic_arn: str) -> str:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"auth-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": '{"type": ["UserRegistered.v1"]}'},
    )
    return url


def drain(url: str) -> list[CloudEvent]:
    sqs = boto3.client("sqs")
    events: list[CloudEvent] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            events.append(parse_event(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return events


def stream_batch(stack: Stack) -> dict[str, Any]:
    arn = stack.lookup("AuthTable", "StreamArn")
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


def test_confirming_an_account_publishes_user_registered_once(
    auth_api: AuthApi, admin_tokens: dict[str, Any], email: str, lambda_env
) -> None:
    env = lambda_env("AuthPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = importlib.reload(importlib.import_module("auth.publisher"))  # a cold start in this environment
    signed_up = auth_api.sign_up(email).body
    confirm = auth_api.invoke_public(
        http_api_event(
            "POST", "/auth/confirm", body={"email": email, "code": "123456"}, headers={"x-correlation-id": "corr-42"}
        )
    )
    assert confirm.status == 200
    tokens = auth_api.login(email).body
    auth_api.set_roles(admin_tokens["accessToken"], claims_of(tokens["accessToken"])["sub"], ["support"])  # audit

    batch = stream_batch(auth_api.stack)
    context = LambdaContext("AuthPublisherFunction", timeout_s=30)
    assert publisher.handler(batch, context) == {"batchItemFailures": []}
    (event,) = drain(queue)
    assert (event.type, event.source, event.subject) == ("UserRegistered.v1", "gears.auth", signed_up["userId"])
    assert event.correlationid == "corr-42"
    assert event.data["email"] == email
    assert event.data["userId"] == signed_up["userId"]

    publisher.handler(batch, context)  # a retried batch: the very same id, for consumers to drop
    assert [e.id for e in drain(queue)] == [event.id]
