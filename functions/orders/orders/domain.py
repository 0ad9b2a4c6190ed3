"""The order: its lines, totals, payment and shipment, and the state machine of its lifecycle (stdlib only).

::

    PENDING ──StockReserved──▶ CONFIRMED ──PaymentSucceeded──▶ PAID ──ship──▶ SHIPPED ──deliver──▶ DELIVERED
       │                        │   │                          ▲  │              │                     │
       │                        │   ▼ PaymentApprovalRequested │  │              │                     │
       │                        │ AWAITING_PAYMENT ────────────┘  │              │                     │
       │                        │   │           PaymentSucceeded  │              │                     │
       └──────────────┬─────────┴───┴─────────────────────────────┘              └──────────┬──────────┘
                      ▼ (out of stock, payment failed, cancel)                              ▼ (fully refunded)
                  CANCELLED ──────────── (fully refunded, if it was paid) ──────────────▶ REFUNDED

AWAITING_PAYMENT is CONFIRMED with the buyer away at the payment provider's page (PayPal): the stock is reserved,
nothing is charged yet, and the order shows where the buyer approves and until when. Both are "reserved, not yet
paid" alike: either becomes PAID or CANCELLED (stock released). A card skips AWAITING_PAYMENT, and so may PayPal: its
PaymentSucceeded (or PaymentFailed) can overtake the PaymentApprovalRequested published before it, and then moves the
order on from CONFIRMED; the approval, arriving after, is stale and changes nothing.

Every change of status appends a :class:`Transition` to the order's history: when, from what, to what, and its
cause (the event type and id, or ``request`` and the caller). An illegal change raises :class:`IllegalTransition`.

Events arrive at least once and in any order, so each event-driven change first asks :meth:`Order.judge`: apply it
now, drop it as *stale* (the order is already past it: a duplicate, or a race lost to a later change), or *not
yet* (the order has not reached the state the event follows: retry later).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

REQUEST = "request"
LISTING_SHARDS = 4


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: the one time format orders store and show (it sorts)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; a naive time is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


S = OrderStatus

# The legal moves. CANCELLED → REFUNDED only when money was taken (checked in :meth:`Order.refund_fully`).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.AWAITING_PAYMENT, S.PAID, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}
# Where each status sits on the happy path; terminal statuses are past everything.
PROGRESS: dict[OrderStatus, int] = {
    S.PENDING: 0,
    S.CONFIRMED: 1,
    S.AWAITING_PAYMENT: 2,
    S.PAID: 3,
    S.SHIPPED: 4,
    S.DELIVERED: 5,
    S.CANCELLED: 9,
    S.REFUNDED: 10,
}
# Stock reserved, nothing charged yet: what payment's events follow (a charge, a failure).
UNPAID = frozenset({S.CONFIRMED, S.AWAITING_PAYMENT})
CANCELLABLE = frozenset({S.PENDING, *UNPAID, S.PAID})


class CancelReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_FAILED = "payment_failed"
    CUSTOMER_REQUEST = "customer_request"
    ADMIN_REQUEST = "admin_request"


class Verdict(StrEnum):
    APPLY = "apply"
    STALE = "stale"  # the order is past what the event would do: acknowledge it and do nothing
    NOT_YET = "not_yet"  # the order has not reached the state the event follows: retry later


class OrderRuleError(Exception):
    """A business rule of orders was broken. Rule errors name themselves for whoever reports them (a problem's
    ``title`` and ``code``, and ``extra`` fields a client can act on); which status they answer is the API's word."""


class IllegalTransition(OrderRuleError):
    """A change the order's status does not allow (cancel after shipping, ship before payment, ...)."""

    title = "Not allowed in the order's current state"
    code = "order-state"

    def __init__(self, current: OrderStatus, target: OrderStatus, why: str = "") -> None:
        self.current = current
        self.target = target
        self.extra = {"orderStatus": current.value}
        super().__init__(why or f"An order that is {current.value} cannot become {target.value}.")


class InvalidOrder(OrderRuleError):
    """An order that cannot exist (no lines, totals that do not add up, mixed currencies)."""


