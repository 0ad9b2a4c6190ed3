"""The events analytics reads (CloudEvents 1.0; only the fields it uses, the rest ignored). It publishes none.

Consumed on ``AnalyticsEventsQueue``: ``ProductCreated.v1``, ``ProductUpdated.v1``, ``ProductDeleted.v1``,
``CartStarted.v1``, ``OrderPlaced.v1`` (e-commerce); ``OrderPaid.v1`` (the sale), ``OrderHistoryImported.v1``
(orders); ``PaymentRefunded.v1`` (payment).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from gears_shared.events import ConsumedData

PRODUCT_CREATED = "ProductCreated.v1"
PRODUCT_UPDATED = "ProductUpdated.v1"
PRODUCT_DELETED = "ProductDeleted.v1"
CART_STARTED = "CartStarted.v1"
ORDER_PLACED = "OrderPlaced.v1"
ORDER_PAID = "OrderPaid.v1"
ORDER_HISTORY_IMPORTED = "OrderHistoryImported.v1"
PAYMENT_REFUNDED = "PaymentRefunded.v1"

Id = Field(min_length=1, max_length=128)


class MoneyData(ConsumedData):
    amount: int = Field(ge=0)
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


def _money(value: Any) -> Any:
    """A bare integer (minor units) is read as GBP, the shop's currency."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"amount": value, "currency": "GBP"}
    return value


Amount = Annotated[MoneyData, BeforeValidator(_money)]


class ProductData(ConsumedData):
    productId: str = Id
    sku: str = ""
    title: str = ""
    category: str | None = None
    categoryPath: list[str] = Field(default_factory=list)
    version: int = 0

    @property
    def top_category(self) -> str | None:
        return self.categoryPath[0] if self.categoryPath else self.category


class CartStarted(ConsumedData):
    userId: str = Id
    startedAt: str


class OrderPlaced(ConsumedData):
    orderId: str = Id
    placedAt: str


class Line(ConsumedData):
    productId: str = Id
    sku: str = ""
    title: str = ""
    quantity: int = Field(ge=0)
    lineTotal: Amount | None = None
    unitPrice: Amount | None = None

    @property
    def total(self) -> int:
        if self.lineTotal is not None:
            return self.lineTotal.amount
        return self.quantity * (self.unitPrice.amount if self.unitPrice else 0)


class OrderPaid(ConsumedData):
    orderId: str = Id
    lines: list[Line] = Field(max_length=500)
    total: Amount
    country: str | None = None
    placedAt: str | None = None
    paidAt: str | None = None


class PaymentRefunded(ConsumedData):
    orderId: str = Id
    refundId: str = Id
    amount: Amount


class HistoryOrder(ConsumedData):
    orderId: str = Id
    placedAt: str
    country: str = ""
    kind: Literal["order", "return"] = "order"
    lines: list[Line] = Field(max_length=500)
    total: Amount


class OrderHistoryImported(ConsumedData):
    batchId: str = Id
    orders: list[HistoryOrder] = Field(max_length=50)
