"""The events the CRM consumes and publishes (CloudEvents 1.0; ``data`` as below, per docs/events.md).

Published on the CRM topic (source :data:`SOURCE`), from the table's stream:

=========================  =========================================================================================
type                       data
=========================  =========================================================================================
``SupportReplied.v1``      replyId, userId, ticketId (null for a reply written on the customer's page), subject, body
                           (plain text), repliedAt, by (the staff member's user id). Notification sends it (support)
``CampaignCreated.v1``     campaignId, name, segment, channels, discountCode, createdAt: the CRM's own launcher
``CampaignBatchReady.v1``  campaignId, batchId, name, subject, body (Jinja2 source), discountCode, channels,
                           recipients (at most 50 user ids). Notification renders and sends it (marketing)
=========================  =========================================================================================

Event ids derive from the item that publishes them (the reply's, the campaign's, the batch's id), so a retried
stream record publishes the same ids.

Consumed (``CrmEventsQueue``): ``UserRegistered.v1``, ``UserProfileUpdated.v1`` (auth); ``OrderPlaced.v1``
(e-commerce); ``PaymentSucceeded.v1``, ``PaymentRefunded.v1`` (payment); ``OrderCancelled.v1`` (orders);
``NotificationSent.v1``, ``NotificationDelivered.v1``, ``NotificationFailed.v1``, ``NotificationSuppressed.v1``
(notification, counted per campaign). ``CampaignCreated.v1`` on ``CrmCampaignQueue`` (the launcher). Consumed schemas
ignore fields they do not know.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from gears_shared.events import ConsumedData, PublishedData

SOURCE = "gears.crm"

USER_REGISTERED = "UserRegistered.v1"
USER_PROFILE_UPDATED = "UserProfileUpdated.v1"
ORDER_PLACED = "OrderPlaced.v1"
PAYMENT_SUCCEEDED = "PaymentSucceeded.v1"
PAYMENT_REFUNDED = "PaymentRefunded.v1"
ORDER_CANCELLED = "OrderCancelled.v1"
NOTIFICATION_SENT = "NotificationSent.v1"
NOTIFICATION_DELIVERED = "NotificationDelivered.v1"
NOTIFICATION_FAILED = "NotificationFailed.v1"
NOTIFICATION_SUPPRESSED = "NotificationSuppressed.v1"
NOTIFICATION_OUTCOMES = {
    NOTIFICATION_SENT: "sent",
    NOTIFICATION_DELIVERED: "delivered",
    NOTIFICATION_FAILED: "failed",
    NOTIFICATION_SUPPRESSED: "suppressed",
}

SUPPORT_REPLIED = "SupportReplied.v1"
CAMPAIGN_CREATED = "CampaignCreated.v1"
CAMPAIGN_BATCH_READY = "CampaignBatchReady.v1"

Id = Field(min_length=1, max_length=128)


class MoneyData(ConsumedData):
    amount: int
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


def _money(value: Any) -> Any:
    """Money as ``{amount, currency}``; a bare integer (minor units) is read as GBP, the shop's currency."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"amount": value, "currency": "GBP"}
    return value


Amount = Annotated[MoneyData, BeforeValidator(_money)]


# -- consumed ----------------------------------------------------------------------------------------------------
class UserRegistered(ConsumedData):
    userId: str = Id
    email: str | None = None
    name: str | None = None
    registeredAt: str | None = None


class UserProfileUpdated(ConsumedData):
    userId: str = Id
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    phoneVerified: bool = False
    locale: str | None = None
    updatedAt: str | None = None


class DiscountData(ConsumedData):
    code: str = Field(min_length=1, max_length=64)
    amount: Amount | None = None


class OrderPlaced(ConsumedData):
    orderId: str = Id
    userId: str = Id
    total: Amount
    discount: DiscountData | None = None
    placedAt: str


class PaymentSucceeded(ConsumedData):
    orderId: str = Id
    userId: str | None = None
    amount: Amount


class PaymentRefunded(ConsumedData):
    orderId: str = Id
    userId: str | None = None
    refundId: str = Id
    amount: Amount


class OrderCancelled(ConsumedData):
    orderId: str = Id
    userId: str | None = None
    reason: str | None = None


class NotificationOutcome(ConsumedData):
    notificationId: str = Id
    userId: str | None = None
    channel: str = Field(default="email", max_length=16)
    kind: str | None = None
    campaignId: str | None = None
    at: str | None = None


class CampaignCreated(ConsumedData):
    campaignId: str = Id


# -- published ---------------------------------------------------------------------------------------------------
class SupportReplied(PublishedData):
    replyId: str
    userId: str
    ticketId: str | None
    subject: str
    body: str
    repliedAt: str
    by: str


class CampaignCreatedData(PublishedData):
    campaignId: str
    name: str
    segment: str
    channels: list[Literal["email", "sms", "push"]]
    discountCode: str | None
    createdAt: str


class CampaignBatchReady(PublishedData):
    campaignId: str
    batchId: str
    name: str
    subject: str
    body: str
    discountCode: str | None
    channels: list[Literal["email", "sms", "push"]]
    recipients: list[str] = Field(min_length=1, max_length=50)


PUBLISHED: dict[str, type[BaseModel]] = {
    SUPPORT_REPLIED: SupportReplied,
    CAMPAIGN_CREATED: CampaignCreatedData,
    CAMPAIGN_BATCH_READY: CampaignBatchReady,
}
