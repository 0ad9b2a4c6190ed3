"""The events the CRM acts on (``CrmEventsConsumerFunction`` on ``CrmEventsQueue``) and the campaign launcher
(``CrmCampaignLauncherFunction`` on ``CrmCampaignQueue``).

The events queue is subscribed to auth (``UserRegistered.v1``, ``UserProfileUpdated.v1``), e-commerce
(``OrderPlaced.v1``), payment (``PaymentSucceeded.v1``, ``PaymentRefunded.v1``), orders (``OrderCancelled.v1``) and
notification (``Notification{Sent,Delivered,Failed,Suppressed}.v1``, counted per campaign). No inbox: each event's
one write is a TransactWrite whose first item is keyed by the event (its timeline entry, or a counted marker), so a
repeat changes nothing by itself (see docs/events.md: the inbox would triple the writes).

An event that comes before the order it concerns (a payment before OrderPlaced, which travels another topic) is
retried after 2, 4, 8 ... 60 s; one that can never apply (not a CloudEvent, invalid data) after 1 s, so it reaches
the dead-letter queue in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from crm import bootstrap, service
from crm import events as ev
from crm.service import CustomerStore, EventContext
from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger, metrics, tracer

Data = TypeVar("Data", bound=BaseModel)


def _apply(
    model: type[Data], use_case: Callable[[Data, EventContext, CustomerStore], str]
) -> Callable[[CloudEvent], None]:
    def handle(event: CloudEvent) -> None:
        ctx = EventContext(event.type, event.id, event.time, event.correlationid)
        outcome = use_case(model.model_validate(event.data), ctx, bootstrap.crm_store())
        logger.info("event applied", extra={"type": event.type, "eventId": event.id, "outcome": outcome})

    return handle


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """How soon a failed message should come back, or ``None`` for the queue's visibility timeout."""
    if isinstance(error, PoisonMessage | ValidationError):
        return 1
    return default_retry_delay(error, receive_count)


def consumer() -> EventConsumer:
    outcome = _apply(ev.NotificationOutcome, service.notification_outcome)
    return EventConsumer(
        {
            ev.USER_REGISTERED: _apply(ev.UserRegistered, service.user_registered),
            ev.USER_PROFILE_UPDATED: _apply(ev.UserProfileUpdated, service.profile_updated),
            ev.ORDER_PLACED: _apply(ev.OrderPlaced, service.order_placed),
            ev.PAYMENT_SUCCEEDED: _apply(ev.PaymentSucceeded, service.payment_succeeded),
            ev.PAYMENT_REFUNDED: _apply(ev.PaymentRefunded, service.payment_refunded),
            ev.ORDER_CANCELLED: _apply(ev.OrderCancelled, service.order_cancelled),
            **dict.fromkeys(ev.NOTIFICATION_OUTCOMES, outcome),
        },
        inbox=None,
        logger=logger,
        on_unknown=lambda e: logger.info("event type not handled", extra={"type": e.type, "eventId": e.id}),
        retry_delay=retry_delay,
        queue_url=os.environ.get("QUEUE_URL", ""),
        sqs=bootstrap.sqs(),
    )


handler = sqs_handler(consumer)


def _launch(event: CloudEvent) -> None:
    data = ev.CampaignCreated.model_validate(event.data)
    outcome = service.launch_campaign(data.campaignId, bootstrap.crm_store())
    logger.info("campaign launched", extra={"campaignId": data.campaignId, "outcome": outcome})


def launcher() -> EventConsumer:
    """The launcher: no inbox either, the launch resumes from the progress it keeps on the campaign."""
    return EventConsumer(
        {ev.CAMPAIGN_CREATED: _launch},
        inbox=None,
        logger=logger,
        retry_delay=retry_delay,
        queue_url=os.environ.get("QUEUE_URL", ""),
        sqs=bootstrap.sqs(),
    )


launcher_handler = sqs_handler(launcher)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def recompute_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scheduled RFM recompute (``CrmSegmentsFunction``, hourly): the summary it stored."""
    summary = service.recompute_segments(bootstrap.crm_store())
    logger.info("segments recomputed", extra={k: summary[k] for k in ("customers", "scored", "rescored")})
    return summary
