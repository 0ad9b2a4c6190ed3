"""Order management's use cases: plain functions, each taking one command (a frozen dataclass named for the use
case) and its ports (an order repository; a clock, which tests hand in).

Two kinds of callers:

- **events** (``consumers.py``): each command carries an event's validated data and where it came from
  (:class:`EventContext`). Its use case loads the order, asks the domain whether the event applies now, is stale,
  or comes too early (:meth:`Order.judge`), and saves with optimistic concurrency, retrying on a conflict. A stale
  event is acknowledged and logged; one that comes too early raises :class:`OrderNotReady` so the queue delivers it
  again later (and, if it never becomes applicable, parks it in the dead-letter queue).
- **requests** (``api.py``): reads with the owner check (another customer's order is 404), cancel, ship, deliver.
  The order's rule errors (:class:`IllegalTransition`, :class:`InvalidShipment`) leave as the domain raised them;
  the API's error table says what each answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from gears_shared.auth import ADMIN, STAFF, Caller, require_owner, require_role
from gears_shared.clock import utc_now
from orders import events as ev
from orders.domain import (
    CANCELLABLE,
    UNPAID,
    CancelReason,
    Cause,
    Discount,
    IllegalTransition,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Verdict,
    parse_time,
    utc_iso,
)
from orders.errors import InvalidRange, OrderNotFound, OrderNotReady, StaleOrder

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SAVE_ATTEMPTS = 5

Clock = Callable[[], datetime]
log = logging.getLogger("orders")


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
    """Where an event came from: its type and id (the cause a change records), and the correlation id it carried."""

    type: str
    id: str
    correlation_id: str = ""

    @property
    def cause(self) -> Cause:
        return Cause(self.type, self.id)


Data = TypeVar("Data")


@dataclass(frozen=True)
class EventCommand(Generic[Data]):
    """An event to apply: its ``data``, validated against the event's schema, and where it came from."""

    data: Data
    event: EventContext


@dataclass(frozen=True)
class PlaceOrder(EventCommand[ev.OrderPlaced]):
    """OrderPlaced: checkout placed an order."""


@dataclass(frozen=True)
class ConfirmOrder(EventCommand[ev.StockReserved]):
    """StockReserved: every line of the order is reserved."""


@dataclass(frozen=True)
class CancelOutOfStock(EventCommand[ev.StockReservationFailed]):
    """StockReservationFailed: a line could not be reserved."""


@dataclass(frozen=True)
class AwaitPayment(EventCommand[ev.PaymentApprovalRequested]):
    """PaymentApprovalRequested: the buyer must approve the payment on the provider's page (PayPal)."""


@dataclass(frozen=True)
class RecordPayment(EventCommand[ev.PaymentSucceeded]):
    """PaymentSucceeded: the order was charged."""


@dataclass(frozen=True)
class CancelUnpaid(EventCommand[ev.PaymentFailed]):
    """PaymentFailed: the charge was declined or failed."""


@dataclass(frozen=True)
class RecordRefund(EventCommand[ev.PaymentRefunded]):
    """PaymentRefunded: money went back to the customer, in part or in full."""


@dataclass(frozen=True)
class RecordVoid(EventCommand[ev.PaymentVoided]):
    """PaymentVoided: an authorisation was released without a charge."""


def _discount(data: ev.DiscountData | None) -> Discount | None:
    if data is None:
        return None
    return Discount(data.code, Money(data.amount.amount, data.amount.currency))


