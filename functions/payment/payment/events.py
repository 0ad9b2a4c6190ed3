"""The events the payment service publishes on the payment topic, and the ones it consumes (CloudEvents 1.0).

Published, from the payment table's stream (:mod:`payment.publisher`), so that a recorded outcome and its event
never part:

======================  ===========================================================================================
type                    when
======================  ===========================================================================================
``PaymentSucceeded.v1``  the order's charge went through: ``amount`` is what was received
``PaymentFailed.v1``     the charge was declined or refused: ``reason`` (Stripe's error code, ``card_declined``),
                         ``declineCode`` (the issuer's, ``insufficient_funds``, or null), ``message``
``PaymentRefunded.v1``   a refund was made: its ``amount``, the order's ``refundedTotal`` since, ``full`` once all
                         that was charged is back; ``kind`` says who asked (``cancel``, ``admin``, ``provider``)
``PaymentVoided.v1``     the intent of an uncharged order was cancelled: nothing will ever be charged on it
``PaymentApprovalRequested.v1``  the buyer must approve the payment on the provider's page (PayPal):
                         ``approvalUrl``, until ``expiresAt``; the approvals consumer reads it back when that is over
======================  ===========================================================================================

Fields beyond docs/events.md (additions, none renamed or dropped): ``paymentIntentId`` and ``message`` on
PaymentFailed, ``paymentIntentId``, ``kind`` and ``reason`` on PaymentRefunded, ``userId`` and ``provider``
(``stripe`` or ``paypal``; ``paymentIntentId`` is then PayPal's order id) on each.

Every envelope has ``source`` :data:`SOURCE`, ``subject`` the order id, ``time`` the change's time in the stream,
an ``id`` derived from the stream record (a retried batch publishes the same ids), and the ``correlationid`` of the
event or request that caused the change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from gears_shared.events import ConsumedData, PublishedData

SOURCE = "gears.payment"
PAYMENT_SUCCEEDED = "PaymentSucceeded.v1"
PAYMENT_FAILED = "PaymentFailed.v1"
PAYMENT_REFUNDED = "PaymentRefunded.v1"
PAYMENT_VOIDED = "PaymentVoided.v1"
PAYMENT_APPROVAL_REQUESTED = "PaymentApprovalRequested.v1"

ORDER_CONFIRMED = "OrderConfirmed.v1"
ORDER_CANCELLED = "OrderCancelled.v1"


class MoneyData(PublishedData):
    amount: int = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class PaymentSucceeded(PublishedData):
    orderId: str
    userId: str | None
    paymentIntentId: str
    amount: MoneyData
    provider: Literal["stripe", "paypal"]


class PaymentFailed(PublishedData):
    orderId: str
    userId: str | None
    reason: str
    declineCode: str | None
    message: str | None
    paymentIntentId: str | None
    provider: Literal["stripe", "paypal"]


class PaymentRefunded(PublishedData):
    orderId: str
    userId: str | None
    refundId: str
    amount: MoneyData
    refundedTotal: MoneyData
    full: bool
    kind: str
    reason: str | None
    paymentIntentId: str | None
    provider: Literal["stripe", "paypal"]


class PaymentVoided(PublishedData):
    orderId: str
    userId: str | None
    paymentIntentId: str | None
    provider: Literal["stripe", "paypal"]


class PaymentApprovalRequested(PublishedData):
    orderId: str
    userId: str | None
    provider: Literal["stripe", "paypal"]
    paymentIntentId: str
    approvalUrl: str
    expiresAt: str
    amount: MoneyData


SCHEMAS: dict[str, type[BaseModel]] = {
    PAYMENT_SUCCEEDED: PaymentSucceeded,
    PAYMENT_FAILED: PaymentFailed,
    PAYMENT_REFUNDED: PaymentRefunded,
    PAYMENT_VOIDED: PaymentVoided,
    PAYMENT_APPROVAL_REQUESTED: PaymentApprovalRequested,
}


# -- consumed (the orders service's contract, docs/events.md; only the fields payment reads) -------------------------


class OrderConfirmedData(ConsumedData):
    orderId: str = Field(min_length=1, max_length=128)
    userId: str | None = None
    total: MoneyData
    paymentMethod: str = Field(min_length=1, max_length=255)


class LineData(ConsumedData):
    lineTotal: MoneyData | None = None


class OrderCancelledData(ConsumedData):
    orderId: str = Field(min_length=1, max_length=128)
    userId: str | None = None
    reason: str | None = None
    paid: bool | None = None
    total: MoneyData | None = None
    lines: list[LineData] = Field(default_factory=list)

    def amount(self) -> tuple[int, str]:
        """The order's total as far as the event tells: ``total`` if sent, else the sum of its lines."""
        if self.total is not None:
            return self.total.amount, self.total.currency
        totals = [line.lineTotal for line in self.lines if line.lineTotal is not None]
        currency = totals[0].currency if totals else "GBP"
        return sum(t.amount for t in totals), currency


class ApprovalRequestedData(ConsumedData):
    """The service's own ``PaymentApprovalRequested.v1``, read back by the approvals consumer."""

    orderId: str = Field(min_length=1, max_length=128)


def validated(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` checked against the published schema of ``type_`` before it leaves."""
    SCHEMAS[type_].model_validate(data)
    return data
