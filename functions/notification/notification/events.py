"""The events notification consumes and publishes (CloudEvents 1.0; ``data`` as below, per docs/events.md).

Published on the notification topic (source :data:`SOURCE`) from the delivery log's stream, one per message and
state: ``NotificationSent.v1``, ``NotificationDelivered.v1`` (email only: SES's Delivery feedback),
``NotificationFailed.v1``, ``NotificationSuppressed.v1``, each with notificationId, userId, channel, kind,
campaignId, sourceEventId, at, reason. Ids derive from the notification and its state.

Consumed (only the fields read; the rest ignored): e-commerce's ``OrderPlaced.v1``; orders' ``OrderPaid.v1``,
``OrderShipped.v1``, ``OrderDelivered.v1``, ``OrderCancelled.v1``; payment's ``PaymentFailed.v1``,
``PaymentRefunded.v1``; inventory's ``StockLow.v1``; auth's ``UserRegistered.v1``, ``UserProfileUpdated.v1``,
``UserRolesChanged.v1``; CRM's ``SupportReplied.v1`` and ``CampaignBatchReady.v1``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from gears_shared.events import ConsumedData, PublishedData

SOURCE = "gears.notification"

ORDER_PLACED = "OrderPlaced.v1"
ORDER_PAID = "OrderPaid.v1"
ORDER_SHIPPED = "OrderShipped.v1"
ORDER_DELIVERED = "OrderDelivered.v1"
ORDER_CANCELLED = "OrderCancelled.v1"
PAYMENT_FAILED = "PaymentFailed.v1"
PAYMENT_REFUNDED = "PaymentRefunded.v1"
STOCK_LOW = "StockLow.v1"
USER_REGISTERED = "UserRegistered.v1"
USER_PROFILE_UPDATED = "UserProfileUpdated.v1"
USER_ROLES_CHANGED = "UserRolesChanged.v1"
SUPPORT_REPLIED = "SupportReplied.v1"
CAMPAIGN_BATCH_READY = "CampaignBatchReady.v1"

NOTIFICATION_SENT = "NotificationSent.v1"
NOTIFICATION_DELIVERED = "NotificationDelivered.v1"
NOTIFICATION_FAILED = "NotificationFailed.v1"
NOTIFICATION_SUPPRESSED = "NotificationSuppressed.v1"

Id = Field(min_length=1, max_length=128)
MAX_BATCH = 50


class MoneyData(ConsumedData):
    amount: int
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


def _money(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"amount": value, "currency": "GBP"}
    return value


Amount = Annotated[MoneyData, BeforeValidator(_money)]


class LineData(ConsumedData):
    title: str = ""
    sku: str = ""
    quantity: int = 1
    lineTotal: Amount | None = None


class DiscountData(ConsumedData):
    code: str
    amount: Amount


# -- e-commerce, orders, payment -----------------------------------------------------------------------------------
class OrderPlaced(ConsumedData):
    orderId: str = Id
    userId: str = Id
    lines: list[LineData] = Field(default_factory=list)
    subtotal: Amount | None = None
    shipping: Amount | None = None
    total: Amount
    discount: DiscountData | None = None
    placedAt: str = ""


class OrderPaid(ConsumedData):
    orderId: str = Id
    userId: str = Id
    total: Amount | None = None


class OrderShipped(ConsumedData):
    orderId: str = Id
    userId: str = Id
    carrier: str = ""
    trackingNumber: str = ""
    shippedAt: str = ""


class OrderDelivered(ConsumedData):
    orderId: str = Id
    userId: str = Id
    deliveredAt: str = ""


class OrderCancelled(ConsumedData):
    orderId: str = Id
    userId: str = Id
    reason: str = ""
    paid: bool = False


class PaymentFailed(ConsumedData):
    orderId: str = Id
    userId: str | None = None
    reason: str | None = None
    declineCode: str | None = None


class PaymentRefunded(ConsumedData):
    orderId: str = Id
    userId: str | None = None
    refundId: str = ""
    amount: Amount
    full: bool = False


class StockLow(ConsumedData):
    sku: str = Id
    productId: str | None = None
    available: int
    threshold: int


# -- auth ----------------------------------------------------------------------------------------------------------
class UserRegistered(ConsumedData):
    userId: str = Id
    email: str = Field(min_length=3, max_length=320)
    name: str | None = None
    registeredAt: str = ""


class UserProfileUpdated(ConsumedData):
    userId: str = Id
    email: str = Field(min_length=3, max_length=320)
    name: str | None = None
    phone: str | None = None
    phoneVerified: bool = False
    locale: str | None = None
    updatedAt: str


class UserRolesChanged(ConsumedData):
    userId: str = Id
    email: str | None = None
    roles: list[str] = Field(default_factory=list)
    changedAt: str
    changeId: str = ""


# -- crm -----------------------------------------------------------------------------------------------------------
class SupportReplied(ConsumedData):
    replyId: str = Id
    userId: str = Id
    ticketId: str | None = None
    subject: str = Field(default="", max_length=500)
    body: str = Field(max_length=20_000)
    repliedAt: str = ""
    by: str | None = None


class CampaignBatchReady(ConsumedData):
    campaignId: str = Id
    batchId: str = Id
    name: str = ""
    subject: str = Field(min_length=1, max_length=1_000)
    body: str = Field(min_length=1, max_length=20_000)
    discountCode: str | None = None
    channels: list[Literal["email", "sms", "push"]] = Field(min_length=1)
    recipients: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(max_length=MAX_BATCH)


# -- published -----------------------------------------------------------------------------------------------------
class NotificationStateData(PublishedData):
    notificationId: str
    userId: str
    channel: Literal["email", "sms", "push"]
    kind: Literal["orderUpdates", "support", "marketing", "alerts"]
    campaignId: str | None
    sourceEventId: str
    at: str
    reason: str | None


PUBLISHED: dict[str, type[BaseModel]] = {
    NOTIFICATION_SENT: NotificationStateData,
    NOTIFICATION_DELIVERED: NotificationStateData,
    NOTIFICATION_FAILED: NotificationStateData,
    NOTIFICATION_SUPPRESSED: NotificationStateData,
}
