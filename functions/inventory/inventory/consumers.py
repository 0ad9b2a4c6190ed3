"""The events the inventory acts on: the saga's (``InventoryOrderConsumerFunction``) and the catalog's
(``InventoryCatalogConsumerFunction``), each from its own queue.

- ``OrderPlaced.v1`` (e-commerce topic): reserve every line in one TransactWrite, or record why not; the stream
  publisher turns the reservation record into ``StockReserved.v1`` or ``StockReservationFailed.v1``.
- ``OrderPaid.v1`` (orders topic): commit the reservation (the units leave the shelf).
- ``OrderCancelled.v1`` (orders topic): release the reservation, or put the units back if the order was paid.
- ``ProductCreated.v1`` (e-commerce topic, the catalog queue): open the new product's stock record (nothing on
  hand, linked to the product) so it can be restocked at once; a record that exists is kept, and linked to the
  product if it was not.

Each saga event id is applied once (the inbox in the inventory table); the writes are conditioned on the reservation's
status or the item's version besides, so a redelivery after a crash changes nothing twice. A payload that is not
what the contract says (a SKU the inventory cannot hold included) fails its record every time, and the queue parks
it in its dead-letter queue.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from gears_shared.consumers import EventConsumer, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger, metrics
from inventory import bootstrap, service
from inventory.domain import OrderLine
from inventory.events import (
    ORDER_CANCELLED,
    ORDER_PAID,
    ORDER_PLACED,
    PRODUCT_CREATED,
    OrderCancelledData,
    OrderPaidData,
    OrderPlacedData,
    ProductCreatedData,
)


def on_order_placed(event: CloudEvent) -> None:
    data = OrderPlacedData.model_validate(event.data)
    lines = tuple(OrderLine(line.sku, line.quantity, line.productId) for line in data.lines)
    cmd = service.ReserveForOrder(data.orderId, lines, event.correlationid)
    reservation = service.reserve_for_order(cmd, bootstrap.stock_repository())
    metrics.add_metric(name=f"Reservation{reservation.status.value.title()}", unit=MetricUnit.Count, value=1)
    logger.info("order placed", extra={"orderId": data.orderId, "reservation": reservation.status.value})


def on_order_paid(event: CloudEvent) -> None:
    data = OrderPaidData.model_validate(event.data)
    reservation = service.commit_order(
        service.CommitOrder(data.orderId, event.correlationid), bootstrap.stock_repository()
    )
    status = reservation.status.value if reservation else None
    if status != "COMMITTED":
        logger.warning(
            "order paid without a reservation to commit", extra={"orderId": data.orderId, "reservation": status}
        )
    else:
        logger.info("order paid", extra={"orderId": data.orderId, "reservation": status})


def on_order_cancelled(event: CloudEvent) -> None:
    data = OrderCancelledData.model_validate(event.data)
    reservation = service.cancel_order(
        service.CancelOrder(data.orderId, event.correlationid), bootstrap.stock_repository()
    )
    logger.info("order cancelled", extra={"orderId": data.orderId, "reservation": reservation.status.value})


def on_product_created(event: CloudEvent) -> None:
    data = ProductCreatedData.model_validate(event.data)
    cmd = service.OpenStock(data.sku, data.productId, event.correlationid)
    opened = service.open_stock(cmd, bootstrap.stock_repository())
    outcome = "unchanged" if opened is None else ("opened" if opened.version == 1 else "linked")
    logger.info("product created", extra={"productId": data.productId, "sku": data.sku, "stockRecord": outcome})


def consumer() -> EventConsumer:
    """The events consumer, of the ports as they are (see :func:`gears_shared.consumers.sqs_handler`)."""
    return EventConsumer(
        {
            ORDER_PLACED: on_order_placed,
            ORDER_PAID: on_order_paid,
            ORDER_CANCELLED: on_order_cancelled,
        },
        inbox=bootstrap.inbox(),
        logger=logger,
    )


def catalog_consumer() -> EventConsumer:
    """The catalog's events (``InventoryCatalogConsumerFunction``, a queue of their own so that a burst of new
    products never waits in front of the saga). No inbox: opening a record is idempotent by itself (a versioned,
    conditional write that a repeat finds nothing to do for), so a duplicate costs one read, not three writes."""
    return EventConsumer({PRODUCT_CREATED: on_product_created}, inbox=None, logger=logger)


handler = sqs_handler(consumer)
catalog_handler = sqs_handler(catalog_consumer)
