"""The payment table's stream, published as CloudEvents on the payment topic (``PaymentSucceeded.v1``, ...).

A payment's outcome is written once, to its item; this function turns the change into its event, so a crash can
never leave a recorded charge unannounced. What a change means:

- the payment item reaches SUCCEEDED (from PENDING or FAILED, or inserted so by a webhook): ``PaymentSucceeded``;
- it reaches FAILED: ``PaymentFailed``; VOIDED: ``PaymentVoided``; AWAITING_APPROVAL (PayPal's buyer must
  approve): ``PaymentApprovalRequested``, which the service's own approvals queue also hears;
- a refund item is inserted (it carries the payment's new refunded total): ``PaymentRefunded``.

Everything else (PENDING, APPROVED, CANCELLED-before-charge, the refunded totals on the payment item, inbox items)
publishes nothing. Event ids come from the stream record's ``eventID``: a retried batch publishes the same ids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from gears_shared.events import CloudEvent, new_event
from gears_shared.streams import stream_handler
from payment import bootstrap
from payment.domain import STRIPE, Payment, PaymentStatus, Refund, utc_iso
from payment.events import (
    PAYMENT_APPROVAL_REQUESTED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_SUCCEEDED,
    PAYMENT_VOIDED,
    SOURCE,
    validated,
)
from payment.store import payment_from_image, refund_from_image

EVENT_ID_NAMESPACE = uuid.UUID("8a7e0b43-5f1c-4d8e-b6a2-2c9f0e71d35b")


def event_id(stream_event_id: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, stream_event_id))


def _payment_change(old: Payment | None, new: Payment) -> tuple[str, dict[str, Any]] | None:
    if old is not None and old.status is new.status:
        return None
    if new.status is PaymentStatus.SUCCEEDED and new.payment_intent_id:
        return PAYMENT_SUCCEEDED, {
            "orderId": new.order_id,
            "userId": new.user_id,
            "paymentIntentId": new.payment_intent_id,
            "amount": new.money(new.charged).to_dict(),
            "provider": new.provider,
        }
    if new.status is PaymentStatus.FAILED:
        failure = new.failure
        return PAYMENT_FAILED, {
            "orderId": new.order_id,
            "userId": new.user_id,
            "reason": failure.reason if failure else "payment_failed",
            "declineCode": failure.decline_code if failure else None,
            "message": failure.message if failure else None,
            "paymentIntentId": new.payment_intent_id,
            "provider": new.provider,
        }
    if new.status is PaymentStatus.VOIDED:
        return PAYMENT_VOIDED, {
            "orderId": new.order_id,
            "userId": new.user_id,
            "paymentIntentId": new.payment_intent_id,
            "provider": new.provider,
        }
    if new.status is PaymentStatus.AWAITING_APPROVAL and (old is None or old.status is PaymentStatus.PENDING):
        if not (new.payment_intent_id and new.approval_url and new.approval_expires_at):
            return None
        return PAYMENT_APPROVAL_REQUESTED, {
            "orderId": new.order_id,
            "userId": new.user_id,
            "provider": new.provider,
            "paymentIntentId": new.payment_intent_id,
            "approvalUrl": new.approval_url,
            "expiresAt": utc_iso(new.approval_expires_at),
            "amount": new.amount.to_dict(),
        }
    return None


def _refund_data(refund: Refund, user_id: str | None, provider: str) -> dict[str, Any]:
    return {
        "orderId": refund.order_id,
        "userId": user_id,
        "refundId": refund.refund_id,
        "amount": refund.amount.to_dict(),
        "refundedTotal": refund.refunded_total.to_dict(),
        "full": refund.full,
        "kind": refund.kind.value,
        "reason": refund.reason,
        "paymentIntentId": refund.payment_intent_id,
        "provider": provider,
    }


def _moment(created: Any) -> datetime:
    """The stream's own time of a change (epoch seconds in a Lambda event; a datetime from boto3), so a retried
    record's envelope is identical; now only if a record lacks it."""
    if isinstance(created, datetime):
        return created
    return datetime.fromtimestamp(float(created), UTC) if created is not None else datetime.now(UTC)


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one stream record stands for: none or one."""
    ddb = record.get("dynamodb") or {}
    event_name = str(record.get("eventName") or "")
    created = ddb.get("ApproximateCreationDateTime")
    when = utc_iso(_moment(created))
    change: tuple[str, dict[str, Any]] | None = None
    correlation = ""
    subject = ""
    if event_name in ("INSERT", "MODIFY"):
        new_payment = payment_from_image(ddb.get("NewImage"))
        if new_payment is not None:
            old_payment = payment_from_image(ddb.get("OldImage"))
            change = _payment_change(old_payment[0] if old_payment else None, new_payment[0])
            correlation, subject = new_payment[1], new_payment[0].order_id
        elif event_name == "INSERT":
            refund = refund_from_image(ddb.get("NewImage"))
            if refund is not None:
                image = ddb.get("NewImage") or {}
                user = image.get("userId", {}).get("S")
                provider = image.get("provider", {}).get("S") or STRIPE
                change = PAYMENT_REFUNDED, _refund_data(refund[0], user, provider)
                correlation, subject = refund[1], refund[0].order_id
    if change is None:
        return []
    type_, data = change
    stream_id = str(record.get("eventID") or ddb.get("SequenceNumber"))
    return [
        new_event(
            type_,
            SOURCE,
            validated(type_, data),
            correlation_id=correlation,
            subject=subject,
            event_id=event_id(stream_id),
            time=when,
        )
    ]


handler = stream_handler(bootstrap.stream_publisher)
