"""The events the recommendation service reads (CloudEvents 1.0; ``data`` as docs/events.md says). It publishes none.

Consumed on ``RecommendationEventsQueue``: ``ProductCreated.v1``, ``ProductUpdated.v1``, ``ProductDeleted.v1``
(e-commerce: what may be recommended, its title, price, image and category path); ``StockLevelChanged.v1``
(inventory: only products in stock are recommended); ``OrderPaid.v1`` (orders: a customer's paid basket) and
``OrderHistoryImported.v1`` (orders: past orders brought in as history; returns are left out). Only the fields
used are read; the rest is ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gears_shared.events import ConsumedData

PRODUCT_CREATED = "ProductCreated.v1"
PRODUCT_UPDATED = "ProductUpdated.v1"
PRODUCT_DELETED = "ProductDeleted.v1"
STOCK_LEVEL_CHANGED = "StockLevelChanged.v1"
ORDER_PAID = "OrderPaid.v1"
ORDER_HISTORY_IMPORTED = "OrderHistoryImported.v1"

Id = Field(min_length=1, max_length=128)


class MoneyData(ConsumedData):
    amount: int
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


class ProductData(ConsumedData):
    productId: str = Id
    sku: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=500)
    price: MoneyData
    category: str = Field(default="", max_length=128)
    categoryPath: list[str] = Field(default_factory=list, max_length=10)
    images: list[str] = Field(default_factory=list)
    status: Literal["draft", "active", "archived"]
    version: int = Field(ge=0)


class ProductDeleted(ConsumedData):
    productId: str = Id
    version: int = Field(ge=0)


class StockLevelChanged(ConsumedData):
    productId: str | None = None
    level: Literal["in_stock", "low", "out"]


class LineData(ConsumedData):
    productId: str = Id
    quantity: int = 1


class OrderPaid(ConsumedData):
    orderId: str = Id
    userId: str = Id
    lines: list[LineData] = Field(max_length=500)
    paidAt: str = Field(min_length=10, max_length=40)


class HistoryOrder(ConsumedData):
    orderId: str = Id
    customerId: str = Field(default="", max_length=128)
    placedAt: str = Field(min_length=10, max_length=40)
    kind: Literal["order", "return"]
    lines: list[LineData] = Field(max_length=500)


class OrderHistoryImported(ConsumedData):
    batchId: str = Id
    orders: list[HistoryOrder] = Field(max_length=50)
