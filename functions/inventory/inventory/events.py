"""The events the inventory publishes on its topic and the order and catalog events it consumes (CloudEvents 1.0).

Published (``source`` :data:`SOURCE`), see docs/events.md:

============================  ======================================================================================
type                          when
============================  ======================================================================================
``StockReserved.v1``          every line of an order was reserved; ``subject`` the order id
``StockReservationFailed.v1`` some line could not be reserved (nothing was); ``subject`` the order id
``StockLevelChanged.v1``      a stock item's figures changed (on hand, reserved, threshold); ``subject`` the SKU
``StockLow.v1``               a SKU went from above its threshold to at or under it; once per crossing
============================  ======================================================================================

The reservation events have ids derived from the order id (a retry, or a second stream record of the same
reservation, publishes the same id); the stock events from the stream record. ``StockLevelChanged.v1`` carries,
beyond the contract's fields, the item's ``version`` (it grows with every change of that SKU, so a consumer can drop
an older event arriving late) and ``changedAt``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gears_shared.events import ConsumedData, PublishedData

SOURCE = "gears.inventory"
STOCK_RESERVED = "StockReserved.v1"
STOCK_RESERVATION_FAILED = "StockReservationFailed.v1"
STOCK_LEVEL_CHANGED = "StockLevelChanged.v1"
STOCK_LOW = "StockLow.v1"

ORDER_PLACED = "OrderPlaced.v1"
ORDER_PAID = "OrderPaid.v1"
ORDER_CANCELLED = "OrderCancelled.v1"
PRODUCT_CREATED = "ProductCreated.v1"


class ReservedLine(PublishedData):
    sku: str
    productId: str | None
    quantity: int


class StockReserved(PublishedData):
    orderId: str
    lines: list[ReservedLine]


class UnavailableLine(PublishedData):
    sku: str
    requested: int
    available: int


class StockReservationFailed(PublishedData):
    orderId: str
    reason: str
    unavailable: list[UnavailableLine]


class StockLevelChanged(PublishedData):
    sku: str
    productId: str | None
    onHand: int
    reserved: int
    available: int
    threshold: int
    level: Literal["in_stock", "low", "out"]
    version: int
    changedAt: str | None


class StockLow(PublishedData):
    sku: str
    productId: str | None
    available: int
    threshold: int


SCHEMAS: dict[str, type[BaseModel]] = {
    STOCK_RESERVED: StockReserved,
    STOCK_RESERVATION_FAILED: StockReservationFailed,
    STOCK_LEVEL_CHANGED: StockLevelChanged,
    STOCK_LOW: StockLow,
}


# -- consumed: only the fields the inventory uses; everything else the publisher sends is ignored -------------------


class OrderLineData(ConsumedData):
    sku: str = Field(min_length=1, max_length=200)
    productId: str | None = Field(None, max_length=200)
    quantity: int = Field(gt=0, le=1_000_000, strict=True)


class OrderPlacedData(ConsumedData):
    orderId: str = Field(min_length=1, max_length=200)
    lines: list[OrderLineData] = Field(min_length=1, max_length=500)


class OrderPaidData(ConsumedData):
    orderId: str = Field(min_length=1, max_length=200)


class OrderCancelledData(ConsumedData):
    orderId: str = Field(min_length=1, max_length=200)
    paid: bool | None = None


class ProductCreatedData(ConsumedData):
    """The catalog's ``ProductCreated.v1`` (ecommerce.events.ProductCreated): the product and its SKU."""

    productId: str = Field(min_length=1, max_length=200)
    sku: str = Field(min_length=1, max_length=200)
