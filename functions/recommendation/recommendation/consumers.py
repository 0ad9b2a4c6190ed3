"""The events the recommendation service keeps (``RecommendationEventsConsumerFunction`` on
``RecommendationEventsQueue``) and the job that recomputes its lists (``RecommendationModelFunction``).

The queue is subscribed to e-commerce (``ProductCreated.v1``, ``ProductUpdated.v1``, ``ProductDeleted.v1``),
inventory (``StockLevelChanged.v1``) and orders (``OrderPaid.v1``, ``OrderHistoryImported.v1``). No inbox: each
event's write is idempotent by itself (see :mod:`recommendation.service`). An event that can never apply (not a
CloudEvent, invalid data) comes back after 1 s, so it reaches the dead-letter queue in seconds.

The job is driven by the table's stream (new baskets only, gathered for a few seconds) and hourly by a schedule (the
popular and trending windows move with the days); ``ReservedConcurrentExecutions: 1`` makes it the one writer of the
lists and of the snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gears_shared.clock import normal_iso, utc_iso, utc_now
from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent, stream_images
from gears_shared.observability import logger, metrics, tracer
from recommendation import bootstrap, service
from recommendation import events as ev
from recommendation.store import BASKET, basket_from

Data = TypeVar("Data", bound=BaseModel)


def _apply(model: type[Data], use_case: Callable[[Data, Any], str]) -> Callable[[CloudEvent], None]:
    def handle(event: CloudEvent) -> None:
        outcome = use_case(model.model_validate(event.data), bootstrap.store())
        logger.info("event applied", extra={"type": event.type, "eventId": event.id, "outcome": outcome})

    return handle


def _stock(event: CloudEvent) -> None:
    data = ev.StockLevelChanged.model_validate(event.data)
    outcome = service.stock_changed(data, normal_iso(event.time), bootstrap.store())
    logger.info("event applied", extra={"type": event.type, "eventId": event.id, "outcome": outcome})


def retry_delay(error: Exception, receive_count: int) -> int | None:
    if isinstance(error, PoisonMessage | ValidationError | ValueError):
        return 1
    return default_retry_delay(error, receive_count)


def consumer() -> EventConsumer:
    product = _apply(ev.ProductData, service.product_changed)
    return EventConsumer(
        {
            ev.PRODUCT_CREATED: product,
            ev.PRODUCT_UPDATED: product,
            ev.PRODUCT_DELETED: _apply(ev.ProductDeleted, service.product_deleted),
            ev.STOCK_LEVEL_CHANGED: _stock,
            ev.ORDER_PAID: _apply(ev.OrderPaid, service.order_paid),
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


def new_baskets(event: dict[str, Any]) -> list[Any]:
    """The baskets a stream batch inserted (a schedule's event has none)."""
    out = []
    for record in event.get("Records") or []:
        name, _old, new = stream_images(record)
        if name == "INSERT" and new and new.get("entity") == BASKET:
            out.append(basket_from(new))
    return out


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def job_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The job: new baskets from the stream (or none, on the schedule) folded in, the changed lists written. A
    failure fails the whole batch (the stream retries it; the snapshot is written last, and folds a basket once)."""
    now = utc_now()
    at = utc_iso(now)
    summary = service.recompute(new_baskets(event), bootstrap.store(), bootstrap.snapshots(), today=now.date(), at=at)
    logger.info("recommendations recomputed", extra=summary)
    return summary
