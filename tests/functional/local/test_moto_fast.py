"""The local cloud's faster moto answers every request exactly as moto does.

One script of DynamoDB, DynamoDB Streams and SQS requests (successes and errors, items of every attribute type,
message attributes of every data type, a queue holding many messages) runs twice against moto's server app in
this process: as moto ships it, and with :mod:`gears.local.moto_fast` applied and its Flask-less front. boto3
parses both; the answers must be equal but for what is random or a time (ids, receipt handles, timestamps).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from werkzeug.test import EnvironBuilder, run_wsgi_app

from gears.local import moto_fast

DYNAMIC = {
    "MessageId",
    "ReceiptHandle",
    "SentTimestamp",
    "ApproximateFirstReceiveTimestamp",
    "SenderId",
    "RequestId",
    "HTTPHeaders",
    "ShardIterator",
    "NextShardIterator",
    "SequenceNumber",
    "StartingSequenceNumber",
    "eventID",
    "ApproximateCreationDateTime",
    "CreationDateTime",
    "LatestStreamLabel",
    "LatestStreamArn",
    "StreamArn",
    "StreamLabel",
    "TableId",
    "ShardId",
    "QueueUrl",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "RetryAttempts",
    "SizeBytes",  # moto counts a record's JSON with its time in it: 475 or 476 bytes, run to run
}


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<dynamic>" if k in DYNAMIC else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class _InProcess:
    """boto3 clients whose requests go to a WSGI app in this process (through botocore's ``before-send``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def send(self, request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        environ = EnvironBuilder(
            method=request.method,
            path=url.path,
            query_string=url.query,
            headers=[(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()],
            data=body or b"",
        ).get_environ()
        app_iter, status, headers = run_wsgi_app(self.app, environ)
        content = b"".join(app_iter)

        class Raw:
            def stream(self, **_: Any) -> Any:
                yield content

        return AWSResponse(request.url, int(status.split()[0]), dict(headers), Raw())

    def client(self, service: str, config: Any = None) -> Any:
        client = boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url="http://localhost:4566",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )
        client.meta.events.register("before-send", self.send)
        return client


def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except botocore.exceptions.ClientError as exc:
        return {"error": exc.response.get("Error"), "status": exc.response["ResponseMetadata"]["HTTPStatusCode"]}


def _dynamodb_script(cloud: _InProcess) -> list[Any]:
    ddb, streams = cloud.client("dynamodb"), cloud.client("dynamodbstreams")
    out = [
        _call(
            ddb.create_table,
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
    ]
    every_type = {
        "pk": {"S": "P#1"},
        "sk": {"S": "A"},
        "g": {"S": "G"},
        "n": {"N": "12.50"},
        "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"a", b"b"]},
        "m": {"M": {"inner": {"L": [{"S": "v"}, {"BOOL": True}, {"NULL": True}]}}},
    }
    out.append(_call(ddb.put_item, TableName="t", Item=every_type, ReturnConsumedCapacity="TOTAL"))
    out.append(_call(ddb.put_item, TableName="t", Item=every_type, ConditionExpression="attribute_not_exists(pk)"))
    out.append(
        _call(
            ddb.put_item,
            TableName="t",
            Item=every_type,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    )
    key = {"pk": {"S": "P#1"}, "sk": {"S": "A"}}
    out.append(_call(ddb.get_item, TableName="t", Key=key))
    out.append(_call(ddb.get_item, TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "A"}}))
    out.append(_call(ddb.get_item, TableName="t", Key=key, ProjectionExpression="n, m.inner"))
    out.append(_call(ddb.get_item, TableName="missing", Key=key))
    out.append(
        _call(
            ddb.update_item,
            TableName="t",
            Key=key,
            UpdateExpression="SET n = n + :one ADD ss :z",
            ExpressionAttributeValues={":one": {"N": "1"}, ":z": {"SS": ["z"]}},
            ReturnValues="ALL_NEW",
        )
    )
    writes = [
        {"PutRequest": {"Item": {"pk": {"S": f"P#{i % 3}"}, "sk": {"S": f"S{i:03d}"}, "g": {"S": "G"}}}}
        for i in range(20)
    ]
    out.append(_call(ddb.batch_write_item, RequestItems={"t": writes}))
    out.append(
        _call(
            ddb.query,
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "P#1"}},
            Limit=3,
        )
    )
    out.append(
        _call(
            ddb.query,
            TableName="t",
            IndexName="gsi",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
        )
    )
    out.append(
        _call(ddb.batch_get_item, RequestItems={"t": {"Keys": [key, {"pk": {"S": "P#0"}, "sk": {"S": "S000"}}]}})
    )
    out.append(
        _call(
            ddb.transact_write_items,
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "T"}, "sk": {"S": "1"}}}},
                {"ConditionCheck": {"TableName": "t", "Key": key, "ConditionExpression": "attribute_not_exists(pk)"}},
            ],
        )
    )
    out.append(_call(ddb.delete_item, TableName="t", Key=key, ReturnValues="ALL_OLD"))
    out.append(_call(ddb.describe_table, TableName="t"))
    stream_arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    out.append(_call(streams.get_records, ShardIterator=iterator, Limit=5))
    return out


