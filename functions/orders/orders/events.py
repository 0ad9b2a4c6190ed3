"""The events order management consumes and publishes (CloudEvents 1.0; ``data`` as below, per docs/events.md).

Published on the orders topic (source :data:`SOURCE`), one per status change, from the table's stream:

======================  ============================================================================================
type                    data
======================  ============================================================================================
``OrderConfirmed.v1``   orderId, userId, total, paymentMethod (payment charges it)
``OrderPaid.v1``        orderId, lines (inventory commits the reservation); also userId, subtotal, discount,
                        shipping, total, country (shipping address), placedAt, paidAt (sales figures)
``OrderCancelled.v1``   orderId, userId, reason, lines, previousStatus, paid (inventory releases or restocks; payment
                        voids or refunds)
``OrderShipped.v1``     orderId, carrier, trackingNumber; also userId, shippedAt
``OrderDelivered.v1``   orderId, deliveredAt; also userId, carrier, trackingNumber
======================  ============================================================================================

``OrderHistoryImported.v1`` (batchId, importedAt, orders) announces past orders and returns imported once each
(:mod:`orders.history`): published from the stream record of the batch's item, its id derived from the batch id.

Every envelope's ``subject`` is the order id and its ``id`` derives from the transition (order id + its position in
the history), so a retried stream record, or the same change seen twice, publishes the same id.

Consumed: ``OrderPlaced.v1`` (e-commerce), ``StockReserved.v1`` and ``StockReservationFailed.v1`` (inventory),
``PaymentApprovalRequested.v1``, ``PaymentSucceeded.v1``, ``PaymentFailed.v1``, ``PaymentRefunded.v1``,
``PaymentVoided.v1`` (payment). Consumed schemas ignore fields they do not know (a publisher may add fields; it never
renames or drops one). AWAITING_PAYMENT publishes nothing: the payment service announced it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from gears_shared.events import ConsumedData, PublishedData

SOURCE = "gears.orders"

ORDER_PLACED = "OrderPlaced.v1"
STOCK_RESERVED = "StockReserved.v1"
STOCK_RESERVATION_FAILED = "StockReservationFailed.v1"
PAYMENT_APPROVAL_REQUESTED = "PaymentApprovalRequested.v1"
PAYMENT_SUCCEEDED = "PaymentSucceeded.v1"
PAYMENT_FAILED = "PaymentFailed.v1"
PAYMENT_REFUNDED = "PaymentRefunded.v1"
PAYMENT_VOIDED = "PaymentVoided.v1"

ORDER_CONFIRMED = "OrderConfirmed.v1"
ORDER_PAID = "OrderPaid.v1"
ORDER_CANCELLED = "OrderCancelled.v1"
ORDER_SHIPPED = "OrderShipped.v1"
ORDER_DELIVERED = "OrderDelivered.v1"
ORDER_HISTORY_IMPORTED = "OrderHistoryImported.v1"

Id = Field(min_length=1, max_length=128)


# -- shared shapes -----------------------------------------------------------------------------------------------


class MoneyData(ConsumedData):
    amount: int
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class LineData(ConsumedData):
    productId: str
    sku: str
    title: str = ""
    quantity: int = Field(gt=0)
    unitPrice: MoneyData
    lineTotal: MoneyData


def _money(value: Any) -> Any:
    """Money as ``{amount, currency}``; a bare integer (minor units) is read as GBP, the shop's currency."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"amount": value, "currency": "GBP"}
    return value


Amount = Annotated[MoneyData, BeforeValidator(_money)]


# -- consumed ----------------------------------------------------------------------------------------------------
class DiscountData(ConsumedData):
    code: str = Field(min_length=1, max_length=64)
    amount: MoneyData


class OrderPlaced(ConsumedData):
    orderId: str = Id
    userId: str = Id
    lines: list[LineData] = Field(min_length=1)
    subtotal: MoneyData
    shipping: MoneyData
    discount: DiscountData | None = None  # the code checkout applied (absent before discount codes existed)
    total: MoneyData
    shippingAddress: dict[str, Any] = Field(default_factory=dict)
    paymentMethod: str = ""
    placedAt: str


class StockReserved(ConsumedData):
    orderId: str = Id


class StockReservationFailed(ConsumedData):
    orderId: str = Id
    reason: str = "out_of_stock"
    unavailable: list[dict[str, Any]] = Field(default_factory=list)


class PaymentApprovalRequested(ConsumedData):
    orderId: str = Id
    paymentIntentId: str = Id  # the provider's id of the payment (PayPal's order id)
    # Shown to the buyer as a link: a web address, never a javascript: or data: one.
    approvalUrl: str = Field(min_length=1, max_length=2048, pattern=r"^https?://")
    expiresAt: AwareDatetime


class PaymentSucceeded(ConsumedData):
    orderId: str = Id
    paymentIntentId: str = ""
    amount: Amount


class PaymentFailed(ConsumedData):
    orderId: str = Id
    reason: str | None = None
    declineCode: str | None = None


class PaymentRefunded(ConsumedData):
    orderId: str = Id
    refundId: str = Id
    amount: Amount
    refundedTotal: Amount | None = None
    full: bool = False


class PaymentVoided(ConsumedData):
    orderId: str = Id
    paymentIntentId: str | None = None


# -- published ---------------------------------------------------------------------------------------------------
class OrderConfirmed(PublishedData):
    orderId: str
    userId: str
    total: MoneyData
    paymentMethod: str


class OrderPaid(PublishedData):
    orderId: str
    userId: str
    lines: list[LineData]
    subtotal: MoneyData
    discount: dict[str, Any] | None
    shipping: MoneyData
    total: MoneyData
    country: str
    placedAt: str
    paidAt: str


class OrderCancelled(PublishedData):
    orderId: str
    userId: str
    reason: str
    lines: list[LineData]
    previousStatus: str
    paid: bool


class OrderShipped(PublishedData):
    orderId: str
    userId: str
    carrier: str
    trackingNumber: str
    shippedAt: str


class OrderDelivered(PublishedData):
    orderId: str
    userId: str
    carrier: str | None
    trackingNumber: str | None
    deliveredAt: str


class HistoryLineData(PublishedData):
    productId: str
    sku: str
    title: str
    quantity: int = Field(gt=0)
    unitPrice: MoneyData


class HistoryOrderData(PublishedData):
    orderId: str
    customerId: str = Field(description="The shop's own customer reference (not a Gears user id); may be empty")
    placedAt: str
    country: str = Field(description="ISO 3166-1 alpha-2, or empty")
    kind: Literal["order", "return"] = Field(description="A return's lines are units given back; total refunded")
    lines: list[HistoryLineData] = Field(min_length=1)
    total: MoneyData


class OrderHistoryImported(PublishedData):
    batchId: str
    importedAt: str
    orders: list[HistoryOrderData] = Field(min_length=1, max_length=50)


PUBLISHED: dict[str, type[BaseModel]] = {
    ORDER_CONFIRMED: OrderConfirmed,
    ORDER_PAID: OrderPaid,
    ORDER_CANCELLED: OrderCancelled,
    ORDER_SHIPPED: OrderShipped,
    ORDER_DELIVERED: OrderDelivered,
    ORDER_HISTORY_IMPORTED: OrderHistoryImported,
}
