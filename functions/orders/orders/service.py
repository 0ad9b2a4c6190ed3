"""Order management's use cases: plain functions over ports (an order repository, a clock).

Two kinds of callers:

- **events** (``consumers.py``): each handler loads the order, asks the domain whether the event applies now, is
  stale, or comes too early (:meth:`Order.judge`), and saves with optimistic concurrency, retrying on a conflict.
  A stale event is acknowledged and logged; one that comes too early raises :class:`OrderNotReady` so the queue
  delivers it again later (and, if it never becomes applicable, parks it in the dead-letter queue).
- **requests** (``api.py``): reads with the owner check (another customer's order is 404), cancel, ship, deliver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from gears_shared.auth import ADMIN, STAFF, Caller, require_owner, require_role
from orders import events as ev
from orders.domain import (
    CANCELLABLE,
    CancelReason,
    Cause,
    IllegalTransition,
    InvalidShipment,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Verdict,
    parse_time,
    utc_iso,
)
from orders.errors import (
    InvalidRange,
    InvalidShipmentDetails,
    OrderNotFound,
    OrderNotReady,
    OrderStateConflict,
    StaleOrder,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SAVE_ATTEMPTS = 5

Clock = Callable[[], datetime]
log = logging.getLogger("orders")


def utc_now() -> datetime:
    return datetime.now(UTC)


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None: ...

    def add(self, order: Order, *, correlation_id: str = "") -> bool:
        """Store a new order; ``False`` when its id is taken."""
        ...

    def save(self, order: Order, *, correlation_id: str = "") -> Order:
        """Replace the order if it is still at ``order.version``; :class:`StaleOrder` otherwise."""
        ...

    def list_for_user(self, user_id: str, *, limit: int, before: str | None) -> tuple[list[Order], str | None]: ...

    def list_by_status(
        self, statuses: Sequence[OrderStatus], *, lower: str, upper: str, limit: int, before: str | None
    ) -> tuple[list[Order], str | None]: ...


@dataclass(frozen=True)
class Outcome:
    """What an event did to an order: ``applied``, ``stale`` (acknowledged, nothing changed) or ``duplicate``."""

    result: str
    order: Order | None = None


Decide = Callable[[Order], Order | None]


def _change(
    orders: OrderRepository,
    order_id: str,
    decide: Decide,
    *,
    correlation_id: str = "",
    event_id: str | None = None,
) -> Outcome:
    """Load, decide, save with the version read; on a concurrent change, read again and decide again."""
    for _ in range(SAVE_ATTEMPTS):
        order = orders.get(order_id)
        if order is None:
            if event_id is None:
                raise OrderNotFound("There is no such order.")
            raise OrderNotReady(f"order {order_id} is not known yet")
        if event_id is not None and order.caused_by(event_id):
            return Outcome("duplicate", order)  # applied before a crash kept the inbox from hearing of it
        changed = decide(order)
        if changed is None:
            return Outcome("stale", order)
        try:
            return Outcome("applied", orders.save(changed, correlation_id=correlation_id))
        except StaleOrder:
            continue
    raise StaleOrder("The order kept changing; try again.")


def _stale(order: Order, event_type: str) -> None:
    log.info("stale event acknowledged", extra={"orderId": order.order_id, "status": order.status, "event": event_type})


# -- events ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventContext:
    type: str
    id: str
    correlation_id: str = ""

    @property
    def cause(self) -> Cause:
        return Cause(self.type, self.id)


def place_order(data: ev.OrderPlaced, ctx: EventContext, orders: OrderRepository, clock: Clock = utc_now) -> Outcome:
    """OrderPlaced: a new PENDING order; a repeat of the same order id changes nothing."""
    order = Order.place(
        order_id=data.orderId,
        user_id=data.userId,
        lines=[OrderLine.from_dict(line.model_dump()) for line in data.lines],
        subtotal=Money(data.subtotal.amount, data.subtotal.currency),
        shipping=Money(data.shipping.amount, data.shipping.currency),
        total=Money(data.total.amount, data.total.currency),
        shipping_address=data.shippingAddress,
        payment_method=data.paymentMethod,
        placed_at=data.placedAt,
        cause=ctx.cause,
        now=clock(),
    )
    if orders.add(order, correlation_id=ctx.correlation_id):
        return Outcome("applied", order)
    return Outcome("duplicate", orders.get(data.orderId))


def _on_status(
    orders: OrderRepository,
    order_id: str,
    ctx: EventContext,
    follows: frozenset[OrderStatus] | OrderStatus,
    apply: Decide,
    *,
    when_stale: Decide | None = None,
) -> Outcome:
    def decide(order: Order) -> Order | None:
        verdict = order.judge(follows)
        if verdict is Verdict.NOT_YET:
            raise OrderNotReady(f"{ctx.type} for order {order.order_id} arrived while it is {order.status.value}")
        if verdict is Verdict.STALE:
            changed = when_stale(order) if when_stale else None
            if changed is None:
                _stale(order, ctx.type)
            return changed
        return apply(order)

    return _change(orders, order_id, decide, correlation_id=ctx.correlation_id, event_id=ctx.id)


def stock_reserved(
    data: ev.StockReserved, ctx: EventContext, orders: OrderRepository, clock: Clock = utc_now
) -> Outcome:
    return _on_status(orders, data.orderId, ctx, OrderStatus.PENDING, lambda o: o.confirm(ctx.cause, clock()))


def stock_reservation_failed(
    data: ev.StockReservationFailed, ctx: EventContext, orders: OrderRepository, clock: Clock = utc_now
) -> Outcome:
    return _on_status(
        orders,
        data.orderId,
        ctx,
        OrderStatus.PENDING,
        lambda o: o.cancel(CancelReason.OUT_OF_STOCK.value, ctx.cause, clock()),
    )


def payment_succeeded(
    data: ev.PaymentSucceeded, ctx: EventContext, orders: OrderRepository, clock: Clock = utc_now
) -> Outcome:
    def late(order: Order) -> Order | None:
        # A charge that raced a cancel: keep it, so the refund the payment service owes closes the order.
        if order.status is OrderStatus.CANCELLED and not order.payment.was_charged:
            log.warning("charge after cancel recorded", extra={"orderId": order.order_id})
            return order.record_late_charge(data.paymentIntentId, data.amount.amount)
        return None

    return _on_status(
        orders,
        data.orderId,
        ctx,
        OrderStatus.CONFIRMED,
        lambda o: o.mark_paid(data.paymentIntentId, data.amount.amount, ctx.cause, clock()),
        when_stale=late,
    )


def payment_failed(
    data: ev.PaymentFailed, ctx: EventContext, orders: OrderRepository, clock: Clock = utc_now
) -> Outcome:
    failure = data.declineCode or data.reason
    return _on_status(
        orders,
        data.orderId,
        ctx,
        OrderStatus.CONFIRMED,
        lambda o: o.cancel(CancelReason.PAYMENT_FAILED.value, ctx.cause, clock(), failure=failure),
    )


REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED})


def payment_refunded(
    data: ev.PaymentRefunded, ctx: EventContext, orders: OrderRepository, clock: Clock = utc_now
) -> Outcome:
    """A refund: recorded; the order becomes REFUNDED when it was full."""
    total = data.refundedTotal.amount if data.refundedTotal else 0

    def refund(order: Order) -> Order | None:
        if any(r.refund_id == data.refundId for r in order.payment.refunds):
            return None
        return order.record_refund(data.refundId, data.amount.amount, total, data.full, ctx.cause, clock())

    return _on_status(orders, data.orderId, ctx, REFUNDABLE, refund)


def payment_voided(data: ev.PaymentVoided, ctx: EventContext, orders: OrderRepository) -> Outcome:
    def void(order: Order) -> Order | None:
        return None if order.payment.voided else order.record_void(data.paymentIntentId)

    return _change(orders, data.orderId, void, correlation_id=ctx.correlation_id, event_id=ctx.id)


# -- requests: reads ---------------------------------------------------------------------------------------------
def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def get_order(order_id: str, caller: Caller, orders: OrderRepository) -> Order:
    """The order, for its owner or staff; everyone else is told there is no such order (404)."""
    order = orders.get(order_id)
    if order is None:
        raise OrderNotFound("There is no such order.")
    require_owner(caller, order.user_id, privileged=STAFF, what="order")
    return order


@dataclass(frozen=True)
class OrderPage:
    items: list[Order]
    next_before: str | None


def list_my_orders(caller: Caller, orders: OrderRepository, *, limit: int | None, before: str | None) -> OrderPage:
    items, after = orders.list_for_user(caller.user_id, limit=clamp_limit(limit), before=before)
    return OrderPage(items, after)


def _bound(text: str | None, *, end: bool) -> str:
    """A date or time as a placed-key bound; a date alone covers its whole day."""
    if not text:
        return "~" if end else ""
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return utc_iso(day + timedelta(days=1)) if end else utc_iso(day)
        moment = utc_iso(parse_time(text))
    except ValueError as exc:
        raise InvalidRange(f"{text!r} is not an ISO 8601 date or time.") from exc
    return moment + "#~" if end else moment


def list_orders(
    caller: Caller,
    orders: OrderRepository,
    *,
    statuses: Sequence[OrderStatus] = (),
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    before: str | None = None,
) -> OrderPage:
    """Orders by status (all statuses when none is named) placed in [since, until], newest first (staff only)."""
    require_role(caller, *STAFF)
    lower, upper = _bound(since, end=False), _bound(until, end=True)
    if lower and upper != "~" and lower > upper:
        raise InvalidRange("'from' is after 'to'.")
    items, after = orders.list_by_status(
        list(statuses) or list(OrderStatus), lower=lower, upper=upper, limit=clamp_limit(limit), before=before
    )
    return OrderPage(items, after)


# -- requests: writes --------------------------------------------------------------------------------------------
def _by_request(orders: OrderRepository, order_id: str, decide: Decide, correlation_id: str) -> Order:
    try:
        outcome = _change(orders, order_id, decide, correlation_id=correlation_id)
    except IllegalTransition as exc:
        raise OrderStateConflict(str(exc), orderStatus=exc.current.value) from exc
    except InvalidShipment as exc:
        raise InvalidShipmentDetails(str(exc)) from exc
    assert outcome.order is not None
    return outcome.order


def cancel_order(
    order_id: str, caller: Caller, orders: OrderRepository, *, clock: Clock = utc_now, correlation_id: str = ""
) -> Order:
    """Cancel before shipping: the owner, or an admin for any order (support cannot). Cancelling a cancelled order
    again changes nothing (a retried request succeeds)."""
    current = orders.get(order_id)
    if current is None:
        raise OrderNotFound("There is no such order.")
    require_owner(caller, current.user_id, privileged={ADMIN}, what="order")
    reason = CancelReason.CUSTOMER_REQUEST if caller.user_id == current.user_id else CancelReason.ADMIN_REQUEST

    def decide(order: Order) -> Order | None:
        if order.status is OrderStatus.CANCELLED:
            return None
        if order.status not in CANCELLABLE:
            why = f"An order that is {order.status.value} can no longer be cancelled."
            raise IllegalTransition(order.status, OrderStatus.CANCELLED, why)
        return order.cancel(reason.value, Cause.request(caller.user_id), clock())

    return _by_request(orders, order_id, decide, correlation_id)


def ship_order(
    order_id: str,
    carrier: str,
    tracking_number: str,
    caller: Caller,
    orders: OrderRepository,
    *,
    clock: Clock = utc_now,
    correlation_id: str = "",
) -> Order:
    require_role(caller, ADMIN)
    return _by_request(
        orders,
        order_id,
        lambda o: o.ship(carrier, tracking_number, Cause.request(caller.user_id), clock()),
        correlation_id,
    )


def deliver_order(
    order_id: str, caller: Caller, orders: OrderRepository, *, clock: Clock = utc_now, correlation_id: str = ""
) -> Order:
    require_role(caller, ADMIN)
    return _by_request(orders, order_id, lambda o: o.deliver(Cause.request(caller.user_id), clock()), correlation_id)
