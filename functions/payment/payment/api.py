"""The payment service's HTTP functions: an order's payment (``PaymentReadFunction``), admin refunds
(``PaymentAdminFunction``) and Stripe's webhook (``PaymentWebhookFunction``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from gears_shared.answers import Answer, Money, Timestamp
from gears_shared.auth import ADMIN
from gears_shared.consumers import EventInProgress, Inbox
from gears_shared.errors import BadRequest
from gears_shared.http import (
    create_resolver,
    current_caller,
    current_correlation_id,
    documented,
    http_handler,
    json_response,
    request_body,
)
from gears_shared.observability import logger
from payment import bootstrap, service
from payment.domain import PaymentRuleError, RefundKind
from payment.service import GetPayment, PaymentProvider, PaymentRepository, RecordProviderEvent, RefundPayment
from payment.stripe_gateway import StripeWebhookVerifier

# The statuses the shared kinds do not give already (the service's own errors are those kinds).
ERRORS: dict[type[BaseException], int] = {
    PaymentRuleError: 422,  # RefundTooLarge among them
    EventInProgress: 409,  # a webhook whose event another delivery is applying right now: Stripe sends it again
}

Payments = Annotated[PaymentRepository, Depends(bootstrap.payment_repository)]
Provider = Annotated[PaymentProvider, Depends(bootstrap.payment_provider)]

# An optional Idempotency-Key makes a retried refund request the same refund (see service.refund_payment).
REQUEST_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,128}")
MAX_WEBHOOK_BYTES = 512 * 1024


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt | None = Field(None, ge=1, le=100_000_000, description="Minor units; all that is left if absent")
    reason: str | None = Field(None, max_length=500)


class PaymentFailure(Answer):
    reason: str
    declineCode: str | None
    message: str | None


class RefundAnswer(Answer):
    refundId: str
    orderId: str
    amount: Money
    refundedTotal: Money
    full: bool
    kind: Literal["admin", "cancel", "provider"]
    reason: str | None
    paymentIntentId: str | None
    createdAt: Timestamp


class PaymentAnswer(Answer):
    orderId: str
    status: Literal["PENDING", "SUCCEEDED", "FAILED", "VOIDED", "CANCELLED", "PARTIALLY_REFUNDED", "REFUNDED"]
    amount: Money
    charged: Money
    refunded: Money
    refundable: Money
    paymentIntentId: str | None
    paymentMethod: str | None
    failure: PaymentFailure | None
    createdAt: Timestamp
    updatedAt: Timestamp
    refunds: list[RefundAnswer]


class StripeEventIn(BaseModel):
    """A Stripe event as Stripe sends it (its whole shape is Stripe's; the fields the service reads are these).
    The raw body is what the ``Stripe-Signature`` is checked against, before anything is read."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    data: dict[str, Any]


class WebhookAnswer(Answer):
    received: bool
    duplicate: bool
    id: str
    outcome: str | None = None  # absent for a duplicate


# -- reads -----------------------------------------------------------------------------------------------------------
read_app = create_resolver(ERRORS)


@read_app.get(
    "/orders/<order_id>/payment",
    summary="An order's payment: status, amounts asked, charged, refunded and refundable, failure, refunds",
    description="For the order's owner, support and admin; anyone else gets 404, as for an order with no payment.",
)
@documented(answers={200: PaymentAnswer})
def get_payment(order_id: str, payments: Payments) -> Response[Any]:
    payment, refunds = service.get_payment(GetPayment(order_id, current_caller(read_app)), payments=payments)
    body = payment.to_dict()
    body["refunds"] = [r.to_dict() for r in refunds]
    return json_response(body, headers={"Cache-Control": "no-store"})


# -- admin -----------------------------------------------------------------------------------------------------------
admin_app = create_resolver(ERRORS, roles=(ADMIN,))


@admin_app.post(
    "/admin/orders/<order_id>/refund",
    summary="Refund an order's payment in full or in part (201 with the refund)",
    description="Body: `{amount?, reason?}`; everything left when `amount` is absent. More than is left, or a payment "
    "that charged nothing: 422. Another refund of the same order at the same moment: 409. Stripe not answering: 502; "
    "retrying is safe, and an `Idempotency-Key` header (8 to 128 of letters, digits and `_.:-`) makes a retried "
    "request the same refund.",
)
@documented(
    body=RefundRequest,
    answers={201: RefundAnswer},
    headers={"Idempotency-Key": "8 to 128 of letters, digits and `_.:-`: a retried request is the same refund"},
)
def refund_order(order_id: str, payments: Payments, provider: Provider) -> Response[Any]:
    body = request_body(admin_app, RefundRequest, empty=RefundRequest(amount=None, reason=None))
    request_key = admin_app.current_event.headers.get("idempotency-key")
    if request_key is not None and not REQUEST_KEY.fullmatch(request_key):
        raise BadRequest("Idempotency-Key must be 8 to 128 characters of letters, digits and _.:-")
    command = RefundPayment(
        order_id,
        body.amount,
        RefundKind.ADMIN,
        reason=body.reason,
        correlation_id=current_correlation_id(admin_app),
        request_key=request_key,
    )
    refund = service.refund_payment(command, payments=payments, provider=provider)
    return json_response(refund.to_dict(), 201)


# -- the Stripe webhook ----------------------------------------------------------------------------------------------
webhook_app = create_resolver(ERRORS)


@webhook_app.post(
    "/payments/webhooks/stripe",
    summary="Stripe's payment events, proven by their Stripe-Signature; each event id applied once",
    description="A forged, altered or stale (over five minutes) signature is 400 and changes nothing; an event "
    'applied before answers 200 `{"duplicate": true}`; one being applied right now, 409 (Stripe sends it again).',
)
@documented(
    body=StripeEventIn,
    answers={200: WebhookAnswer},
    headers={"Stripe-Signature": "Stripe's signature of the raw body (`t=...,v1=...`)"},
    required_headers=("Stripe-Signature",),
)
def stripe_webhook(
    payments: Payments,
    provider: Provider,
    verifier: Annotated[StripeWebhookVerifier, Depends(bootstrap.webhook_verifier)],
    inbox: Annotated[Inbox, Depends(bootstrap.webhook_inbox)],
) -> Response[Any]:
    current = webhook_app.current_event
    payload = current.decoded_body or ""
    if len(payload) > MAX_WEBHOOK_BYTES:
        raise BadRequest("The webhook body is too large.")
    event = verifier.verify(payload, current.headers.get("stripe-signature"))  # before anything is read or written
    recorded = service.record_provider_event(
        RecordProviderEvent(event), inbox=inbox, payments=payments, provider=provider
    )
    if recorded.duplicate:
        return json_response({"received": True, "duplicate": True, "id": recorded.event_id})
    logger.info(
        "stripe event applied",
        extra={"stripeEvent": recorded.event_id, "type": event.get("type"), "outcome": recorded.outcome},
    )
    return json_response({"received": True, "duplicate": False, "id": recorded.event_id, "outcome": recorded.outcome})


payment_read_handler = http_handler(read_app)
payment_admin_handler = http_handler(admin_app)
stripe_webhook_handler = http_handler(webhook_app)
