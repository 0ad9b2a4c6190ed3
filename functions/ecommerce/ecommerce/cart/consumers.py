"""The availability consumer (``EcommerceInventoryConsumerFunction``): each product's stock from inventory's events.

It reads ``StockLevelChanged.v1`` (InventoryTopic, filtered to that type) and keeps each product's availability
(``in_stock`` | ``low`` | ``out`` and the units available) on its item, where the catalog's reads show it and the
cart compares each line's quantity with it ("only 3 left"). Before inventory says anything about a product its
availability is ``unknown``.

No inbox: applying an event is idempotent by itself. The write is conditioned on the event being no older than the
level already stored (by its CloudEvents ``time``), so a late redelivery cannot turn "out" back into "in stock", and
a duplicate writes the same level again, which changes nothing (DynamoDB writes no stream record for it). An inbox
would add a conditional write and its completion per event to that one write. An event
about a product the catalog does not have is dropped (inventory may know SKUs before the catalog does; the next
stock change after the product appears sets it).
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit

from ecommerce import bootstrap
from ecommerce.cart.service import RecordAvailability, record_availability
from ecommerce.catalog.domain import Availability, StockLevel, product_id_for_sku, utc_iso
from ecommerce.events import STOCK_LEVEL_CHANGED, StockLevelChanged
from gears_shared.consumers import EventConsumer, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger, metrics


def _as_of(time: str) -> str:
    """The event's time in the one format the table compares (ISO 8601 UTC, milliseconds, ``Z``)."""
    return utc_iso(datetime.fromisoformat(time))


def availability_from(event: CloudEvent) -> RecordAvailability:
    """The product and availability a ``StockLevelChanged.v1`` event tells of."""
    data = StockLevelChanged.model_validate(event.data)
    product_id = data.productId or product_id_for_sku(data.sku)
    return RecordAvailability(
        product_id, Availability(StockLevel(data.level), max(0, data.available), _as_of(event.time))
    )


def on_stock_level_changed(event: CloudEvent) -> None:
    cmd = availability_from(event)
    stored = record_availability(cmd, bootstrap.availability_store())
    metrics.add_metric(name="AvailabilityUpdated" if stored else "AvailabilitySkipped", unit=MetricUnit.Count, value=1)
    if not stored:
        logger.info("availability not applied: unknown product or older event", extra={"productId": cmd.product_id})


def inventory_consumer() -> EventConsumer:
    """The availability consumer, of the ports as they are (see :func:`gears_shared.consumers.sqs_handler`)."""
    return EventConsumer({STOCK_LEVEL_CHANGED: on_stock_level_changed}, inbox=None, logger=logger)


inventory_handler = sqs_handler(inventory_consumer)