def place_order(cmd: PlaceOrder, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    """A new PENDING order; a repeat of the same order id changes nothing."""
    data = cmd.data
    order = Order.place(
        order_id=data.orderId,
        user_id=data.userId,
        lines=[OrderLine.from_dict(line.model_dump()) for line in data.lines],
        subtotal=Money(data.subtotal.amount, data.subtotal.currency),
        shipping=Money(data.shipping.amount, data.shipping.currency),
        total=Money(data.total.amount, data.total.currency),
        discount=_discount(data.discount),
        shipping_address=data.shippingAddress,
        payment_method=data.paymentMethod,
        placed_at=data.placedAt,
        cause=cmd.event.cause,
        now=clock(),
    )
    if orders.add(order, correlation_id=cmd.event.correlation_id):
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


def confirm_order(cmd: ConfirmOrder, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    cause = cmd.event.cause
    return _on_status(orders, cmd.data.orderId, cmd.event, OrderStatus.PENDING, lambda o: o.confirm(cause, clock()))


def cancel_out_of_stock(cmd: CancelOutOfStock, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    return _on_status(
        orders,
        cmd.data.orderId,
        cmd.event,
        OrderStatus.PENDING,
        lambda o: o.cancel(CancelReason.OUT_OF_STOCK.value, cmd.event.cause, clock()),
    )


def await_payment(cmd: AwaitPayment, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    """A CONFIRMED order waits for its buyer at the provider (AWAITING_PAYMENT). Late, after the payment's outcome
    moved the order on (PAID, CANCELLED), it is stale: the outcome stands."""
    data = cmd.data
    return _on_status(
        orders,
        data.orderId,
        cmd.event,
        OrderStatus.CONFIRMED,
        lambda o: o.await_payment(data.paymentIntentId, data.approvalUrl, data.expiresAt, cmd.event.cause, clock()),
    )


def record_payment(cmd: RecordPayment, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    data = cmd.data

    def late(order: Order) -> Order | None:
        # A charge that raced a cancel: keep it, so the refund the payment service owes closes the order.
        if order.status is OrderStatus.CANCELLED and not order.payment.was_charged:
            log.warning("charge after cancel recorded", extra={"orderId": order.order_id})
            return order.record_late_charge(data.paymentIntentId, data.amount.amount)
        return None

    return _on_status(
        orders,
        data.orderId,
        cmd.event,
        UNPAID,  # from CONFIRMED too: a charge may overtake the approval that came before it
        lambda o: o.mark_paid(data.paymentIntentId, data.amount.amount, cmd.event.cause, clock()),
        when_stale=late,
    )


def cancel_unpaid(cmd: CancelUnpaid, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    failure = cmd.data.declineCode or cmd.data.reason
    return _on_status(
        orders,
        cmd.data.orderId,
        cmd.event,
        UNPAID,
        lambda o: o.cancel(CancelReason.PAYMENT_FAILED.value, cmd.event.cause, clock(), failure=failure),
    )


REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED})


def record_refund(cmd: RecordRefund, orders: OrderRepository, *, clock: Clock = utc_now) -> Outcome:
    """A refund: recorded; the order becomes REFUNDED when it was full."""
    data = cmd.data
    total = data.refundedTotal.amount if data.refundedTotal else 0

    def refund(order: Order) -> Order | None:
        if any(r.refund_id == data.refundId for r in order.payment.refunds):
            return None
        return order.record_refund(data.refundId, data.amount.amount, total, data.full, cmd.event.cause, clock())

    return _on_status(orders, data.orderId, cmd.event, REFUNDABLE, refund)


def record_void(cmd: RecordVoid, orders: OrderRepository) -> Outcome:
    def void(order: Order) -> Order | None:
        return None if order.payment.voided else order.record_void(cmd.data.paymentIntentId)

    ctx = cmd.event
    return _change(orders, cmd.data.orderId, void, correlation_id=ctx.correlation_id, event_id=ctx.id)


# -- requests: reads ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GetOrder:
    order_id: str
    caller: Caller


@dataclass(frozen=True)
class ListMyOrders:
    caller: Caller
    limit: int | None = None
    before: str | None = None  # the placed key to go on before (from the previous page)


@dataclass(frozen=True)
class ListOrders:
    """Orders by status (all statuses when none is named) placed in [since, until]: ISO dates or times, a date
    alone covering its whole day."""

    caller: Caller
    statuses: tuple[OrderStatus, ...] = ()
    since: str | None = None
    until: str | None = None
    limit: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class OrderPage:
    items: list[Order]
    next_before: str | None


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def get_order(query: GetOrder, orders: OrderRepository) -> Order:
    """The order, for its owner or staff; everyone else is told there is no such order (404)."""
    order = orders.get(query.order_id)
    if order is None:
        raise OrderNotFound("There is no such order.")
    require_owner(query.caller, order.user_id, privileged=STAFF, what="order")
    return order


def list_my_orders(query: ListMyOrders, orders: OrderRepository) -> OrderPage:
    """The caller's orders, newest first."""
    items, after = orders.list_for_user(query.caller.user_id, limit=clamp_limit(query.limit), before=query.before)
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


def list_orders(query: ListOrders, orders: OrderRepository) -> OrderPage:
    """Orders by status placed in the range, newest first (staff only)."""
    require_role(query.caller, *STAFF)
    lower, upper = _bound(query.since, end=False), _bound(query.until, end=True)
    if lower and upper != "~" and lower > upper:
        raise InvalidRange("'from' is after 'to'.")
    items, after = orders.list_by_status(
        list(query.statuses) or list(OrderStatus),
        lower=lower,
        upper=upper,
        limit=clamp_limit(query.limit),
        before=query.before,
    )
    return OrderPage(items, after)


# -- requests: writes --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    caller: Caller
    correlation_id: str = ""


@dataclass(frozen=True)
class ShipOrder:
    order_id: str
    carrier: str
    tracking_number: str
    caller: Caller
    correlation_id: str = ""


@dataclass(frozen=True)
class DeliverOrder:
    order_id: str
    caller: Caller
    correlation_id: str = ""


def _by_request(orders: OrderRepository, order_id: str, decide: Decide, correlation_id: str) -> Order:
    outcome = _change(orders, order_id, decide, correlation_id=correlation_id)
    assert outcome.order is not None
    return outcome.order


def cancel_order(cmd: CancelOrder, orders: OrderRepository, *, clock: Clock = utc_now) -> Order:
    """Cancel before shipping: the owner, or an admin for any order (support cannot). Cancelling a cancelled order
    again changes nothing (a retried request succeeds)."""
    caller = cmd.caller
    current = orders.get(cmd.order_id)
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

    return _by_request(orders, cmd.order_id, decide, cmd.correlation_id)


def ship_order(cmd: ShipOrder, orders: OrderRepository, *, clock: Clock = utc_now) -> Order:
    """Ship a PAID order with the carrier's tracking number (admin only)."""
    require_role(cmd.caller, ADMIN)
    cause = Cause.request(cmd.caller.user_id)
    return _by_request(
        orders,
        cmd.order_id,
        lambda o: o.ship(cmd.carrier, cmd.tracking_number, cause, clock()),
        cmd.correlation_id,
    )


def deliver_order(cmd: DeliverOrder, orders: OrderRepository, *, clock: Clock = utc_now) -> Order:
    """Mark a SHIPPED order delivered (admin only)."""
    require_role(cmd.caller, ADMIN)
    cause = Cause.request(cmd.caller.user_id)
    return _by_request(orders, cmd.order_id, lambda o: o.deliver(cause, clock()), cmd.correlation_id)
