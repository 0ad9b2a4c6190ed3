"""Event sources: SQS batches with partial failures and redrive, DynamoDB streams in order with retries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gears.local.pollers import SqsPoller, StreamPoller, next_fire
from gears.local.provision import Stack, provision
from gears.local.template import Template
from gears.local.workers import InvokeResult

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        yield provision(Template(FIXTURE), boto3.Session(region_name="us-east-1"))


def _sqs() -> Any:
    return boto3.client("sqs", region_name="us-east-1")


def _poller(stack: Stack, invoke: Any, **kw: Any) -> SqsPoller:
    return SqsPoller(
        "Probe",
        invoke,
        _sqs(),
        stack.ref("WorkQueue"),
        stack.lookup("WorkQueue", "Arn"),
        log=lambda _m: None,
        wait_s=0,
        **kw,
    )


def _send(stack: Stack, bodies: list[str]) -> None:
    for body in bodies:
        _sqs().send_message(QueueUrl=stack.ref("WorkQueue"), MessageBody=body)


def _count(url: str) -> int:
    attrs = _sqs().get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_an_sqs_batch_is_an_sqs_event_and_success_deletes_it(stack: Stack) -> None:
    seen: list[dict[str, Any]] = []
    poller = _poller(stack, lambda e: (seen.append(e), InvokeResult("r", payload=None))[1], report_failures=True)
    _send(stack, ["a", "b", "c"])
    assert poller.poll_once()
    records = seen[0]["Records"]
    assert sorted(r["body"] for r in records) == ["a", "b", "c"]
    assert {r["eventSource"] for r in records} == {"aws:sqs"}
    assert records[0]["eventSourceARN"] == stack.lookup("WorkQueue", "Arn")
    assert "ApproximateReceiveCount" in records[0]["attributes"]
    assert _count(stack.ref("WorkQueue")) == 0


def test_partial_failures_keep_only_the_failed_messages_and_redrive_them_to_the_dlq(stack: Stack) -> None:
    def invoke(event: dict[str, Any]) -> InvokeResult:
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"]
        return InvokeResult("r", payload={"batchItemFailures": failures})

    poller = _poller(stack, invoke, report_failures=True)
    _send(stack, ["ok-1", "poison", "ok-2"])
    assert (
        poller.process(_sqs().receive_message(QueueUrl=stack.ref("WorkQueue"), MaxNumberOfMessages=10)["Messages"])
        is not None
    )
    assert _count(stack.ref("WorkQueue")) == 1  # only the poison message is left
    for _ in range(3):  # it comes back after the visibility timeout, fails again, then is redriven
        time.sleep(1.1)
        poller.poll_once()
    dlq = _sqs().receive_message(QueueUrl=stack.ref("WorkDlq"), MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dlq] == ["poison"]
    assert _count(stack.ref("WorkQueue")) == 0


def test_a_function_error_fails_the_whole_batch(stack: Stack) -> None:
    poller = _poller(
        stack, lambda e: InvokeResult("r", error={"errorType": "Boom", "errorMessage": "x"}), report_failures=True
    )
    _send(stack, ["a", "b"])
    messages = _sqs().receive_message(QueueUrl=stack.ref("WorkQueue"), MaxNumberOfMessages=10)["Messages"]
    assert poller.process(messages) is None
    assert _count(stack.ref("WorkQueue")) == 2


def test_an_unknown_item_identifier_fails_the_whole_batch(stack: Stack) -> None:
    poller = _poller(
        stack,
        lambda e: InvokeResult("r", payload={"batchItemFailures": [{"itemIdentifier": "nope"}]}),
        report_failures=True,
    )
    _send(stack, ["a"])
    messages = _sqs().receive_message(QueueUrl=stack.ref("WorkQueue"), MaxNumberOfMessages=10)["Messages"]
    assert poller.process(messages) is None
    assert _count(stack.ref("WorkQueue")) == 1


def test_without_report_batch_item_failures_the_response_is_ignored(stack: Stack) -> None:
    poller = _poller(stack, lambda e: InvokeResult("r", payload={"batchItemFailures": [{"itemIdentifier": "x"}]}))
    _send(stack, ["a"])
    assert poller.poll_once()
    assert _count(stack.ref("WorkQueue")) == 0


def _stream_poller(stack: Stack, invoke: Any, **kw: Any) -> StreamPoller:
    arn = stack.lookup("Table", "StreamArn")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    return StreamPoller("Probe", invoke, streams, arn, log=lambda _m: None, **kw)


def test_stream_records_arrive_in_order_with_both_images(stack: Stack) -> None:
    seen: list[dict[str, Any]] = []
    poller = _stream_poller(stack, lambda e: (seen.extend(e["Records"]), InvokeResult("r"))[1])
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName=stack.ref("Table"), Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=stack.ref("Table"), Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    ddb.delete_item(TableName=stack.ref("Table"), Key={"pk": {"S": "a"}})
    poller.poll_once()
    assert [r["eventName"] for r in seen] == ["INSERT", "MODIFY", "REMOVE"]
    assert seen[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert seen[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert seen[0]["eventSourceARN"] == stack.lookup("Table", "StreamArn")


def test_stream_failures_retry_from_the_reported_record_then_go_to_the_failure_destination(stack: Stack) -> None:
    calls: list[list[str]] = []
    failed: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> InvokeResult:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        calls.append(keys)
        bad = [r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == "bad"]
        return InvokeResult("r", payload={"batchItemFailures": [{"itemIdentifier": s} for s in bad]})

    poller = _stream_poller(stack, invoke, report_failures=True, max_retries=2, on_failure=failed.append)
    poller._stop.wait = lambda _t: False  # type: ignore[method-assign]  # no back-off sleeps in the test
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for key in ("one", "bad", "two"):
        ddb.put_item(TableName=stack.ref("Table"), Item={"pk": {"S": key}})
    poller.poll_once()
    assert calls[0] == ["one", "bad", "two"]
    # MaximumRetryAttempts=2: two more attempts from the failed record on, never re-delivering "one"...
    assert calls[1:3] == [["bad", "two"]] * 2
    # ...then the failed record goes to the destination and the shard moves on.
    assert calls[3:] == [["two"]]
    assert failed
    assert failed[0]["DDBStreamBatchInfo"]["batchSize"] == 1


def test_schedules() -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 11, 25, 10, 7, tzinfo=UTC)
    assert next_fire("rate(5 minutes)", t) == datetime(2026, 11, 25, 10, 12, tzinfo=UTC)
    assert next_fire("cron(0 2 * * ? *)", t) == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert next_fire("cron(30 9 ? * MON-FRI *)", datetime(2026, 11, 27, 10, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 9, 30, tzinfo=UTC
    )
    assert json.dumps(next_fire("rate(1 day)", t).isoformat())
