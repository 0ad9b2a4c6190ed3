"""The events search reads (CloudEvents 1.0; only the fields it uses, the rest ignored). It publishes none.

Consumed on ``SearchEventsQueue``: ``ProductCreated.v1``, ``ProductUpdated.v1``, ``ProductDeleted.v1`` (e-commerce:
the product, with ``categoryPath`` from the top-level category down to its own) and ``StockLevelChanged.v1``
(inventory: the level, its newest by the envelope's ``time``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gears_shared.events import ConsumedData

PRODUCT_CREATED = "ProductCreated.v1"
PRODUCT_UPDATED = "ProductUpdated.v1"
PRODUCT_DELETED = "ProductDeleted.v1"
STOCK_LEVEL_CHANGED = "StockLevelChanged.v1"

Id = Field(min_length=1, max_length=128)


class Price(ConsumedData):
    amount: int = Field(ge=0)
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


class ProductChanged(ConsumedData):
    """``ProductCreated.v1`` and ``ProductUpdated.v1``: the product as it now is."""

    productId: str = Id
    sku: str = Id
    title: str = Field(max_length=1000)
    description: str = Field(default="", max_length=20000)
    price: Price
    category: str = Id
    categoryPath: list[str] = Field(default_factory=list, max_length=20)
    images: list[str] = Field(default_factory=list)
    status: Literal["draft", "active", "archived"]
    createdAt: str
    version: int = Field(ge=0)


class ProductDeleted(ConsumedData):
    productId: str = Id
    sku: str = Id
    version: int = Field(ge=0)


class StockLevelChanged(ConsumedData):
    sku: str = Id
    productId: str | None = None
    level: Literal["in_stock", "low", "out"]
