"""The payment of an order: what was asked, what the provider charged, what was given back, and the rules of it.

Standard library only. A payment is one per order (its id is the order id) and moves through a small state machine:

```
PENDING --charged--> SUCCEEDED --refund (part)--> PARTIALLY_REFUNDED --refund (rest)--> REFUNDED
   |                     \\------------------refund (all)-------------------------------/
   +--declined--> FAILED --void--> VOIDED
   +--void------> VOIDED
   +--the buyer must approve it (PayPal)--> AWAITING_APPROVAL --approved--> APPROVED --captured--> SUCCEEDED
                                               |  (cancelled, expired)         \\--declined--> FAILED
                                               +--> FAILED      +--void--> VOIDED
(no payment yet) --order cancelled--> CANCELLED   (nothing was ever charged; a late charge request is refused)
```

A card is charged at once (PENDING is the moment the provider is being asked). A PayPal payment waits for its buyer
in AWAITING_APPROVAL, holding the provider's approval link and when the wait ends; APPROVED is the capture under way
(the buyer approved; what the provider did with the capture is not known yet), so a cancellation waits for it as it
waits for a card's PENDING charge.

The refunded total never exceeds what was charged: :meth:`Payment.refunded` refuses it, and the store writes the
result only over the version it was computed from. Its rule errors carry the ``title`` and ``code`` of the problem
a client sees (the API's error table gives their status); nothing here knows of HTTP.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

CURRENCY = re.compile(r"^[A-Z]{3}$")


class PaymentRuleError(ValueError):
    """A change the payment's state machine or its amounts do not allow."""

    title = "Payment rule violated"
    code = "payment-rule"


class RefundTooLarge(PaymentRuleError):
    title = "Refund exceeds the charge"
    code = "refund-exceeds-charge"

    def __init__(self, requested: int, refundable: int) -> None:
        super().__init__(f"A refund of {requested} is more than the {refundable} left to refund.")
        self.requested = requested
        self.refundable = refundable


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    VOIDED = "VOIDED"
    CANCELLED = "CANCELLED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


CHARGED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
REFUNDABLE = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED})
VOIDABLE = frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.AWAITING_APPROVAL})
# Asked of the provider, outcome not known yet: a cancellation waits for it.
IN_FLIGHT = frozenset({PaymentStatus.PENDING, PaymentStatus.APPROVED})
# A charge outcome may still land on these (the provider's word wins over FAILED: a later confirmation went through).
CHARGEABLE = frozenset(
    {PaymentStatus.PENDING, PaymentStatus.AWAITING_APPROVAL, PaymentStatus.APPROVED, PaymentStatus.FAILED}
)

STRIPE = "stripe"
PAYPAL = "paypal"
PROVIDERS = (STRIPE, PAYPAL)


def provider_of(payment_method: str | None) -> str:
    """Which gateway takes a payment method: ``paypal`` is PayPal's checkout, anything else a card at Stripe."""
    return PAYPAL if payment_method == PAYPAL else STRIPE


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount < 0:
            raise PaymentRuleError("An amount is a whole, non-negative number of minor units.")
        if not CURRENCY.match(self.currency):
            raise PaymentRuleError("A currency is an ISO 4217 code such as GBP.")

    def to_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}