# -- value objects -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def to_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Money:
        return cls(int(value["amount"]), str(value["currency"]))


@dataclass(frozen=True)
class Discount:
    """The discount code checkout applied to the order and what it took off the subtotal."""

    code: str
    amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "amount": self.amount.to_dict()}

    @classmethod
    def from_dict(cls, value: dict[str, Any] | None) -> Discount | None:
        if not value:
            return None
        return cls(str(value["code"]), Money.from_dict(value["amount"]))


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Money
    line_total: Money

    def to_dict(self) -> dict[str, Any]:
        return {
            "productId": self.product_id,
            "sku": self.sku,
            "title": self.title,
            "quantity": self.quantity,
            "unitPrice": self.unit_price.to_dict(),
            "lineTotal": self.line_total.to_dict(),
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> OrderLine:
        return cls(
            product_id=str(value["productId"]),
            sku=str(value["sku"]),
            title=str(value.get("title") or ""),
            quantity=int(value["quantity"]),
            unit_price=Money.from_dict(value["unitPrice"]),
            line_total=Money.from_dict(value["lineTotal"]),
        )


@dataclass(frozen=True)
class Cause:
    """What made a change: an event (its type and id) or a request (``request`` and the caller's user id)."""

    type: str
    id: str

    @classmethod
    def request(cls, caller_id: str) -> Cause:
        return cls(REQUEST, caller_id)

    @property
    def is_event(self) -> bool:
        return self.type != REQUEST

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True)
class Transition:
    seq: int  # its position in the history, from 0 (the creation)
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: str
    cause: Cause
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "from": self.from_status.value if self.from_status else None,
            "to": self.to_status.value,
            "at": self.at,
            "cause": self.cause.to_dict(),
        }
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Transition:
        cause = value.get("cause") or {}
        return cls(
            seq=int(value["seq"]),
            from_status=OrderStatus(value["from"]) if value.get("from") else None,
            to_status=OrderStatus(value["to"]),
            at=str(value["at"]),
            cause=Cause(str(cause.get("type", "")), str(cause.get("id", ""))),
            reason=value.get("reason") or None,
        )


@dataclass(frozen=True)
class Refund:
    refund_id: str
    amount: int
    at: str
    cause_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"refundId": self.refund_id, "amount": self.amount, "at": self.at, "eventId": self.cause_id}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Refund:
        return cls(str(value["refundId"]), int(value["amount"]), str(value["at"]), str(value.get("eventId", "")))


@dataclass(frozen=True)
class Payment:
    """What the payment service told us about the money of this order."""

    method: str
    currency: str
    charged: int = 0
    payment_intent_id: str | None = None
    refunds: tuple[Refund, ...] = ()
    refunded: int = 0  # the payment service's running total (its ``refundedTotal``)
    voided: bool = False
    failure: str | None = None
    # Where the buyer approves the payment at the provider, and until when: set only while AWAITING_PAYMENT.
    approval_url: str | None = None
    approval_expires_at: str | None = None

    @property
    def was_charged(self) -> bool:
        return self.charged > 0

    def without_approval(self) -> Payment:
        """The payment once the buyer's wait is over (paid or cancelled): the link is no use to anyone then."""
        return replace(self, approval_url=None, approval_expires_at=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "charged": {"amount": self.charged, "currency": self.currency},
            "refunded": {"amount": self.refunded, "currency": self.currency},
            "paymentIntentId": self.payment_intent_id,
            "refunds": [r.to_dict() for r in self.refunds],
            "voided": self.voided,
            "failure": self.failure,
            "approvalUrl": self.approval_url,
            "approvalExpiresAt": self.approval_expires_at,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Payment:
        charged = value.get("charged") or {}
        return cls(
            method=str(value.get("method") or ""),
            currency=str(charged.get("currency") or "GBP"),
            charged=int(charged.get("amount") or 0),
            payment_intent_id=value.get("paymentIntentId") or None,
            refunds=tuple(Refund.from_dict(r) for r in value.get("refunds") or ()),
            refunded=int((value.get("refunded") or {}).get("amount") or 0),
            voided=bool(value.get("voided")),
            failure=value.get("failure") or None,
            approval_url=value.get("approvalUrl") or None,
            approval_expires_at=value.get("approvalExpiresAt") or None,
        )


@dataclass(frozen=True)
class Shipment:
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "carrier": self.carrier,
            "trackingNumber": self.tracking_number,
            "shippedAt": self.shipped_at,
            "deliveredAt": self.delivered_at,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any] | None) -> Shipment:
        value = value or {}
        return cls(value.get("carrier"), value.get("trackingNumber"), value.get("shippedAt"), value.get("deliveredAt"))


