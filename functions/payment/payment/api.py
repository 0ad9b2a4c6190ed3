"""The payment service's HTTP functions.

- ``GET /orders/{orderId}/payment`` (``PaymentReadFunction``; the order's owner, support, admin; anyone else 404):
  status, the amount asked, charged, refunded and still refundable, the failure if any, and each refund.
- ``POST /admin/orders/{orderId}/refund`` (``PaymentAdminFunction``; admin, others 403): ``{"amount"?: int,
  "reason"?: str}``; everything left when ``amount`` is absent. 201 with the refund. More than is left, or a
  payment that charged nothing: 422. Another refund of the same order at the same moment: 409. Stripe not
  answering: 502 (retrying is safe: the same refund number, the same idempotency key).
- ``POST /payments/webhooks/stripe`` (``PaymentWebhookFunction``; public, proven by ``Stripe-Signature``): a
  forged, altered or stale (over five minutes) signature is 400 and changes nothing; each Stripe event id is
  applied once (a replay answers 200 ``{"duplicate": true}``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from gears_shared.auth import ADMIN
from gears_shared.consumers import DynamoInbox, EventInProgress
from gears_shared.errors import BadRequest, Conflict
from gears_shared.http import (
    CORRELATION_ID_PATH,
    answer,
    create_resolver,
    current_caller,
    current_correlation_id,
    json_response,
    request_body,
    require_roles,
)
from gears_shared.observability import setup
from payment import bootstrap, service
from payment.domain import RefundKind

logger, tracer, metrics = setup()

TABLE_NAME = os.environ.get("TABLE_NAME", "")
payments = bootstrap.repository()
provider = bootstrap.provider()
verifier = bootstrap.verifier()
webhook_inbox = DynamoInbox(TABLE_NAME, consumer="stripe-webhooks") if TABLE_NAME else None


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt | None = Field(None, ge=1, le=100_000_000, description="Minor units; all that is left if absent")
    reason: str | None = Field(None, max_length=500)


class WebhookBusy(Conflict):
    title = "Event being applied"
    code = "webhook-in-progress"


# -- reads -----------------------------------------------------------------------------------------------------------
read_app = create_resolver(logger)


@read_app.get("/orders/<order_id>/payment")
def get_payment(order_id: str) -> Response[Any]:
    caller = current_caller(read_app)
    payment, refunds = service.get_payment(order_id, caller, payments=payments)
    body = payment.to_dict()
    body["refunds"] = [r.to_dict() for r in refunds]
    return json_response(body, headers={"Cache-Control": "no-store"})


# -- admin -----------------------------------------------------------------------------------------------------------
admin_app = create_resolver(logger)
admin_app.use(middlewares=[require_roles(ADMIN)])


# An optional Idempotency-Key makes a retried refund request the same refund (see service.refund_payment).
REQUEST_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,128}")


@admin_app.post("/admin/orders/<order_id>/refund")
def refund_order(order_id: str) -> Response[Any]:
    body = request_body(admin_app, RefundRequest, empty=RefundRequest(amount=None, reason=None))
    request_key = admin_app.current_event.headers.get("idempotency-key")
    if request_key is not None and not REQUEST_KEY.fullmatch(request_key):
        raise BadRequest("Idempotency-Key must be 8 to 128 characters of letters, digits and _.:-")
    refund = service.refund_payment(
        order_id,
        body.amount,
        kind=RefundKind.ADMIN,
        reason=body.reason,
        payments=payments,
        provider=provider,
        correlation_id=current_correlation_id(admin_app),
        request_key=request_key,
    )
    return json_response(refund.to_dict(), 201)


# -- the Stripe webhook ----------------------------------------------------------------------------------------------
webhook_app = create_resolver(logger)


@webhook_app.post("/payments/webhooks/stripe")
def stripe_webhook() -> Response[Any]:
    current = webhook_app.current_event
    payload = current.decoded_body or ""
    if len(payload) > 512 * 1024:
        raise BadRequest("The webhook body is too large.")
    event = verifier.verify(payload, current.headers.get("stripe-signature"))
    event_id = str(event["id"])
    if webhook_inbox is not None:
        try:
            if not webhook_inbox.begin(event_id):
                return json_response({"received": True, "duplicate": True, "id": event_id})
        except EventInProgress as exc:
            raise WebhookBusy("This event is being applied right now.") from exc
    try:
        outcome = service.apply_provider_event(event, payments=payments, provider=provider)
    except BaseException:
        if webhook_inbox is not None:
            webhook_inbox.abandon(event_id)
        raise
    if webhook_inbox is not None:
        webhook_inbox.complete(event_id)
    logger.info("stripe event applied", extra={"stripeEvent": event_id, "type": event.get("type"), "outcome": outcome})
    return json_response({"received": True, "duplicate": False, "id": event_id, "outcome": outcome})


# -- handlers --------------------------------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def payment_read_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(read_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def payment_admin_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(admin_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def stripe_webhook_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(webhook_app, event, context)
