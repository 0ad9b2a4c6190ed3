"""``InventoryOrderConsumerFunction``: the order events the inventory acts on, from its queue.

- ``OrderPlaced.v1`` (e-commerce topic): reserve every line in one TransactWrite, or record why not; the stream
  publisher turns the reservation record into ``StockReserved.v1`` or ``StockReservationFailed.v1``.
- ``OrderPaid.v1`` (orders topic): commit the reservation (the units leave the shelf).
- ``OrderCancelled.v1`` (orders topic): release the reservation, or put the units back if the order was paid.

Each event id is applied once (the inbox in the inventory table); the writes are conditioned on the reservation's
status besides, so a redelivery after a crash changes nothing twice. A payload that is not what the contract says
fails its record every time, and the queue parks it in its dead-letter queue.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from gears_shared.consumers import DynamoInbox, EventConsumer
from gears_shared.events import CloudEvent
from gears_shared.observability import setup
from inventory import service
from inventory.domain import OrderLine
from inventory.events import (
    ORDER_CANCELLED,
    ORDER_PAID,
    ORDER_PLACED,
    OrderCancelledData,
    OrderPaidData,
    OrderPlacedData,
)
from inventory.store import DynamoStockRepository

logger, tracer, metrics = setup()

# Wired once per container: tests reach ``repo`` and ``consumer`` to hand in others.
TABLE_NAME = os.environ.get("TABLE_NAME", "")
_client = boto3.client("dynamodb")
repo = DynamoStockRepository(TABLE_NAME, _client)


def on_order_placed(event: CloudEvent) -> None:
    data = OrderPlacedData.model_validate(event.data)
    lines = [OrderLine(line.sku, line.quantity, line.productId) for line in data.lines]
    reservation = service.reserve_for_order(data.orderId, lines, repo=repo, correlation_id=event.correlationid)
    metrics.add_metric(name=f"Reservation{reservation.status.value.title()}", unit=MetricUnit.Count, value=1)
    logger.info("order placed", extra={"orderId": data.orderId, "reservation": reservation.status.value})


def on_order_paid(event: CloudEvent) -> None:
    data = OrderPaidData.model_validate(event.data)
    reservation = service.commit_order(data.orderId, repo=repo, correlation_id=event.correlationid)
    status = reservation.status.value if reservation else None
    if status != "COMMITTED":
        logger.warning(
            "order paid without a reservation to commit", extra={"orderId": data.orderId, "reservation": status}
        )
    else:
        logger.info("order paid", extra={"orderId": data.orderId, "reservation": status})


def on_order_cancelled(event: CloudEvent) -> None:
    data = OrderCancelledData.model_validate(event.data)
    reservation = service.cancel_order(data.orderId, repo=repo, correlation_id=event.correlationid)
    logger.info("order cancelled", extra={"orderId": data.orderId, "reservation": reservation.status.value})


consumer = EventConsumer(
    {ORDER_PLACED: on_order_placed, ORDER_PAID: on_order_paid, ORDER_CANCELLED: on_order_cancelled},
    inbox=DynamoInbox(TABLE_NAME, consumer="inventory-orders", client=_client),
    logger=logger,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.handle(event, context)
