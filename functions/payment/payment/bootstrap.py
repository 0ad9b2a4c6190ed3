"""Wiring, once per container: the repository and the Stripe port the functions share (tests swap them)."""

from __future__ import annotations

import os

from payment.store import DynamoPaymentRepository
from payment.stripe_gateway import StripeGateway, StripeWebhookVerifier

TABLE_NAME = os.environ.get("TABLE_NAME", "")


def repository() -> DynamoPaymentRepository:
    return DynamoPaymentRepository(TABLE_NAME)


def provider() -> StripeGateway:
    return StripeGateway()


def verifier() -> StripeWebhookVerifier:
    return StripeWebhookVerifier()