@dataclass(frozen=True)
class Failure:
    """Why a charge did not go through: the provider's error code (``card_declined``), the card issuer's decline
    code (``insufficient_funds``) when there is one, and the provider's message for people."""

    reason: str
    decline_code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Payment:
    order_id: str
    user_id: str | None
    amount: Money  # what the order asked to be charged
    payment_method: str | None
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    payment_intent_id: str | None = None
    charged: int = 0  # minor units the provider received
    refunded_total: int = 0
    refund_count: int = 0  # refunds recorded so far; numbers the next refund's idempotency key
    failure: Failure | None = None
    version: int = 0
    provider: str = STRIPE
    capture_id: str | None = None  # PayPal's capture (its refunds go through it); None for a card
    approval_url: str | None = None  # where the buyer approves (PayPal), while they may
    approval_expires_at: datetime | None = None  # when an unapproved payment fails

    # -- creation ------------------------------------------------------------------------------------------------
    @classmethod
    def requested(
        cls, order_id: str, user_id: str | None, amount: Money, payment_method: str | None, at: datetime
    ) -> Payment:
        """A charge about to be asked of the provider."""
        if not order_id:
            raise PaymentRuleError("A payment belongs to an order.")
        if amount.amount < 1:
            raise PaymentRuleError("An order to charge has a positive total.")
        return cls(
            order_id,
            user_id,
            amount,
            payment_method,
            PaymentStatus.PENDING,
            at,
            at,
            provider=provider_of(payment_method),
        )

    @classmethod
    def cancelled_before_charge(cls, order_id: str, user_id: str | None, amount: Money, at: datetime) -> Payment:
        """The order was cancelled before any charge was asked for: this stops a late one."""
        return cls(order_id, user_id, amount, None, PaymentStatus.CANCELLED, at, at)

    # -- reading -------------------------------------------------------------------------------------------------
    @property
    def is_charged(self) -> bool:
        return self.status in CHARGED

    @property
    def refundable(self) -> int:
        return self.charged - self.refunded_total if self.status in REFUNDABLE else 0

    def money(self, amount: int) -> Money:
        return Money(amount, self.amount.currency)

    # -- transitions ---------------------------------------------------------------------------------------------
    def succeeded(
        self, payment_intent_id: str, amount_received: int, at: datetime, capture_id: str | None = None
    ) -> Payment:
        """The provider charged ``amount_received``. From PENDING, AWAITING_APPROVAL or APPROVED, or from FAILED
        when a later confirmation of the same intent went through (the provider's word wins)."""
        if self.status not in CHARGEABLE:
            raise PaymentRuleError(f"A {self.status} payment cannot become charged.")
        if amount_received < 1:
            raise PaymentRuleError("A charge received nothing.")
        return replace(
            self,
            status=PaymentStatus.SUCCEEDED,
            payment_intent_id=payment_intent_id,
            capture_id=capture_id or self.capture_id,
            charged=amount_received,
            failure=None,
            approval_url=None,
            updated_at=at,
        )

    def failed(self, payment_intent_id: str | None, failure: Failure, at: datetime) -> Payment:
        if self.status not in (PaymentStatus.PENDING, PaymentStatus.AWAITING_APPROVAL, PaymentStatus.APPROVED):
            raise PaymentRuleError(f"A {self.status} payment cannot fail.")
        return replace(
            self,
            status=PaymentStatus.FAILED,
            payment_intent_id=payment_intent_id or self.payment_intent_id,
            failure=failure,
            approval_url=None,
            updated_at=at,
        )

    def awaiting_approval(self, payment_id: str, approval_url: str, expires_at: datetime, at: datetime) -> Payment:
        """The provider made a payment the buyer must approve on its page (PayPal), until ``expires_at``."""
        if self.status is not PaymentStatus.PENDING:
            raise PaymentRuleError(f"A {self.status} payment cannot wait for approval.")
        if not approval_url:
            raise PaymentRuleError("A payment awaiting approval has the link to approve it.")
        return replace(
            self,
            status=PaymentStatus.AWAITING_APPROVAL,
            payment_intent_id=payment_id,
            approval_url=approval_url,
            approval_expires_at=expires_at,
            updated_at=at,
        )

    def approved(self, at: datetime) -> Payment:
        """The buyer approved: the capture is being asked for."""
        if self.status is not PaymentStatus.AWAITING_APPROVAL:
            raise PaymentRuleError(f"A {self.status} payment cannot be approved.")
        return replace(self, status=PaymentStatus.APPROVED, updated_at=at)

    def still_awaiting_approval(self, at: datetime) -> Payment:
        """The provider said the buyer has not approved after all (a forged or early return): wait again."""
        if self.status is not PaymentStatus.APPROVED:
            raise PaymentRuleError(f"A {self.status} payment is not being captured.")
        return replace(self, status=PaymentStatus.AWAITING_APPROVAL, updated_at=at)

    def approval_due(self, now: datetime) -> bool:
        """The buyer's time to approve is over."""
        return self.approval_expires_at is not None and now >= self.approval_expires_at

    def voided(self, at: datetime) -> Payment:
        """The intent was cancelled at the provider: nothing was, or ever will be, charged on it."""
        if self.status not in VOIDABLE:
            raise PaymentRuleError(f"A {self.status} payment cannot be voided.")
        return replace(self, status=PaymentStatus.VOIDED, approval_url=None, updated_at=at)

    def refunded(self, amount: int, at: datetime) -> Payment:
        """``amount`` more was given back; REFUNDED once everything charged is."""
        if self.status not in REFUNDABLE:
            raise PaymentRuleError(f"A {self.status} payment has nothing to refund.")
        if amount < 1:
            raise PaymentRuleError("A refund gives back a positive amount.")
        if amount > self.refundable:
            raise RefundTooLarge(amount, self.refundable)
        total = self.refunded_total + amount
        status = PaymentStatus.REFUNDED if total == self.charged else PaymentStatus.PARTIALLY_REFUNDED
        return replace(self, status=status, refunded_total=total, refund_count=self.refund_count + 1, updated_at=at)

    def to_dict(self) -> dict[str, Any]:
        failure = self.failure
        return {
            "orderId": self.order_id,
            "status": self.status.value,
            "amount": self.amount.to_dict(),
            "charged": self.money(self.charged).to_dict(),
            "refunded": self.money(self.refunded_total).to_dict(),
            "refundable": self.money(self.refundable).to_dict(),
            "paymentIntentId": self.payment_intent_id,
            "paymentMethod": self.payment_method,
            "provider": self.provider,
            "captureId": self.capture_id,
            "approvalUrl": self.approval_url,
            "approvalExpiresAt": utc_iso(self.approval_expires_at) if self.approval_expires_at else None,
            "failure": (
                {"reason": failure.reason, "declineCode": failure.decline_code, "message": failure.message}
                if failure
                else None
            ),
            "createdAt": utc_iso(self.created_at),
            "updatedAt": utc_iso(self.updated_at),
        }


