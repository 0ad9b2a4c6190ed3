"""The events analytics counts (``AnalyticsEventsConsumerFunction`` on ``AnalyticsEventsQueue``).

No inbox: each event's increments go in TransactWrites whose first item is the event's marker (one per chunk of
90 counters), so a repeat changes nothing by itself and a crash between chunks re-applies only what was left.

A refund before its paid order, or a sale before its products are known (up to three minutes after it was sent:
then its unknown lines count as ``uncategorised``), is retried after 2, 4, 8 ... 60 s; one that can never apply (not
a CloudEvent, invalid data) after 1 s, so it reaches the dead-letter queue in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from analytics import bootstrap, service
from analytics import events as ev
from analytics.service import AnalyticsStore, EventContext
from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger

Data = TypeVar("Data", bound=BaseModel)


def _apply(
    model: type[Data], use_case: Callable[[Data, EventContext, AnalyticsStore], str]
) -> Callable[[CloudEvent], None]:
    def handle(event: CloudEvent) -> None:
        ctx = EventContext(event.id, event.time)
        outcome = use_case(model.model_validate(event.data), ctx, bootstrap.analytics_store())
        logger.info("event applied", extra={"type": event.type, "eventId": event.id, "outcome": outcome})

    return handle


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """How soon a failed message should come back, or ``None`` for the queue's visibility timeout."""
    if isinstance(error, PoisonMessage | ValidationError):
        return 1
    return default_retry_delay(error, receive_count)


def consumer() -> EventConsumer:
    product = _apply(ev.ProductData, service.product_changed)
    return EventConsumer(
        {
            ev.PRODUCT_CREATED: product,
            ev.PRODUCT_UPDATED: product,
            ev.PRODUCT_DELETED: product,
            ev.CART_STARTED: _apply(ev.CartStarted, service.cart_started),
            ev.ORDER_PLACED: _apply(ev.OrderPlaced, service.order_placed),
            ev.ORDER_PAID: _apply(ev.OrderPaid, service.order_paid),
            ev.PAYMENT_REFUNDED: _apply(ev.PaymentRefunded, service.payment_refunded),
            ev.ORDER_HISTORY_IMPORTED: _apply(ev.OrderHistoryImported, service.history_imported),
        },
        inbox=None,
        logger=logger,
        on_unknown=lambda e: logger.info("event type not handled", extra={"type": e.type, "eventId": e.id}),
        retry_delay=retry_delay,
        queue_url=os.environ.get("QUEUE_URL", ""),
        sqs=bootstrap.sqs(),
    )


handler = sqs_handler(consumer)
