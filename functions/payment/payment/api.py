"""The payment service's HTTP functions: an order's payment (``PaymentReadFunction``), admin refunds
(``PaymentAdminFunction``), Stripe's webhook (``PaymentWebhookFunction``), PayPal's webhook
(``PaymentPayPalWebhookFunction``) and the buyer's way to PayPal's approval page and back
(``PaymentPayPalRedirectFunction``)."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

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
from payment.domain import PAYPAL, STRIPE, Payment, PaymentRuleError, PaymentStatus, RefundKind
from payment.service import (
    BuyerCancelled,
    CaptureApproved,
    GetPayment,
    PaymentRepository,
    Providers,
    RecordProviderEvent,
    RefundPayment,
)

# The statuses the shared kinds do not give already (the service's own errors are those kinds).
ERRORS: dict[type[BaseException], int] = {
    PaymentRuleError: 422,  # RefundTooLarge among them
    EventInProgress: 409,  # a webhook whose event another delivery is applying right now: Stripe sends it again
}

Payments = Annotated[PaymentRepository, Depends(bootstrap.payment_repository)]
Gateways = Annotated[Providers, Depends(bootstrap.payment_providers)]
Inboxes = Annotated[Inbox, Depends(bootstrap.webhook_inbox)]

# An optional Idempotency-Key makes a retried refund request the same refund (see service.refund_payment).
REQUEST_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,128}")
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
PROVIDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_WEBHOOK_BYTES = 512 * 1024


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt | None = Field(None, ge=1, le=100_000_000, description="Minor units; all that is left if absent")
    reason: str | None = Field(None, max_length=500)


PaymentStatusName = Literal[
    "PENDING",
    "AWAITING_APPROVAL",
    "APPROVED",
    "SUCCEEDED",
    "FAILED",
    "VOIDED",
    "CANCELLED",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
]


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
    status: PaymentStatusName
    amount: Money
    charged: Money
    refunded: Money
    refundable: Money
    paymentIntentId: str | None
    paymentMethod: str | None
    provider: Literal["stripe", "paypal"]
    captureId: str | None
    approvalUrl: str | None
    approvalExpiresAt: Timestamp | None
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


class PayPalEventIn(BaseModel):
    """A PayPal webhook event as PayPal sends it (its whole shape is PayPal's; the fields the service reads are
    these). PayPal confirms the raw body and its transmission headers before anything is read."""

    model_config = ConfigDict(extra="allow")

    id: str
    event_type: str
    resource: dict[str, Any]


class RedirectAnswer(Answer):
    """Where the buyer's payment stands after PayPal sent them back (a browser, which asks for ``text/html``, is
    sent on instead: 303 to ``<STOREFRONT_URL>/#/orders/<orderId>``, the storefront's page of the order)."""

    orderId: str
    status: PaymentStatusName | Literal["PREPARING"]


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
    "that charged nothing: 422. Another refund of the same order at the same moment: 409. The provider (Stripe or "
    "PayPal, whichever took the payment) not answering: 502; "
    "retrying is safe, and an `Idempotency-Key` header (8 to 128 of letters, digits and `_.:-`) makes a retried "
    "request the same refund.",
)
@documented(
    body=RefundRequest,
    answers={201: RefundAnswer},
    headers={"Idempotency-Key": "8 to 128 of letters, digits and `_.:-`: a retried request is the same refund"},
)
def refund_order(order_id: str, payments: Payments, providers: Gateways) -> Response[Any]:
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
    refund = service.refund_payment(command, payments=payments, providers=providers)
    return json_response(refund.to_dict(), 201)


# -- the providers' webhooks ----------------------------------------------------------------------------------------
webhook_app = create_resolver(ERRORS)


