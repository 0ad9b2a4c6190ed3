"""The e-commerce service's SQS consumers: product availability from inventory's events.

``EcommerceInventoryConsumerFunction`` reads ``StockLevelChanged.v1`` (InventoryTopic, filtered to that type) and
keeps each product's availability (``in_stock`` | ``low`` | ``out`` and the units available) on its item, where
``GET /products`` and ``GET /products/{productId}`` read it at no extra cost. Before inventory says anything about a
product its availability is ``unknown``.

Each event id is applied once (a :class:`gears_shared.consumers.DynamoInbox` in the e-commerce table), and an event
older than the level already stored (by its CloudEvents ``time``) changes nothing, so a late redelivery cannot
turn "out" back into "in stock". An event about a product the catalog does not have is dropped (inventory may know
SKUs before the catalog does; the next stock change after the product appears sets it).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecommerce.domain import Availability, StockLevel, product_id_for_sku, utc_iso
from ecommerce.events import STOCK_LEVEL_CHANGED, StockLevelChanged
from ecommerce.shopping_store import DynamoAvailability
from gears_shared.consumers import DynamoInbox, EventConsumer
from gears_shared.events import CloudEvent
from gears_shared.observability import setup

INBOX_CONSUMER = "ecommerce-availability"

logger, tracer, metrics = setup()


def _as_of(time: str) -> str:
    """The event's time in the one format the table compares (ISO 8601 UTC, milliseconds, ``Z``)."""
    return utc_iso(datetime.fromisoformat(time))


def availability_from(event: CloudEvent) -> tuple[str, Availability]:
    """The product and availability a ``StockLevelChanged.v1`` event tells of."""
    data = StockLevelChanged.model_validate(event.data)
    product_id = data.productId or product_id_for_sku(data.sku)
    return product_id, Availability(StockLevel(data.level), max(0, data.available), _as_of(event.time))


class AvailabilityHandler:
    def __init__(self, store: DynamoAvailability) -> None:
        self.store = store

    def __call__(self, event: CloudEvent) -> None:
        product_id, availability = availability_from(event)
        stored = self.store.apply(product_id, availability)
        metrics.add_metric(
            name="AvailabilityUpdated" if stored else "AvailabilitySkipped", unit=MetricUnit.Count, value=1
        )
        if not stored:
            logger.info("availability not applied: unknown product or older event", extra={"productId": product_id})


# Wired once per container.
TABLE_NAME = os.environ.get("TABLE_NAME", "")
_client = boto3.client("dynamodb")
inventory_consumer = EventConsumer(
    {STOCK_LEVEL_CHANGED: AvailabilityHandler(DynamoAvailability(TABLE_NAME, _client))},
    inbox=DynamoInbox(TABLE_NAME, INBOX_CONSUMER, client=_client),
    logger=logger,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def inventory_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return inventory_consumer.handle(event, context)