def _sqs_script(cloud: _InProcess) -> list[Any]:
    sqs = cloud.client("sqs")
    out = [_call(sqs.create_queue, QueueName="q", Attributes={"VisibilityTimeout": "30"})]
    url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
    attributes = {
        "type": {"DataType": "String", "StringValue": "OrderPlaced.v1"},
        "count": {"DataType": "Number", "StringValue": "3"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    }
    out.append(_call(sqs.send_message, QueueUrl=url, MessageBody="one", MessageAttributes=attributes))
    out.append(_call(sqs.send_message, QueueUrl=url, MessageBody="two"))
    out.append(
        _call(
            sqs.send_message_batch,
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{i}", "MessageAttributes": attributes} for i in range(10)],
        )
    )
    for _ in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=base64.b64encode(b"filler").decode())
    received = []
    for _ in range(6):
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
        )
        received += answer.get("Messages", [])
        out.append(_mask(answer))
    out.append(_call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10))
    handles = [m["ReceiptHandle"] for m in received]
    out.append(_call(sqs.delete_message, QueueUrl=url, ReceiptHandle=handles[0]))
    out.append(_call(sqs.delete_message, QueueUrl=url, ReceiptHandle=handles[0]))  # again: still a success
    out.append(_call(sqs.delete_message, QueueUrl=url, ReceiptHandle="not-a-handle"))
    out.append(
        _call(
            sqs.delete_message_batch,
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[1:8])]
            + [{"Id": "bad", "ReceiptHandle": "nope"}],
        )
    )
    out.append(_call(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handles[9], VisibilityTimeout=0))
    out.append(_call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"]))
    out.append(_call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]))
    out.append(_call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11))
    out.append(_call(sqs.receive_message, QueueUrl=url + "-missing"))
    # FIFO queues: a send reads ContentBasedDeduplication (with it, a repeated body is one message; without it, a
    # send lacking a deduplication id is refused)
    for dedup in ("true", "false"):
        fifo = f"f-{dedup}.fifo"
        out.append(
            _call(
                sqs.create_queue,
                QueueName=fifo,
                Attributes={"FifoQueue": "true", "ContentBasedDeduplication": dedup},
            )
        )
        fifo_url = sqs.get_queue_url(QueueName=fifo)["QueueUrl"]
        for _ in range(2):
            out.append(_call(sqs.send_message, QueueUrl=fifo_url, MessageBody="same", MessageGroupId="g"))
        out.append(
            _call(
                sqs.send_message, QueueUrl=fifo_url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="d"
            )
        )
        out.append(_call(sqs.get_queue_attributes, QueueUrl=fifo_url, AttributeNames=["All"]))
        out.append(_mask(sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)))
    return out


def _run(script: Callable[[_InProcess], list[Any]], fast: bool) -> list[Any]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app: Any = DomainDispatcherApplication(create_backend_app)
    if fast:
        moto_fast.apply()
        app = moto_fast.direct(app)
    try:
        cloud = _InProcess(app)
        cloud.client("s3")  # (any client) so that the reset below goes through the same app
        run_wsgi_app(app, EnvironBuilder(method="POST", path="/moto-api/reset").get_environ())
        return _mask(script(cloud))
    finally:
        moto_fast.remove()


@pytest.mark.parametrize("script", [_dynamodb_script, _sqs_script], ids=["dynamodb", "sqs"])
def test_the_fast_cloud_answers_as_moto_does(script: Callable[[_InProcess], list[Any]]) -> None:
    plain = _run(script, fast=False)
    fast = _run(script, fast=True)
    assert len(plain) == len(fast)
    for i, (a, b) in enumerate(zip(plain, fast, strict=True)):
        assert a == b, f"request {i} answered differently"


def test_a_stream_read_asked_to_wait_returns_when_a_record_is_written() -> None:
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_fast.apply()
    try:
        app = moto_fast.direct(DomainDispatcherApplication(create_backend_app))
        run_wsgi_app(app, EnvironBuilder(method="POST", path="/moto-api/reset").get_environ())
        cloud = _InProcess(app)
        ddb, streams = cloud.client("dynamodb"), cloud.client("dynamodbstreams")
        ddb.create_table(
            TableName="w",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        arn = ddb.describe_table(TableName="w")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

        # Without the header: an answer at once, empty.
        started = time.monotonic()
        assert streams.get_records(ShardIterator=iterator)["Records"] == []
        assert time.monotonic() - started < 1.0

        def ask_to_wait(request: Any, **_: Any) -> None:
            request.headers[moto_fast.WAIT_HEADER] = "10"

        streams.meta.events.register_first("before-sign.dynamodbstreams.GetRecords", ask_to_wait)
        threading.Timer(0.3, lambda: ddb.put_item(TableName="w", Item={"pk": {"S": "late"}})).start()
        started = time.monotonic()
        records = streams.get_records(ShardIterator=iterator)["Records"]
        waited = time.monotonic() - started
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["late"]
        assert 0.2 < waited < 9.0  # held until the write, not for the whole wait
    finally:
        moto_fast.remove()


def test_ssm_is_imported_without_ec2_until_ssm_asks_ec2_something() -> None:
    """In a fresh interpreter (this one may have imported SSM already): parameters work without EC2's models, and
    SSM's EC2 backends are the real ones the first time they are used."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import sys
        from gears.local import moto_fast
        moto_fast.import_ssm_without_ec2()
        assert "moto.ec2.models" not in sys.modules and "moto.ec2" not in sys.modules
        import boto3
        from moto import mock_aws
        with mock_aws():
            ssm = boto3.client("ssm", region_name="us-east-1")
            ssm.put_parameter(Name="/gears/key", Value="secret", Type="SecureString")
            assert ssm.get_parameter(Name="/gears/key", WithDecryption=True)["Parameter"]["Value"] == "secret"
            assert "moto.ec2.models" not in sys.modules
            import moto.ssm.models as ssm_models
            assert ssm_models.ec2_backends["123456789012"]["us-east-1"].describe_regions()
            assert "moto.ec2.models" in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
