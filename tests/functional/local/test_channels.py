"""The local cloud's channels on moto, in-process: every e-mail (SES v1 and v2, plain and raw), SMS and push message
lands in the mailbox, moto keeps its own record as before, and a send with a configuration set gets SES's feedback
on the event destination's topic."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from gears.local.cloud import Mailbox, patch_channels, read_mailbox

SENDER = "shop@gears.example"
REGION = "us-east-1"


@dataclass
class Cloud:
    mailbox: Path
    ses: Any
    sesv2: Any
    sns: Any
    sqs: Any
    feedback_queue: str
    configuration_set: str

    def mail(self, to: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        return read_mailbox(self.mailbox, to, channel)

    def feedback(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=self.feedback_queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]


def _configuration_set(ses: Any, sns: Any, sqs: Any, *, enabled: bool = True) -> tuple[str, str]:
    """A configuration set whose SNS event destination feeds a queue (raw delivery): its name and the queue."""
    name = f"cs-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=f"feedback-{name}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"feedback-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name,
        EventDestination={
            "Name": f"{name}-sns",
            "Enabled": enabled,
            "MatchingEventTypes": ["delivery", "bounce", "complaint", "reject"],
            "SNSDestination": {"TopicARN": topic},
        },
    )
    return name, queue


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    mailbox = tmp_path / "mailbox.jsonl"
    take_off = patch_channels(Mailbox(mailbox))
    try:
        with mock_aws():
            session = boto3.Session(region_name=REGION)
            ses, sns, sqs = session.client("ses"), session.client("sns"), session.client("sqs")
            sesv2 = session.client("sesv2")
            sesv2.create_email_identity(EmailIdentity=SENDER)
            name, queue = _configuration_set(ses, sns, sqs)
            yield Cloud(mailbox, ses, sesv2, sns, sqs, queue, name)
    finally:
        take_off()


def _customer() -> str:
    return f"ann-{uuid.uuid4().hex[:8]}@example.com"


def test_a_v2_simple_email_lands_in_the_mailbox_and_is_delivered(cloud: Cloud) -> None:
    to = _customer()
    answer = cloud.sesv2.send_email(
        FromEmailAddress=f"Gears <{SENDER}>",
        Destination={"ToAddresses": [to]},
        Content={
            "Simple": {
                "Subject": {"Data": "Order placed"},
                "Body": {"Text": {"Data": "Thanks, Ann"}, "Html": {"Data": "<p>Thanks, Ann</p>"}},
            }
        },
        EmailTags=[{"Name": "notificationId", "Value": "n-simple"}],
        ConfigurationSetName=cloud.configuration_set,
    )
    [mail] = cloud.mail(to)
    assert mail["channel"] == "email"
    assert mail["via"] == "ses"
    assert mail["from"] == SENDER
    assert mail["subject"] == "Order placed"
    assert mail["body"] == "Thanks, Ann"
    assert mail["html"] == "<p>Thanks, Ann</p>"
    assert mail["tags"] == {"notificationId": "n-simple"}
    assert mail["messageId"] == answer["MessageId"]
    [delivery] = cloud.feedback()
    assert delivery["eventType"] == "Delivery"
    assert delivery["mail"]["messageId"] == answer["MessageId"]
    assert delivery["mail"]["destination"] == [to]
    assert delivery["mail"]["tags"]["notificationId"] == ["n-simple"]
    # moto keeps its own record as before
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert answer["MessageId"] in [m.id for m in sent]


def test_a_v2_raw_marketing_email_keeps_its_unsubscribe_headers_and_a_complaint_follows_its_delivery(
    cloud: Cloud,
) -> None:
    to = "complaint+spring@simulator.amazonses.com"
    message = EmailMessage()
    message["Subject"] = "Spring sale"
    message["From"] = SENDER
    message["To"] = to
    message["List-Unsubscribe"] = "<http://127.0.0.1:3000/notifications/unsubscribe?token=abc>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("20% off, Ann")
    message.add_alternative("<p>20% off, <b>Ann</b></p>", subtype="html")
    answer = cloud.sesv2.send_email(
        Content={"Raw": {"Data": message.as_bytes()}},
        Destination={"ToAddresses": [to]},
        EmailTags=[{"Name": "notificationId", "Value": "n-raw"}],
        ConfigurationSetName=cloud.configuration_set,
    )
    [mail] = cloud.mail(to)
    assert mail["subject"] == "Spring sale"
    assert mail["body"].strip() == "20% off, Ann"
    assert "<b>Ann</b>" in mail["html"]
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["headers"]["List-Unsubscribe"].startswith("<http://127.0.0.1:3000/")
    events = cloud.feedback()
    assert [e["eventType"] for e in events] == ["Delivery", "Complaint"]
    assert {e["mail"]["messageId"] for e in events} == {answer["MessageId"]}


def test_a_bounce_is_published_and_the_mail_still_lands(cloud: Cloud) -> None:
    cloud.ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]},
        Message={"Subject": {"Data": "Receipt"}, "Body": {"Html": {"Data": "<p>Paid &amp; thanks</p>"}}},
        Tags=[{"Name": "notificationId", "Value": "n-v1"}],
        ConfigurationSetName=cloud.configuration_set,
    )
    [mail] = cloud.mail("bounce@simulator.amazonses.com")
    assert mail["body"] == "Paid & thanks"
    assert mail["tags"] == {"notificationId": "n-v1"}
    [bounce] = cloud.feedback()
    assert bounce["eventType"] == "Bounce"
    assert bounce["bounce"]["bounceType"] == "Permanent"
    assert bounce["mail"]["tags"]["notificationId"] == ["n-v1"]


def test_a_v1_raw_email_lands_with_its_recipients_from_the_headers(cloud: Cloud) -> None:
    to = _customer()
    message = EmailMessage()
    message["Subject"] = "Support reply"
    message["From"] = f"Gears <{SENDER}>"
    message["To"] = f"Ann <{to}>"
    message.set_content("We have refunded you.")
    cloud.ses.send_raw_email(RawMessage={"Data": message.as_bytes()})
    [mail] = cloud.mail(to)
    assert mail["from"] == SENDER
    assert mail["body"].strip() == "We have refunded you."
    assert cloud.feedback() == []  # no configuration set named: SES publishes nothing


def test_a_refused_send_leaves_nothing_in_the_mailbox(cloud: Cloud) -> None:
    to = _customer()
    with pytest.raises(ClientError) as refused:
        cloud.sesv2.send_email(
            FromEmailAddress="someone@unverified.example",
            Destination={"ToAddresses": [to]},
            Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "y"}}}},
            ConfigurationSetName=cloud.configuration_set,
        )
    assert refused.value.response["Error"]["Code"] == "MessageRejected"
    assert cloud.mail(to) == []
    assert cloud.feedback() == []


def test_a_disabled_event_destination_gets_no_feedback(cloud: Cloud) -> None:
    name, queue = _configuration_set(cloud.ses, cloud.sns, cloud.sqs, enabled=False)
    to = _customer()
    cloud.sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "y"}}}},
        ConfigurationSetName=name,
    )
    assert len(cloud.mail(to)) == 1
    assert cloud.sqs.receive_message(QueueUrl=queue).get("Messages", []) == []


def test_an_sms_lands_in_the_mailbox_and_in_moto(cloud: Cloud) -> None:
    phone = "+447700900" + uuid.uuid4().hex[:3].translate(str.maketrans("abcdef", "123456"))
    answer = cloud.sns.publish(
        PhoneNumber=phone,
        Message="Your Gears code is 424242",
        MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Gears"},
        },
    )
    [sms] = cloud.mail(phone)
    assert sms["channel"] == "sms"
    assert sms["body"] == "Your Gears code is 424242"
    assert sms["from"] == "Gears"
    assert sms["messageId"] == answer["MessageId"]
    assert cloud.mail(channel="email") == []
    assert sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages[answer["MessageId"]] == (phone, sms["body"])


def test_a_push_message_lands_for_its_endpoint_and_a_disabled_endpoint_gets_nothing(cloud: Cloud) -> None:
    app = cloud.sns.create_platform_application(
        Name=f"push-{uuid.uuid4().hex[:6]}", Platform="GCM", Attributes={"PlatformCredential": "local"}
    )["PlatformApplicationArn"]
    endpoint = cloud.sns.create_platform_endpoint(PlatformApplicationArn=app, Token=uuid.uuid4().hex)["EndpointArn"]
    payload = {"fcmV1Message": {"message": {"notification": {"title": "Shipped", "body": "Order o-1 is on its way"}}}}
    answer = cloud.sns.publish(
        TargetArn=endpoint, MessageStructure="json", Message=json.dumps({"default": "x", "GCM": json.dumps(payload)})
    )
    [push] = cloud.mail(endpoint)
    assert push["channel"] == "push"
    assert push["subject"] == "Shipped"
    assert push["body"] == "Order o-1 is on its way"
    assert push["messageId"] == answer["MessageId"]

    cloud.sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as refused:
        cloud.sns.publish(TargetArn=endpoint, Message="again")
    assert refused.value.response["Error"]["Code"] == "EndpointDisabled"
    assert len(cloud.mail(endpoint)) == 1


def test_messages_to_a_topic_are_not_mail(cloud: Cloud) -> None:
    topic = cloud.sns.create_topic(Name=f"t-{uuid.uuid4().hex[:6]}")["TopicArn"]
    cloud.sns.publish(TopicArn=topic, Message="an event")
    assert cloud.mail() == []


def test_taking_the_patches_off_stops_the_mailbox(tmp_path: Path) -> None:
    mailbox = tmp_path / "mailbox.jsonl"
    patch_channels(Mailbox(mailbox))()
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sns.publish(PhoneNumber="+447700900999", Message="not in the mailbox")
    assert read_mailbox(mailbox) == []