def _record_webhook(app: Any, provider: str, providers: Providers, payments: PaymentRepository, inbox: Inbox) -> Any:
    """Verify (before anything is read or written), translate and apply a provider's webhook, once per event."""
    current = app.current_event
    payload = current.decoded_body or ""
    if len(payload) > MAX_WEBHOOK_BYTES:
        raise BadRequest("The webhook body is too large.")
    event = providers.named(provider).verify_webhook(payload, current.headers)
    recorded = service.record_provider_event(
        RecordProviderEvent(event), inbox=inbox, payments=payments, providers=providers
    )
    if recorded.duplicate:
        return json_response({"received": True, "duplicate": True, "id": recorded.event_id})
    logger.info(
        "provider event applied",
        extra={"provider": provider, "event": recorded.event_id, "type": event.type, "outcome": recorded.outcome},
    )
    return json_response({"received": True, "duplicate": False, "id": recorded.event_id, "outcome": recorded.outcome})


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
def stripe_webhook(payments: Payments, providers: Gateways, inbox: Inboxes) -> Response[Any]:
    return _record_webhook(webhook_app, STRIPE, providers, payments, inbox)


paypal_webhook_app = create_resolver(ERRORS)


@paypal_webhook_app.post(
    "/payments/webhooks/paypal",
    summary="PayPal's payment events, confirmed by PayPal's verify-webhook-signature; each event id applied once",
    description="PayPal confirms the raw body with its transmission headers and the shop's webhook id before "
    "anything is read: a forged or altered event, or a transmission over five minutes old (a replay), is 400 and "
    'changes nothing; an event applied before answers 200 `{"duplicate": true}`; one being applied right now, 409; '
    "PayPal unreachable for the check, 502 (PayPal sends it again). `CHECKOUT.ORDER.APPROVED` captures the payment "
    "(once, whoever comes first: this or the buyer's return), `PAYMENT.CAPTURE.COMPLETED` records a capture a crash "
    "left unrecorded, `PAYMENT.CAPTURE.REFUNDED` records a refund made in PayPal.",
)
@documented(
    body=PayPalEventIn,
    answers={200: WebhookAnswer},
    headers={
        "PAYPAL-TRANSMISSION-ID": "PayPal's id of this transmission",
        "PAYPAL-TRANSMISSION-TIME": "when PayPal sent it (ISO 8601)",
        "PAYPAL-TRANSMISSION-SIG": "PayPal's signature of the transmission",
        "PAYPAL-CERT-URL": "the certificate PayPal signed it with",
        "PAYPAL-AUTH-ALGO": "the signature's algorithm (`SHA256withRSA`)",
    },
    required_headers=(
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
    ),
)
def paypal_webhook(payments: Payments, providers: Gateways, inbox: Inboxes) -> Response[Any]:
    return _record_webhook(paypal_webhook_app, PAYPAL, providers, payments, inbox)


# -- the buyer's way to PayPal and back (public: a browser's redirects carry no token) ------------------------------
redirect_app = create_resolver(ERRORS)


def _query(app: Any, name: str, pattern: re.Pattern[str], *, required: bool = True) -> str | None:
    value = (app.current_event.query_string_parameters or {}).get(name)
    if value is None and not required:
        return None
    if value is None or not pattern.fullmatch(value):
        raise BadRequest(f"`{name}` is missing or malformed.")
    return str(value)


def _where_to(order_id: str, payment: Payment | None) -> Response[Any]:
    """The buyer's landing after PayPal: a browser (it asks for ``text/html``) goes on to the storefront's order
    page when there is a storefront; any other client gets the payment's state as JSON."""
    storefront = os.environ.get("STOREFRONT_URL", "").rstrip("/")
    accept = (redirect_app.current_event.headers or {}).get("accept", "")
    if storefront and "text/html" in accept:
        return Response(303, "text/plain", "", headers={"Location": f"{storefront}/#/orders/{quote(order_id)}"})
    status = payment.status.value if payment is not None else "PREPARING"
    return json_response({"orderId": order_id, "status": status}, headers={"Cache-Control": "no-store"})


