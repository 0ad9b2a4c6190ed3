"""Search's event-driven functions.

- ``SearchEventsConsumerFunction`` (``handler``, on ``SearchEventsQueue``): product events (e-commerce) and stock
  levels (inventory) into the search table. No inbox: each event is one conditional write, "newest wins" (the
  product's version, the level's event time), so a repeat or a late event changes nothing; an inbox would add two
  writes to that one.
- ``SearchIndexerFunction`` (``indexer_handler``, on the table's stream, reserved concurrency 1): the products a
  batch changed are deleted and added again on the newest snapshot, which is published as the next one (the whole
  index is built from the table when there is none). A failed batch raises: Lambda retries it, in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent, stream_images
from gears_shared.observability import logger, metrics, tracer
from search import bootstrap, service
from search import events as ev

Data = TypeVar("Data", bound=BaseModel)


def _product(model: type[Data], use_case: Callable[[Data, service.SearchStore], bool]) -> Callable[[CloudEvent], None]:
    def handle(event: CloudEvent) -> None:
        applied = use_case(model.model_validate(event.data), bootstrap.store())
        logger.info("event applied" if applied else "older event skipped", extra={"type": event.type})

    return handle


def _stock(event: CloudEvent) -> None:
    data = ev.StockLevelChanged.model_validate(event.data)
    applied = service.stock_level_changed(data, event.time, bootstrap.store())
    logger.info("level applied" if applied else "level skipped (older, or product unknown)", extra={"sku": data.sku})


def retry_delay(error: Exception, receive_count: int) -> int | None:
    if isinstance(error, PoisonMessage | ValidationError):
        return 1  # never applies: to the dead-letter queue within seconds
    return default_retry_delay(error, receive_count)


def consumer() -> EventConsumer:
    changed = _product(ev.ProductChanged, service.product_changed)
    return EventConsumer(
        {
            ev.PRODUCT_CREATED: changed,
            ev.PRODUCT_UPDATED: changed,
            ev.PRODUCT_DELETED: _product(ev.ProductDeleted, service.product_deleted),
            ev.STOCK_LEVEL_CHANGED: _stock,
        },
        inbox=None,
        logger=logger,
        retry_delay=retry_delay,
        queue_url=os.environ.get("QUEUE_URL", ""),
        sqs=bootstrap.sqs(),
    )


handler = sqs_handler(consumer)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def indexer_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Index a stream batch of the search table; the summary of what was published."""
    changes = service.changes_from_stream(stream_images(record) for record in event.get("Records") or [])
    summary = bootstrap.indexer().apply(changes)
    logger.info("index updated", extra=summary)
    return summary
