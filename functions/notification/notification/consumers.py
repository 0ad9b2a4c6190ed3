"""The events notification acts on, and SES's feedback.

``handler`` (``NotificationEventsConsumerFunction`` on ``NotificationEventsQueue``, and
``NotificationCampaignConsumerFunction`` on ``NotificationCampaignQueue``, which carries only campaign batches so that
an order's receipt never waits behind a 10,000-recipient campaign): each event's data is validated and becomes the
command of its use case (:mod:`notification.service`).

No inbox: every write these handlers make is idempotent by itself (a message's log item is written on the
condition that it does not exist, a contact only over an older one), so a redelivered event finds its work done and
sends nothing again; an inbox item per event would add writes and close no window.

When a message comes back (``retry_delay``): a message that can never apply (not a CloudEvent, data that does not
validate) after 1 s, to the dead-letter queue in seconds; a provider that throttles or fails after 10 s doubling to
5 min (the queue's ``maxReceiveCount`` then parks it); a recipient whose contact has not arrived yet after 2, 4 ...
60 s (after :data:`~notification.service.CONTACT_WAIT_S` the message is failed ``no-contact`` instead); a message
another worker is sending when that worker's lease ends.

``feedback_handler`` (``NotificationFeedbackConsumerFunction`` on ``NotificationFeedbackQueue``): SES's event
publishing (the configuration set's SNS destination): Delivery, Bounce, Complaint, Reject.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger, metrics, tracer
from notification import bootstrap, service
from notification import events as ev
from notification.domain import Channel, Contact, Kind
from notification.errors import NotificationInProgress, ProviderUnavailable
from notification.rendering import carrier_name, money
from notification.service import FeedbackTooEarly, Source

PROVIDER_BACKOFF_S = (10, 300)
RECORD_BUDGET_S = 10.0  # a campaign batch of 50 sends; not started with less time left than this

CANCEL_REASONS = {
    "out_of_stock": "some items were out of stock",
    "payment_failed": "the payment did not go through",
    "customer_request": "you asked us to",
    "admin_request": "the shop cancelled it",
}

# Why a payment failed, in words, where the provider's code is not words already (PayPal's path: the buyer cancelled
# on PayPal's page, never came back, or PayPal declined what they paid with).
PAYMENT_FAILURES = {
    "buyer_cancelled": "you cancelled it at PayPal",
    "approval_expired": "it was not approved at PayPal in time",
    "instrument_declined": "PayPal declined the way you chose to pay",
}

Data = TypeVar("Data", bound=BaseModel)


def _source(event: CloudEvent) -> Source:
    return Source(event.id, event.type, event.time, event.correlationid or event.id)


def _handle(model: type[Data], apply: Callable[[Data, Source], Any]) -> Callable[[CloudEvent], None]:
    """The handler of one event type: its data as ``model``, applied by ``apply``."""

    def handle(event: CloudEvent) -> None:
        outcome = apply(model.model_validate(event.data), _source(event))
        summary = outcome.by_state if isinstance(outcome, service.Outcome) else outcome
        logger.info("event applied", extra={"type": event.type, "eventId": event.id, "outcome": summary})

    return handle


def _notify(
    source: Source, user_id: str | None, template: str, context: dict[str, Any], *, order_id: str | None = None
) -> service.Outcome:
    cmd = service.NotifyCustomer(source, user_id, Kind.ORDER_UPDATES, template, context, order_id=order_id)
    return service.notify_customer(cmd, bootstrap.store(), bootstrap.outbox())


def on_order_placed(data: ev.OrderPlaced, source: Source) -> service.Outcome:
    bootstrap.store().remember_order(data.orderId, data.userId)
    context = {
        "order_id": data.orderId,
        "total": money(data.total),
        "lines": [{"title": line.title, "sku": line.sku, "quantity": line.quantity} for line in data.lines],
        "discount_code": data.discount.code if data.discount else None,
        "discount": money(data.discount.amount) if data.discount else None,
    }
    return _notify(source, data.userId, "order_placed", context)


def on_order_paid(data: ev.OrderPaid, source: Source) -> service.Outcome:
    return _notify(source, data.userId, "order_paid", {"order_id": data.orderId, "total": money(data.total)})


def on_order_shipped(data: ev.OrderShipped, source: Source) -> service.Outcome:
    context = {
        "order_id": data.orderId,
        "carrier": carrier_name(data.carrier),
        "tracking_number": data.trackingNumber,
    }
    return _notify(source, data.userId, "order_shipped", context)


def on_order_delivered(data: ev.OrderDelivered, source: Source) -> service.Outcome:
    return _notify(source, data.userId, "order_delivered", {"order_id": data.orderId})


def on_order_cancelled(data: ev.OrderCancelled, source: Source) -> service.Outcome | str:
    if data.reason == "payment_failed":
        return "told by PaymentFailed"  # the customer heard why already: one message, not two
    reason = CANCEL_REASONS.get(data.reason, data.reason.replace("_", " ") or "it could not be completed")
    context = {"order_id": data.orderId, "reason": reason, "paid": data.paid}
    return _notify(source, data.userId, "order_cancelled", context)


def failure_in_words(reason: str | None, decline_code: str | None) -> str:
    """A payment's failure for its customer: ``insufficient funds``, ``you cancelled it at PayPal``."""
    return PAYMENT_FAILURES.get(reason or "") or (decline_code or reason or "").replace("_", " ")


