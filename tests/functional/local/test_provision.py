"""Provisioning builds what the template declares, on the endpoint, with its names and links resolved."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from gears.local.provision import provision
from gears.local.template import Template
from tests.conftest import TEMPLATE

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_the_project_template_provisions_every_table_topic_queue_and_the_user_pool(aws: boto3.Session) -> None:
    stack = provision(Template(TEMPLATE), aws)
    ddb = aws.client("dynamodb")
    table = ddb.describe_table(TableName=stack.ref("EcommerceTable"))["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert (
        ddb.describe_time_to_live(TableName=stack.ref("EcommerceTable"))["TimeToLiveDescription"]["AttributeName"]
        == "expiresAt"
    )
    idp = aws.client("cognito-idp")
    pool_id = stack.ref("UserPool")
    assert {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]} == {"customer", "support", "admin"}
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=stack.ref("UserPoolClient"))["UserPoolClient"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert stack.ref("EcommerceTopic") in [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]]


def test_function_environment_is_resolved_from_the_stack(aws: boto3.Session) -> None:
    template = Template(TEMPLATE)
    stack = provision(template, aws)
    env = stack.function_environment(template.functions()["AuthPublicFunction"])
    assert env["TABLE_NAME"] == stack.ref("AuthTable")
    assert env["USER_POOL_ID"] == stack.ref("UserPool")
    assert env["USER_POOL_CLIENT_ID"] == stack.ref("UserPoolClient")
    assert env["STAGE"] == "dev"


def test_subscriptions_carry_their_filter_policy_and_queues_their_redrive(aws: boto3.Session) -> None:
    stack = provision(Template(FIXTURE), aws)
    sns, sqs = aws.client("sns"), aws.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=stack.ref("WorkQueue"), AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack.lookup("WorkDlq", "Arn"),
        "maxReceiveCount": 2,
    }
    sns.publish(
        TopicArn=stack.ref("Topic"),
        Message='{"n": 1}',
        MessageAttributes={"type": {"DataType": "String", "StringValue": "Wanted.v1"}},
    )
    sns.publish(
        TopicArn=stack.ref("Topic"),
        Message='{"n": 2}',
        MessageAttributes={"type": {"DataType": "String", "StringValue": "Other.v1"}},
    )
    got = sqs.receive_message(QueueUrl=stack.ref("WorkQueue"), MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in got] == [{"n": 1}]  # filtered, and raw (no SNS wrapper)


def test_provisioning_again_finds_what_exists(aws: boto3.Session) -> None:
    first = provision(Template(FIXTURE), aws)
    second = provision(Template(FIXTURE), aws)
    assert first.ref("Table") == second.ref("Table")
    assert first.ref("Pool") == second.ref("Pool")
    assert len(aws.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]) == 1