class RefundKind(StrEnum):
    ADMIN = "admin"  # POST /admin/orders/{orderId}/refund
    CANCEL = "cancel"  # the order was cancelled after it was paid
    PROVIDER = "provider"  # made elsewhere (the Stripe dashboard) and learnt from a webhook


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: Money
    refunded_total: Money  # the payment's refunded total once this refund is counted
    full: bool  # everything charged has now been refunded
    kind: RefundKind
    created_at: datetime
    payment_intent_id: str | None = None
    reason: str | None = None
    request_key: str | None = None  # the provider key of a refund asked with an Idempotency-Key (not shown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "refundId": self.refund_id,
            "orderId": self.order_id,
            "amount": self.amount.to_dict(),
            "refundedTotal": self.refunded_total.to_dict(),
            "full": self.full,
            "kind": self.kind.value,
            "reason": self.reason,
            "paymentIntentId": self.payment_intent_id,
            "createdAt": utc_iso(self.created_at),
        }


def refund_of(
    before: Payment,
    after: Payment,
    refund_id: str,
    kind: RefundKind,
    reason: str | None,
    request_key: str | None = None,
) -> Refund:
    """The record of the refund that took ``before`` to ``after``."""
    return Refund(
        refund_id=refund_id,
        order_id=after.order_id,
        amount=after.money(after.refunded_total - before.refunded_total),
        refunded_total=after.money(after.refunded_total),
        full=after.status is PaymentStatus.REFUNDED,
        kind=kind,
        created_at=after.updated_at,
        payment_intent_id=after.payment_intent_id,
        reason=reason,
        request_key=request_key,
    )


# -- idempotency keys at the provider: derived from the order, so a retry is never a second charge or refund --------
def charge_key(order_id: str) -> str:
    return f"order-{order_id}-charge"


def cancel_refund_key(order_id: str) -> str:
    return f"order-{order_id}-refund-cancel"


def capture_key(order_id: str) -> str:
    return f"order-{order_id}-capture"


def refund_key(order_id: str, number: int) -> str:
    return f"order-{order_id}-refund-{number}"


def request_refund_key(order_id: str, request_key: str) -> str:
    """The provider key of a refund asked with an ``Idempotency-Key``: the same request, the same refund, however
    many refunds were recorded in between (hashed: the client's key is any text, the provider's is bounded)."""
    return f"order-{order_id}-refund-req-{hashlib.sha256(request_key.encode()).hexdigest()[:40]}"


def void_key(order_id: str) -> str:
    return f"order-{order_id}-void"