def on_payment_failed(data: ev.PaymentFailed, source: Source) -> service.Outcome:
    reason = failure_in_words(data.reason, data.declineCode)
    context = {"order_id": data.orderId, "reason": reason}
    return _notify(source, data.userId, "payment_failed", context, order_id=data.orderId)


def on_payment_refunded(data: ev.PaymentRefunded, source: Source) -> service.Outcome:
    context = {"order_id": data.orderId, "amount": money(data.amount), "full": data.full}
    return _notify(source, data.userId, "payment_refunded", context, order_id=data.orderId)


def on_support_replied(data: ev.SupportReplied, source: Source) -> service.Outcome:
    context = {"ticket_subject": data.subject, "body": data.body, "ticket_id": data.ticketId}
    cmd = service.NotifyCustomer(source, data.userId, Kind.SUPPORT, "support_reply", context)
    return service.notify_customer(cmd, bootstrap.store(), bootstrap.outbox())


def on_stock_low(data: ev.StockLow, source: Source) -> service.Outcome:
    context = {
        "sku": data.sku,
        "product_id": data.productId,
        "available": data.available,
        "threshold": data.threshold,
    }
    cmd = service.AlertAdmins(source, "stock_low", context, also_to=bootstrap.alert_emails())
    return service.alert_admins(cmd, bootstrap.store(), bootstrap.outbox())


def on_campaign_batch(data: ev.CampaignBatchReady, source: Source) -> service.Outcome:
    cmd = service.SendCampaignBatch(
        source=source,
        campaign_id=data.campaignId,
        batch_id=data.batchId,
        subject=data.subject,
        body=data.body,
        discount_code=data.discountCode,
        channels=tuple(Channel(c) for c in dict.fromkeys(data.channels)),
        recipients=tuple(data.recipients),
    )
    return service.send_campaign_batch(cmd, bootstrap.store(), bootstrap.outbox())


def on_user_registered(data: ev.UserRegistered, source: Source) -> bool:
    contact = Contact(data.userId, email=data.email, name=data.name, as_of=data.registeredAt or source.time)
    return service.record_contact(service.RecordContact(contact), bootstrap.store())


def on_profile_updated(data: ev.UserProfileUpdated, source: Source) -> bool:
    phone = data.phone if data.phoneVerified else None  # an unconfirmed phone is never written to
    contact = Contact(data.userId, data.email, data.name, phone, data.locale, data.updatedAt)
    return service.record_contact(service.RecordContact(contact), bootstrap.store())


def on_roles_changed(data: ev.UserRolesChanged, source: Source) -> bool:
    cmd = service.RecordRoles(data.userId, data.email, tuple(data.roles), data.changedAt)
    return service.record_roles(cmd, bootstrap.store())


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """How soon a failed message should come back, or ``None`` for the queue's visibility timeout."""
    if isinstance(error, PoisonMessage | ValidationError):
        return 1
    if isinstance(error, ProviderUnavailable):
        first, most = PROVIDER_BACKOFF_S
        return min(first * 2 ** max(receive_count - 1, 0), most)
    if isinstance(error, NotificationInProgress):
        return max(1, min(error.lease_until - int(time.time()) + 1, 900))
    return default_retry_delay(error, receive_count)


