"""Wiring, in one place: the ports the payment functions use, each built once per container on first use.

Routes receive them with ``Depends(bootstrap.payment_repository)`` (tests swap one through the resolver's
``dependency_overrides``); the orders consumer takes them from here as it is built and as it applies each event,
and the stream function its publisher. The environment is read here and nowhere else in the service's wiring.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import Any

from gears_shared.consumers import DynamoInbox, Inbox
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher, stream_publisher_from_env
from payment.service import DEFAULT_APPROVAL_WINDOW, PaymentRepository, Providers
from payment.store import DynamoPaymentRepository


def _table_name() -> str:
    return os.environ.get("TABLE_NAME", "")


@cache
def payment_repository() -> PaymentRepository:
    return DynamoPaymentRepository(_table_name())


@cache
def payment_providers() -> Providers:
    """The gateways, Stripe and PayPal; each reads its settings and credentials at each use (cached five minutes),
    so a rotated key is picked up without a new container. Their SDKs are imported only when a call needs them."""
    from payment.paypal_gateway import PayPalGateway
    from payment.stripe_gateway import StripeGateway

    return Providers({"stripe": StripeGateway(), "paypal": PayPalGateway()})


@cache
def webhook_inbox() -> Inbox:
    """The providers' event ids the webhooks applied (in the payment table, prefixed by the provider): the orders
    consumer's mechanism. The consumer name is the one the Stripe webhook has always used."""
    return DynamoInbox(_table_name(), consumer="stripe-webhooks")


def approval_window() -> timedelta:
    """How long a buyer has to approve a payment on the provider's page (PayPal) before the order is cancelled."""
    seconds = os.environ.get("PAYPAL_APPROVAL_TIMEOUT_SECONDS")
    return timedelta(seconds=int(seconds)) if seconds else DEFAULT_APPROVAL_WINDOW


@cache
def orders_inbox() -> Inbox:
    """The orders event ids the consumer applied (in the payment table)."""
    return DynamoInbox(_table_name(), consumer="payment-orders")


@cache
def approvals_inbox() -> Inbox:
    """The approval requests whose wait the approvals consumer settled (in the payment table)."""
    return DynamoInbox(_table_name(), consumer="payment-approvals")


def orders_queue_url() -> str:
    """The consumer's queue (the orders queue, or the approvals queue), where a failed message is brought back
    sooner than its visibility timeout."""
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
