"""Wiring, in one place: the ports the payment functions use, each built once per container on first use.

Routes receive them with ``Depends(bootstrap.payment_repository)`` (tests swap one through the resolver's
``dependency_overrides``); the orders consumer takes them from here as it is built and as it applies each event,
and the stream function its publisher. The environment is read here and nowhere else in the service's wiring.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from gears_shared.consumers import DynamoInbox, Inbox
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher, stream_publisher_from_env
from payment.service import PaymentProvider, PaymentRepository
from payment.store import DynamoPaymentRepository
from payment.stripe_gateway import StripeGateway, StripeWebhookVerifier


def _table_name() -> str:
    return os.environ.get("TABLE_NAME", "")


@cache
def payment_repository() -> PaymentRepository:
    return DynamoPaymentRepository(_table_name())


@cache
def payment_provider() -> PaymentProvider:
    """Stripe; its settings and key are read at each use, so a rotated key is picked up without a new container."""
    return StripeGateway()


@cache
def webhook_verifier() -> StripeWebhookVerifier:
    return StripeWebhookVerifier()


@cache
def webhook_inbox() -> Inbox:
    """The Stripe event ids the webhook applied (in the payment table): the orders consumer's mechanism."""
    return DynamoInbox(_table_name(), consumer="stripe-webhooks")


@cache
def orders_inbox() -> Inbox:
    """The orders event ids the consumer applied (in the payment table)."""
    return DynamoInbox(_table_name(), consumer="payment-orders")


def orders_queue_url() -> str:
    """The orders queue, where a failed message is brought back sooner than its visibility timeout."""
    return os.environ.get("QUEUE_URL", "")


@cache
def sqs() -> Any:
    """The SQS client the orders consumer reschedules failed messages with."""
    import boto3

    return boto3.client("sqs")


@cache
def stream_publisher() -> StreamPublisher:
    """The table stream's publisher, to the payment topic (``TOPIC_ARN``)."""
    from payment.publisher import events_for_record  # here: the publisher module's handler calls this one

    return stream_publisher_from_env(events_for_record, logger=logger, metrics=metrics)