@redirect_app.get(
    "/payments/paypal/approve",
    summary="Send the buyer to PayPal's approval page for an order (303), once the PayPal order is made",
    description="`orderId` (the checkout's). The checkout's `payment.approvalUrl` points here, so it is known at "
    "once: while the payment service is still making the PayPal order (stock being reserved) this answers 202 "
    '`{orderId, status: "PREPARING"}` with `Retry-After: 1` and `Refresh: 1`; then 303 to PayPal. A payment past '
    "waiting (paid, failed, cancelled) lands where the return does.",
)
@documented(
    answers={200: RedirectAnswer, 202: RedirectAnswer, 303: None},
    query={"orderId": "the order's id (the checkout's `orderId`)"},
    answer_headers={
        303: {"Location": "PayPal's approval page"},
        202: {"Retry-After": "seconds until it is worth asking again"},
    },
)
def paypal_approve(payments: Payments) -> Response[Any]:
    order_id = _query(redirect_app, "orderId", ORDER_ID)
    assert order_id is not None
    payment = payments.get(order_id)
    if payment is None or payment.status is PaymentStatus.PENDING:
        body = {"orderId": order_id, "status": "PREPARING"}
        return json_response(body, 202, {"Retry-After": "1", "Refresh": "1", "Cache-Control": "no-store"})
    if payment.status is PaymentStatus.AWAITING_APPROVAL and payment.approval_url:
        return Response(303, "text/plain", "", headers={"Location": payment.approval_url, "Cache-Control": "no-store"})
    return _where_to(order_id, payment)


@redirect_app.get(
    "/payments/paypal/return",
    summary="PayPal sends the buyer back after approving: the payment is captured (once) and the buyer told",
    description="`orderId` (ours), `token` (PayPal's order id, which must be the payment's: 404 otherwise), "
    "`PayerID`. The capture's key is the order's, so this and PayPal's `CHECKOUT.ORDER.APPROVED` webhook, in any "
    "order, take the money once. Anyone may call it: if the buyer has not approved, PayPal says so and the payment "
    "keeps waiting. PayPal not answering: 502 (PayPal's webhook, or the approval's time running out, captures it "
    "then).",
)
@documented(
    answers={200: RedirectAnswer, 303: None},
    query={"orderId": "the order's id", "token": "PayPal's order id", "PayerID": "PayPal's id of the buyer"},
    answer_headers={303: {"Location": "the storefront's page of the order, for a browser"}},
)
def paypal_return(payments: Payments, providers: Gateways) -> Response[Any]:
    order_id = _query(redirect_app, "orderId", ORDER_ID)
    token = _query(redirect_app, "token", PROVIDER_ID)
    assert order_id is not None
    command = CaptureApproved(order_id, token, correlation_id=current_correlation_id(redirect_app))
    payment = service.capture_approved(command, payments=payments, providers=providers)
    return _where_to(order_id, payment)


@redirect_app.get(
    "/payments/paypal/cancel",
    summary="PayPal sends the buyer back after cancelling: the payment fails, the order is cancelled",
    description="`orderId` (ours), `token` (PayPal's order id, which must be the payment's: 404 otherwise). A "
    "payment still waiting fails (`buyer_cancelled`), so the order is cancelled and its stock released; one "
    "approved or paid meanwhile stays as it is.",
)
@documented(
    answers={200: RedirectAnswer, 303: None},
    query={"orderId": "the order's id", "token": "PayPal's order id"},
    answer_headers={303: {"Location": "the storefront's page of the order, for a browser"}},
)
def paypal_cancel(payments: Payments) -> Response[Any]:
    order_id = _query(redirect_app, "orderId", ORDER_ID)
    token = _query(redirect_app, "token", PROVIDER_ID)
    assert order_id is not None
    command = BuyerCancelled(order_id, token, correlation_id=current_correlation_id(redirect_app))
    payment = service.buyer_cancelled(command, payments=payments)
    return _where_to(order_id, payment)


payment_read_handler = http_handler(read_app)
payment_admin_handler = http_handler(admin_app)
stripe_webhook_handler = http_handler(webhook_app)
paypal_webhook_handler = http_handler(paypal_webhook_app)
paypal_redirect_handler = http_handler(redirect_app)