def consumer() -> EventConsumer:
    """The events consumer, of the ports as they are (see :func:`gears_shared.consumers.sqs_handler`)."""
    return EventConsumer(
        {
            ev.ORDER_PLACED: _handle(ev.OrderPlaced, on_order_placed),
            ev.ORDER_PAID: _handle(ev.OrderPaid, on_order_paid),
            ev.ORDER_SHIPPED: _handle(ev.OrderShipped, on_order_shipped),
            ev.ORDER_DELIVERED: _handle(ev.OrderDelivered, on_order_delivered),
            ev.ORDER_CANCELLED: _handle(ev.OrderCancelled, on_order_cancelled),
            ev.PAYMENT_FAILED: _handle(ev.PaymentFailed, on_payment_failed),
            ev.PAYMENT_REFUNDED: _handle(ev.PaymentRefunded, on_payment_refunded),
            ev.STOCK_LOW: _handle(ev.StockLow, on_stock_low),
            ev.USER_REGISTERED: _handle(ev.UserRegistered, on_user_registered),
            ev.USER_PROFILE_UPDATED: _handle(ev.UserProfileUpdated, on_profile_updated),
            ev.USER_ROLES_CHANGED: _handle(ev.UserRolesChanged, on_roles_changed),
            ev.SUPPORT_REPLIED: _handle(ev.SupportReplied, on_support_replied),
            ev.CAMPAIGN_BATCH_READY: _handle(ev.CampaignBatchReady, on_campaign_batch),
        },
        inbox=None,
        logger=logger,
        on_unknown=lambda e: logger.info("event type not handled", extra={"type": e.type, "eventId": e.id}),
        retry_delay=retry_delay,
        queue_url=os.environ.get("QUEUE_URL", ""),
        sqs=bootstrap.sqs(),
        record_budget_s=RECORD_BUDGET_S,
    )


handler = sqs_handler(consumer)


# -- SES feedback ------------------------------------------------------------------------------------------------------
class UnreadableFeedback(ValueError):
    """Not an SES event: it fails every time, and the queue's redrive policy parks it."""


def _first(values: Any) -> str | None:
    if isinstance(values, list):
        return str(values[0]) if values else None
    return str(values) if values else None


def parse_feedback(body: str) -> service.Feedback:
    """An SES event (event publishing's ``eventType``, or identity notifications' ``notificationType``), raw or in
    an SNS envelope."""
    try:
        value = json.loads(body)
        if isinstance(value, dict) and value.get("Type") == "Notification" and "Message" in value:
            value = json.loads(value["Message"])
        kind = str(value.get("eventType") or value.get("notificationType") or "")
        mail = value["mail"]
        message_id = str(mail["messageId"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableFeedback(f"not an SES event: {exc}") from exc
    tags = mail.get("tags") or {}
    detail = value.get(kind[:1].lower() + kind[1:]) or {}
    if kind == "Bounce":
        recipients = [r.get("emailAddress") for r in detail.get("bouncedRecipients") or []]
    elif kind == "Complaint":
        recipients = [r.get("emailAddress") for r in detail.get("complainedRecipients") or []]
    else:
        recipients = []
    return service.Feedback(
        event_type=kind,
        message_id=message_id,
        notification_id=_first(tags.get("notificationId")),
        bounce_type=detail.get("bounceType") if isinstance(detail, dict) else None,
        recipients=tuple(str(r) for r in recipients if r),
        at=str((detail.get("timestamp") if isinstance(detail, dict) else None) or mail.get("timestamp") or ""),
    )


def apply_feedback_record(record: Any) -> None:
    feedback = parse_feedback(record.body or "")
    result = service.apply_feedback(feedback, bootstrap.store())
    logger.info(
        "feedback applied",
        extra={"eventType": feedback.event_type, "messageId": feedback.message_id, "result": result},
    )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def feedback_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SES's feedback, a batch at a time; a record that fails (feedback before its send is recorded, a store error)
    comes back after the queue's visibility timeout."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    response: dict[str, Any] = process_partial_response(  # type: ignore[assignment]
        event=event, record_handler=apply_feedback_record, processor=processor
    )
    return response


__all__ = ["FeedbackTooEarly", "feedback_handler", "handler"]