# Carriers we ship with, and the shape of their tracking numbers (uppercased, spaces removed, before checking).
CARRIERS: dict[str, re.Pattern[str]] = {
    "royal_mail": re.compile(r"^[A-Z]{2}\d{9}GB$"),
    "dpd": re.compile(r"^\d{14}$"),
    "dhl": re.compile(r"^\d{10}$"),
    "ups": re.compile(r"^1Z[0-9A-Z]{16}$"),
    "fedex": re.compile(r"^(\d{12}|\d{15})$"),
    "evri": re.compile(r"^[A-Z0-9]{16}$"),
}


class InvalidShipment(OrderRuleError):
    """Shipment details that are not one of our carriers' (an unknown carrier, a malformed tracking number)."""

    title = "Invalid shipment"
    code = "invalid-shipment"


def normalise_tracking(carrier: str, tracking_number: str) -> str:
    """The tracking number in its canonical form; :class:`InvalidShipment` if it is not one of ``carrier``'s."""
    shape = CARRIERS.get(carrier)
    if shape is None:
        raise InvalidShipment(f"Unknown carrier {carrier!r}; one of: {', '.join(sorted(CARRIERS))}.")
    canonical = re.sub(r"\s+", "", tracking_number).upper()
    if not shape.match(canonical):
        raise InvalidShipment(f"{tracking_number!r} is not a {carrier} tracking number.")
    return canonical


def listing_shard(order_id: str) -> int:
    """The shard of the by-status listing an order lives in (stable: a hash of its id)."""
    return int(hashlib.sha256(order_id.encode()).hexdigest()[:8], 16) % LISTING_SHARDS


