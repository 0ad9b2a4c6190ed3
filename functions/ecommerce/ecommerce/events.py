"""The events the catalog publishes on the e-commerce topic (CloudEvents 1.0, ``data`` as below).

=====================  =============================================================================================
type                   when
=====================  =============================================================================================
``ProductCreated.v1``  a product was added (draft or active); ``data`` is the product
``ProductUpdated.v1``  a product changed (details, price, status, a restore from archived); ``data`` is the product
                       now, ``changedFields`` and the ``previous`` values of those fields
``ProductDeleted.v1``  a product was archived (``archived: true``, the DELETE route) or its item was removed
``OrderPlaced.v1``     a checkout was accepted; ``data`` is the order (docs/events.md), ``subject`` the order id
``CartStarted.v1``     a customer's cart was created (its first line, or the first after a checkout emptied it):
                       ``userId, startedAt`` (analytics' cart-to-order conversion), ``subject`` the user id
=====================  =============================================================================================

Product events also carry ``categoryPath``: the category ids from the top-level category down to the product's own,
as the catalog's tree has them when the event is published (search filters a category with its subcategories by it;
analytics counts sales by the top-level one).

A change of a product's availability alone (inventory's ``StockLevelChanged.v1``, consumed here) publishes nothing;
nor does a discount's use given back when orders' ``OrderCancelled.v1`` (consumed here) says an order was cancelled
unpaid.

Every envelope has ``source`` :data:`SOURCE`, ``subject`` the product id, ``time`` the change's time in the table
stream, an ``id`` derived from the stream record (a retried batch publishes the same ids, so consumers dedupe), and
the ``correlationid`` of the request that made the change. ``OrderPlaced.v1``'s id derives from the order id instead:
an order is placed once, whatever the stream does. ``version`` orders changes of one product: a consumer
ignores an event older than what it has.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from gears_shared.events import ConsumedData, PublishedData

SOURCE = "gears.ecommerce"
PRODUCT_CREATED = "ProductCreated.v1"
PRODUCT_UPDATED = "ProductUpdated.v1"
PRODUCT_DELETED = "ProductDeleted.v1"
ORDER_PLACED = "OrderPlaced.v1"
CART_STARTED = "CartStarted.v1"
STOCK_LEVEL_CHANGED = "StockLevelChanged.v1"
ORDER_CANCELLED = "OrderCancelled.v1"


class PriceData(PublishedData):
    amount: int
    currency: str


class ProductData(PublishedData):
    productId: str
    sku: str
    title: str
    description: str
    price: PriceData
    category: str
    categoryPath: list[str]
    brand: str | None
    images: list[str]
    attributes: dict[str, str]
    status: Literal["draft", "active", "archived"]
    createdAt: str
    updatedAt: str
    version: int


class ProductCreated(ProductData):
    pass


class ProductUpdated(ProductData):
    changedFields: list[str]
    previous: dict[str, Any]


class ProductDeleted(PublishedData):
    productId: str
    sku: str
    category: str
    categoryPath: list[str]
    archived: bool
    version: int
    deletedAt: str


class OrderLineData(PublishedData):
    productId: str
    sku: str
    title: str
    quantity: int
    unitPrice: PriceData
    lineTotal: PriceData


class ShippingAddressData(PublishedData):
    name: str
    line1: str
    line2: str | None
    city: str
    postalCode: str
    country: str


class DiscountData(PublishedData):
    code: str
    amount: PriceData


class OrderPlaced(PublishedData):
    """``total = subtotal - discount.amount + shipping``; ``discount`` is null when no code was used."""

    orderId: str
    userId: str
    lines: list[OrderLineData]
    subtotal: PriceData
    shipping: PriceData
    discount: DiscountData | None
    total: PriceData
    shippingAddress: ShippingAddressData
    paymentMethod: str
    placedAt: str


class CartStarted(PublishedData):
    userId: str
    startedAt: str


SCHEMAS: dict[str, type[BaseModel]] = {
    PRODUCT_CREATED: ProductCreated,
    PRODUCT_UPDATED: ProductUpdated,
    PRODUCT_DELETED: ProductDeleted,
    ORDER_PLACED: OrderPlaced,
    CART_STARTED: CartStarted,
}


# -- consumed ----------------------------------------------------------------------------------------------------------
class StockLevelChanged(ConsumedData):
    """Inventory's ``StockLevelChanged.v1`` as this service reads it (docs/events.md): fields it does not use are
    allowed, so inventory may add some. ``productId`` may be absent: the SKU names the product just as well."""

    sku: str
    productId: str | None = None
    onHand: int | None = None
    reserved: int | None = None
    available: int
    threshold: int | None = None
    level: Literal["in_stock", "low", "out"]


class OrderCancelled(ConsumedData):
    """Orders' ``OrderCancelled.v1`` as this service reads it: which order, and whether it had been paid."""

    orderId: str
    paid: bool
