"""The payment service's sample events in events/ (for `gears invoke -e`, `sam local invoke -e`) reach their
handlers as they are."""

from __future__ import annotations

import json
from typing import Any

from gears.local.lambda_context import LambdaContext
from tests.conftest import ROOT
from tests.functional.payment.conftest import Payments

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads((EVENTS / path).read_text())


CONTEXT = LambdaContext("PaymentChargeConsumerFunction", timeout_s=30)  # the template's timeout


def test_the_consumer_sample_charges_the_sample_order(payments: Payments) -> None:
    result = payments.consumers.handler(
        load("PaymentChargeConsumerFunction/order-confirmed.json"), LambdaContext("C", timeout_s=30)
    )

    assert result == {"batchItemFailures": []}
    assert [i["status"] for i in payments.stripe.intents("ord-sample-1")] == ["succeeded"]


def test_the_http_samples(payments: Payments) -> None:
    def status(handler: Any, sample: str) -> int:
        return int(handler(load(sample), LambdaContext(sample.split("/", maxsplit=1)[0]))["statusCode"])

    api = payments.api
    assert status(api.payment_read_handler, "PaymentReadFunction/get-payment.json") == 404  # no such order yet
    payments.consumers.handler(
        load("PaymentChargeConsumerFunction/order-confirmed.json"), LambdaContext("C", timeout_s=30)
    )
    assert status(api.payment_read_handler, "PaymentReadFunction/get-payment.json") == 200
    assert status(api.payment_admin_handler, "PaymentAdminFunction/partial-refund.json") == 201
    # The sample's signature is a placeholder (and old): the route runs, and refuses it.
    assert status(api.stripe_webhook_handler, "PaymentWebhookFunction/payment-intent-succeeded.json") == 400


def test_the_stream_sample(payments: Payments) -> None:
    [event] = payments.publisher.events_for_record(
        load("PaymentPublisherFunction/payment-succeeded.json")["Records"][0]
    )

    assert event.type == "PaymentSucceeded.v1"
    assert event.data["amount"] == {"amount": 2599, "currency": "GBP"}
    result = payments.publisher.handler(load("PaymentPublisherFunction/payment-succeeded.json"), LambdaContext("P"))
    assert result == {"batchItemFailures": []}


def test_the_publisher_puts_events_on_the_payment_topic(payments: Payments, payment_env: dict[str, str]) -> None:
    import boto3

    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="payment-topic-probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(
        TopicArn=payment_env["TOPIC_ARN"], Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )

    payments.publisher.handler(load("PaymentPublisherFunction/payment-succeeded.json"), LambdaContext("P"))

    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["type"] == "PaymentSucceeded.v1"