# -- the aggregate -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Order:
    order_id: str
    user_id: str
    lines: tuple[OrderLine, ...]
    subtotal: Money
    shipping: Money
    total: Money
    shipping_address: dict[str, Any]
    placed_at: str
    status: OrderStatus
    payment: Payment
    shipment: Shipment = field(default_factory=Shipment)
    history: tuple[Transition, ...] = ()
    cancel_reason: str | None = None
    version: int = 0
    discount: Discount | None = None

    # -- creation --------------------------------------------------------------------------------------------
    @classmethod
    def place(
        cls,
        *,
        order_id: str,
        user_id: str,
        lines: list[OrderLine],
        subtotal: Money,
        shipping: Money,
        total: Money,
        shipping_address: dict[str, Any],
        payment_method: str,
        placed_at: str,
        cause: Cause,
        now: datetime,
        discount: Discount | None = None,
    ) -> Order:
        """A new PENDING order, as checkout placed it (``total = subtotal - discount + shipping``)."""
        if not lines:
            raise InvalidOrder("An order has at least one line.")
        currencies = {subtotal.currency, shipping.currency, total.currency}
        currencies |= {line.line_total.currency for line in lines}
        if discount is not None:
            currencies.add(discount.amount.currency)
        if len(currencies) != 1:
            raise InvalidOrder("An order is in one currency.")
        if any(line.quantity <= 0 for line in lines):
            raise InvalidOrder("Every line has a positive quantity.")
        off = discount.amount.amount if discount is not None else 0
        if not 0 <= off <= subtotal.amount:
            raise InvalidOrder("A discount takes off no more than the subtotal.")
        if total.amount != subtotal.amount - off + shipping.amount:
            raise InvalidOrder("The total is the subtotal, less the discount, plus shipping.")
        first = Transition(0, None, S.PENDING, utc_iso(now), cause)
        return cls(
            order_id=order_id,
            user_id=user_id,
            lines=tuple(lines),
            subtotal=subtotal,
            shipping=shipping,
            total=total,
            shipping_address=dict(shipping_address),
            placed_at=utc_iso(parse_time(placed_at)),
            status=S.PENDING,
            payment=Payment(method=payment_method, currency=total.currency),
            history=(first,),
            discount=discount,
        )

    # -- questions -------------------------------------------------------------------------------------------
    @property
    def last_transition(self) -> Transition:
        return self.history[-1]

    def caused_by(self, event_id: str) -> bool:
        """Whether an event already changed this order (its id is in the history or the refunds)."""
        return any(t.cause.is_event and t.cause.id == event_id for t in self.history) or any(
            r.cause_id == event_id for r in self.payment.refunds
        )

    def can_become(self, target: OrderStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def judge(self, follows: frozenset[OrderStatus] | OrderStatus) -> Verdict:
        """What to do with an event whose change follows one of the statuses ``follows``."""
        sources = follows if isinstance(follows, frozenset) else frozenset({follows})
        if self.status in sources:
            return Verdict.APPLY
        if PROGRESS[self.status] < min(PROGRESS[s] for s in sources):
            return Verdict.NOT_YET
        return Verdict.STALE

    # -- changes ---------------------------------------------------------------------------------------------
    def _move(
        self, target: OrderStatus, cause: Cause, now: datetime, reason: str | None = None, **changes: Any
    ) -> Order:
        if not self.can_become(target):
            raise IllegalTransition(self.status, target)
        step = Transition(len(self.history), self.status, target, utc_iso(now), cause, reason)
        if self.status is S.AWAITING_PAYMENT:
            changes["payment"] = changes.get("payment", self.payment).without_approval()
        return replace(self, status=target, history=(*self.history, step), **changes)

    def confirm(self, cause: Cause, now: datetime) -> Order:
        """Stock is reserved for every line."""
        return self._move(S.CONFIRMED, cause, now)

    def await_payment(
        self, payment_intent_id: str, approval_url: str, expires_at: datetime, cause: Cause, now: datetime
    ) -> Order:
        """The payment service made the payment at the provider, and the buyer must approve it there (PayPal) at
        ``approval_url`` before ``expires_at``."""
        waiting = replace(
            self.payment,
            payment_intent_id=payment_intent_id,
            approval_url=approval_url,
            approval_expires_at=utc_iso(expires_at),
        )
        return self._move(S.AWAITING_PAYMENT, cause, now, payment=waiting)

    def mark_paid(self, payment_intent_id: str, amount: int, cause: Cause, now: datetime) -> Order:
        """The payment service charged the order."""
        paid = replace(self.payment, charged=amount, payment_intent_id=payment_intent_id, failure=None)
        return self._move(S.PAID, cause, now, payment=paid)

    def record_late_charge(self, payment_intent_id: str, amount: int) -> Order:
        """A charge that succeeded after the order was cancelled: kept, so that its refund can close the order."""
        return replace(self, payment=replace(self.payment, charged=amount, payment_intent_id=payment_intent_id))

    def cancel(self, reason: str, cause: Cause, now: datetime, *, failure: str | None = None) -> Order:
        if self.status not in CANCELLABLE:
            why = (
                f"An order that is {self.status.value} can no longer be cancelled."
                if self.status in (S.SHIPPED, S.DELIVERED)
                else f"An order that is {self.status.value} cannot be cancelled."
            )
            raise IllegalTransition(self.status, S.CANCELLED, why)
        payment = replace(self.payment, failure=failure) if failure else self.payment
        return self._move(S.CANCELLED, cause, now, reason, cancel_reason=reason, payment=payment)

    def ship(self, carrier: str, tracking_number: str, cause: Cause, now: datetime) -> Order:
        if self.status is not S.PAID:
            why = f"Only a PAID order ships; this one is {self.status.value}."
            raise IllegalTransition(self.status, S.SHIPPED, why)
        canonical = normalise_tracking(carrier, tracking_number)
        shipment = Shipment(carrier, canonical, utc_iso(now), None)
        return self._move(S.SHIPPED, cause, now, shipment=shipment)

    def deliver(self, cause: Cause, now: datetime) -> Order:
        if self.status is not S.SHIPPED:
            raise IllegalTransition(
                self.status, S.DELIVERED, f"Only a SHIPPED order is delivered; this one is {self.status.value}."
            )
        return self._move(S.DELIVERED, cause, now, shipment=replace(self.shipment, delivered_at=utc_iso(now)))

    def record_refund(
        self, refund_id: str, amount: int, refunded_total: int, full: bool, cause: Cause, now: datetime
    ) -> Order:
        """A refund the payment service made; the order becomes REFUNDED when it was the full amount."""
        if any(r.refund_id == refund_id for r in self.payment.refunds):
            return self
        refund = Refund(refund_id, amount, utc_iso(now), cause.id)
        # The payment service's running total is authoritative; max() keeps it right if refunds arrive out of order.
        refunded = max(refunded_total, self.payment.refunded, sum(r.amount for r in self.payment.refunds) + amount)
        # A refund proves a charge: if its PaymentSucceeded was never applied (a charge that raced a cancel), the
        # refund itself tells how much was taken.
        charged = self.payment.charged or refunded
        payment = replace(self.payment, refunds=(*self.payment.refunds, refund), refunded=refunded, charged=charged)
        order = replace(self, payment=payment)
        if full or (payment.charged and payment.refunded >= payment.charged):
            return order.refund_fully(cause, now)
        return order

    def refund_fully(self, cause: Cause, now: datetime) -> Order:
        if self.status is S.CANCELLED and not self.payment.was_charged:
            raise IllegalTransition(self.status, S.REFUNDED, "Nothing was charged for this cancelled order.")
        return self._move(S.REFUNDED, cause, now)

    def record_void(self, payment_intent_id: str | None) -> Order:
        intent = payment_intent_id or self.payment.payment_intent_id
        return replace(self, payment=replace(self.payment, voided=True, payment_intent_id=intent))

    # -- views -----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The order as the API shows it (and as the store keeps it)."""
        return {
            "orderId": self.order_id,
            "userId": self.user_id,
            "status": self.status.value,
            "lines": [line.to_dict() for line in self.lines],
            "subtotal": self.subtotal.to_dict(),
            "shipping": self.shipping.to_dict(),
            "discount": self.discount.to_dict() if self.discount else None,
            "total": self.total.to_dict(),
            "shippingAddress": dict(self.shipping_address),
            "placedAt": self.placed_at,
            "updatedAt": self.last_transition.at,
            "cancelReason": self.cancel_reason,
            "payment": self.payment.to_dict(),
            "shipment": self.shipment.to_dict(),
            "history": [t.to_dict() for t in self.history],
            "version": self.version,
        }

    def summary(self) -> dict[str, Any]:
        """The order in a listing."""
        return {
            "orderId": self.order_id,
            "userId": self.user_id,
            "status": self.status.value,
            "total": self.total.to_dict(),
            "itemCount": sum(line.quantity for line in self.lines),
            "placedAt": self.placed_at,
            "updatedAt": self.last_transition.at,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Order:
        return cls(
            order_id=str(value["orderId"]),
            user_id=str(value["userId"]),
            lines=tuple(OrderLine.from_dict(line) for line in value.get("lines") or ()),
            subtotal=Money.from_dict(value["subtotal"]),
            shipping=Money.from_dict(value["shipping"]),
            total=Money.from_dict(value["total"]),
            shipping_address=dict(value.get("shippingAddress") or {}),
            placed_at=str(value["placedAt"]),
            status=OrderStatus(value["status"]),
            payment=Payment.from_dict(value.get("payment") or {}),
            shipment=Shipment.from_dict(value.get("shipment")),
            history=tuple(Transition.from_dict(t) for t in value.get("history") or ()),
            cancel_reason=value.get("cancelReason") or None,
            version=int(value.get("version") or 0),
            discount=Discount.from_dict(value.get("discount")),
        )
