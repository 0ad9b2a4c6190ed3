"""gears_shared.fast_json: every answer it reads as plain JSON is what botocore's own parser makes of it.

Real answers from moto (DynamoDB with every attribute type, errors, timestamps; SQS; Cognito; SSM) are parsed both
ways as they arrive (botocore's ``before-parse`` event); the fast reader must agree wherever it answers at all, and
must answer for the everyday reads (items without binary attributes)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore import parsers
from moto import mock_aws

from gears_shared import fast_json

BOTOCORE_JSON = parsers.JSONParser


@pytest.fixture
def compared() -> dict[str, list[str]]:
    return {"fast": [], "fallback": [], "differ": []}


def _watch(client: Any, seen: dict[str, list[str]]) -> Any:
    def compare(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        shape = operation_model.output_shape
        name = operation_model.name
        if response_dict["status_code"] >= 300 or shape is None or not response_dict["body"]:
            return
        fast = fast_json.plain_answer(response_dict["body"], shape)
        if fast is None:
            seen["fallback"].append(name)
            return
        expected = BOTOCORE_JSON().parse(dict(response_dict), shape)
        expected.pop("ResponseMetadata", None)
        seen["fast" if fast == expected else "differ"].append(name if fast == expected else f"{name}: {fast}")

    client.meta.events.register("before-parse.*.*", compare)
    return client


ITEM = {
    "pk": {"S": "p#1"},
    "sk": {"S": "A"},
    "n": {"N": "12.50"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "m": {"M": {"inner": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"M": {"deep": {"N": "1"}}}]}}},
    "empty": {"M": {}},
    "gsi1pk": {"S": "G"},
    "gsi1sk": {"S": "1"},
}


def test_every_answer_read_fast_is_botocore_s_own(compared: dict[str, list[str]]) -> None:
    with mock_aws():
        ddb = _watch(boto3.client("dynamodb", region_name="us-east-1"), compared)
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for i in range(5):
            ddb.put_item(TableName="t", Item={**ITEM, "sk": {"S": f"A{i}"}, "gsi1sk": {"S": str(i)}})
        ddb.put_item(TableName="t", Item={**ITEM, "sk": {"S": "BIN"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"a"]}})
        ddb.get_item(TableName="t", Key={"pk": {"S": "p#1"}, "sk": {"S": "A1"}})
        ddb.get_item(TableName="t", Key={"pk": {"S": "p#1"}, "sk": {"S": "BIN"}})  # binary: botocore's way
        ddb.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "x"}})
        ddb.query(
            TableName="t",
            KeyConditionExpression="pk = :p AND begins_with(sk, :a)",
            ExpressionAttributeValues={":p": {"S": "p#1"}, ":a": {"S": "A"}},
            Limit=2,
            ReturnConsumedCapacity="INDEXES",
        )
        ddb.query(
            TableName="t",
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
            ScanIndexForward=False,
        )
        ddb.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "p#1"}, "sk": {"S": f"A{i}"}} for i in range(3)]}})
        ddb.update_item(
            TableName="t",
            Key={"pk": {"S": "p#1"}, "sk": {"S": "A2"}},
            UpdateExpression="SET n = n + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )
        ddb.delete_item(TableName="t", Key={"pk": {"S": "p#1"}, "sk": {"S": "A3"}}, ReturnValues="ALL_OLD")
        ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**ITEM, "sk": {"S": "Z"}}}}]})
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": {**ITEM, "sk": {"S": "T"}}}}],
            ReturnConsumedCapacity="TOTAL",
        )
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
            ddb.put_item(
                TableName="t",
                Item=ITEM | {"sk": {"S": "A1"}},
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        assert failed.value.response["Item"]["ss"] == {"SS": ["a", "b"]}  # the error's item, botocore's way
        ddb.describe_table(TableName="t")  # timestamps: botocore's way

        streams = _watch(boto3.client("dynamodbstreams", region_name="us-east-1"), compared)
        arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        streams.get_records(ShardIterator=iterator["ShardIterator"])

        sqs = _watch(boto3.client("sqs", region_name="us-east-1"), compared)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody="hello",
            MessageAttributes={"type": {"DataType": "String", "StringValue": "OrderPlaced.v1"}},
        )
        sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])

        idp = _watch(boto3.client("cognito-idp", region_name="us-east-1"), compared)
        pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
        idp.admin_create_user(UserPoolId=pool, Username="u@example.com")
        idp.list_user_pools(MaxResults=10)

        ssm = _watch(boto3.client("ssm", region_name="us-east-1"), compared)
        ssm.put_parameter(Name="/k", Value="v", Type="SecureString")
        ssm.get_parameter(Name="/k", WithDecryption=True)

    assert compared["differ"] == []
    # The everyday reads and writes were read fast; binary items and timestamps went botocore's way.
    for name in ("GetItem", "Query", "BatchGetItem", "UpdateItem", "DeleteItem", "PutItem", "ReceiveMessage"):
        assert name in compared["fast"], (name, compared)
    assert "DescribeTable" in compared["fallback"]
    assert "GetItem" in compared["fallback"]  # the binary one


def test_installed_the_clients_read_answers_as_before() -> None:
    fast_json.install()
    fast_json.install()  # once is enough; twice changes nothing
    assert parsers.PROTOCOL_PARSERS["json"].__name__ == "FastJSONParser"
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "b": {"B": b"\x01"}, "n": {"N": "1"}})
        ddb.put_item(TableName="t", Item={"pk": {"S": "c"}, "n": {"N": "2"}})
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["b"] == {"B": b"\x01"}
        answer = ddb.get_item(TableName="t", Key={"pk": {"S": "c"}})
        assert answer["Item"] == {"pk": {"S": "c"}, "n": {"N": "2"}}
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "zz"}})
