"""The order's state machine: every legal move, every illegal one, and what each records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import (
    TRANSITIONS,
    UNPAID,
    Cause,
    IllegalTransition,
    InvalidOrder,
    InvalidShipment,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Verdict,
    normalise_tracking,
)
from tests.unit.orders.fakes import NOW

S = OrderStatus
EVENT = Cause("StockReserved.v1", "evt-1")
ADMIN = Cause.request("admin-1")
APPROVAL = Cause("PaymentApprovalRequested.v1", "evt-ap")
APPROVAL_URL = "https://www.paypal.com/checkoutnow?token=5O190127TN364715T"
EXPIRES = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def waiting(order: Order) -> Order:
    return order.await_payment("5O190127TN364715T", APPROVAL_URL, EXPIRES, APPROVAL, NOW)


def new_order() -> Order:
    line = OrderLine("p-1", "SKU-1", "Mug", 2, Money(500, "GBP"), Money(1000, "GBP"))
    return Order.place(
        order_id="o-1",
        user_id="u-1",
        lines=[line],
        subtotal=Money(1000, "GBP"),
        shipping=Money(399, "GBP"),
        total=Money(1399, "GBP"),
        shipping_address={"city": "York"},
        payment_method="pm_card_visa",
        placed_at="2026-03-01T11:59:00+00:00",
        cause=Cause("OrderPlaced.v1", "evt-0"),
        now=NOW,
    )


# How to bring an order into each status, and how to attempt each target.
def at(status: OrderStatus) -> Order:
    o = new_order()
    path: dict[OrderStatus, Callable[[Order], Order]] = {
        S.PENDING: lambda o: o,
        S.CONFIRMED: lambda o: o.confirm(EVENT, NOW),
        S.AWAITING_PAYMENT: lambda o: waiting(at(S.CONFIRMED)),
        S.PAID: lambda o: at(S.CONFIRMED).mark_paid("pi_1", 1399, Cause("PaymentSucceeded.v1", "e2"), NOW),
        S.SHIPPED: lambda o: at(S.PAID).ship("royal_mail", "AB123456789GB", ADMIN, NOW),
        S.DELIVERED: lambda o: at(S.SHIPPED).deliver(ADMIN, NOW),
        S.CANCELLED: lambda o: at(S.PAID).cancel("customer_request", Cause.request("u-1"), NOW),
        S.REFUNDED: lambda o: at(S.PAID).refund_fully(Cause("PaymentRefunded.v1", "e9"), NOW),
    }
    return path[status](o)


MOVES: dict[OrderStatus, Callable[[Order], Order]] = {
    S.CONFIRMED: lambda o: o.confirm(EVENT, NOW),
    S.AWAITING_PAYMENT: waiting,
    S.PAID: lambda o: o.mark_paid("pi_1", 1399, Cause("PaymentSucceeded.v1", "e3"), NOW),
    S.SHIPPED: lambda o: o.ship("dhl", "1234567890", ADMIN, NOW),
    S.DELIVERED: lambda o: o.deliver(ADMIN, NOW),
    S.CANCELLED: lambda o: o.cancel("admin_request", ADMIN, NOW),
    S.REFUNDED: lambda o: o.refund_fully(Cause("PaymentRefunded.v1", "e4"), NOW),
}

PAIRS = [(src, dst) for src in S for dst in MOVES]


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_move_is_legal_exactly_when_the_table_says(source: OrderStatus, target: OrderStatus) -> None:
    order = at(source)
    assert order.status is source
    if target in TRANSITIONS[source]:
        moved = MOVES[target](order)
        assert moved.status is target
        step = moved.history[-1]
        assert (step.from_status, step.to_status, step.seq) == (source, target, len(order.history))
        assert moved.history[:-1] == order.history  # appended, never rewritten
    else:
        with pytest.raises(IllegalTransition) as err:
            MOVES[target](order)
        assert (err.value.current, err.value.target) == (source, target)


def test_a_new_order_is_pending_with_its_creation_in_the_history() -> None:
    order = new_order()
    assert order.status is S.PENDING
    assert [t.to_dict() for t in order.history] == [
        {
            "seq": 0,
            "from": None,
            "to": "PENDING",
            "at": "2026-03-01T12:00:00.000Z",
            "cause": {"type": "OrderPlaced.v1", "id": "evt-0"},
        }
    ]
    assert order.placed_at == "2026-03-01T11:59:00.000Z"


def test_each_transition_records_time_and_cause() -> None:
    later = NOW + timedelta(minutes=5)
    order = new_order().confirm(Cause("StockReserved.v1", "evt-9"), later)
    cancelled = order.cancel("customer_request", Cause.request("u-1"), later)
    assert cancelled.history[1].cause.to_dict() == {"type": "StockReserved.v1", "id": "evt-9"}
    assert cancelled.history[2].cause.to_dict() == {"type": "request", "id": "u-1"}
    assert cancelled.history[2].reason == "customer_request"
    assert cancelled.history[2].at == "2026-03-01T12:05:00.000Z"
    assert cancelled.caused_by("evt-9")
    assert not cancelled.caused_by("u-1")


def test_a_cancelled_order_is_refunded_only_if_it_was_charged() -> None:
    unpaid = at(S.CONFIRMED).cancel("payment_failed", Cause("PaymentFailed.v1", "e"), NOW)
    with pytest.raises(IllegalTransition):
        unpaid.refund_fully(Cause("PaymentRefunded.v1", "r"), NOW)
    paid = at(S.CANCELLED)
    assert paid.refund_fully(Cause("PaymentRefunded.v1", "r"), NOW).status is S.REFUNDED


def test_partial_refunds_are_recorded_and_the_full_amount_refunds_the_order() -> None:
    order = at(S.DELIVERED)
    once = order.record_refund("re_1", 400, 400, False, Cause("PaymentRefunded.v1", "r1"), NOW)
    assert once.status is S.DELIVERED
    assert once.payment.refunded == 400
    assert once.record_refund("re_1", 400, 400, False, Cause("PaymentRefunded.v1", "r1b"), NOW) == once
    full = once.record_refund("re_2", 999, 1399, True, Cause("PaymentRefunded.v1", "r2"), NOW)
    assert full.status is S.REFUNDED
    assert full.payment.refunded == 1399
    assert [r.refund_id for r in full.payment.refunds] == ["re_1", "re_2"]


def test_judging_events_stale_or_too_early() -> None:
    assert at(S.PENDING).judge(S.PENDING) is Verdict.APPLY
    assert at(S.PENDING).judge(S.CONFIRMED) is Verdict.NOT_YET  # e.g. PaymentSucceeded before StockReserved
    assert at(S.CONFIRMED).judge(S.PENDING) is Verdict.STALE  # a second StockReserved
    assert at(S.CANCELLED).judge(S.CONFIRMED) is Verdict.STALE


def test_judging_payment_events_around_the_wait_for_the_buyer() -> None:
    # The payment's outcome follows either unpaid status: a charge may overtake the approval published before it.
    assert at(S.CONFIRMED).judge(UNPAID) is Verdict.APPLY
    assert at(S.AWAITING_PAYMENT).judge(UNPAID) is Verdict.APPLY
    assert at(S.PENDING).judge(UNPAID) is Verdict.NOT_YET
    assert at(S.PAID).judge(UNPAID) is Verdict.STALE
    # The approval follows CONFIRMED only: once waiting, paid or cancelled, another one is stale.
    assert at(S.PENDING).judge(S.CONFIRMED) is Verdict.NOT_YET
    for past in (S.AWAITING_PAYMENT, S.PAID, S.SHIPPED, S.CANCELLED, S.REFUNDED):
        assert at(past).judge(S.CONFIRMED) is Verdict.STALE, past


def test_awaiting_payment_shows_where_the_buyer_approves_until_the_wait_ends() -> None:
    order = at(S.AWAITING_PAYMENT)
    assert order.history[-1].to_dict() == {
        "seq": 2,
        "from": "CONFIRMED",
        "to": "AWAITING_PAYMENT",
        "at": "2026-03-01T12:00:00.000Z",
        "cause": {"type": "PaymentApprovalRequested.v1", "id": "evt-ap"},
    }
    shown = order.to_dict()["payment"]
    assert shown["approvalUrl"] == APPROVAL_URL
    assert shown["approvalExpiresAt"] == "2026-03-01T12:30:00.000Z"
    assert shown["paymentIntentId"] == "5O190127TN364715T"
    assert order.caused_by("evt-ap")

    paid = order.mark_paid("5O190127TN364715T", 1399, Cause("PaymentSucceeded.v1", "e5"), NOW)
    assert (paid.status, paid.payment.charged) == (S.PAID, 1399)
    assert (paid.payment.approval_url, paid.payment.approval_expires_at) == (None, None)
    failed = order.cancel("payment_failed", Cause("PaymentFailed.v1", "e6"), NOW, failure="buyer_cancelled")
    assert (failed.status, failed.payment.failure) == (S.CANCELLED, "buyer_cancelled")
    assert failed.to_dict()["payment"]["approvalUrl"] is None
    assert failed.payment.payment_intent_id == "5O190127TN364715T"  # PayPal's order, for whoever looks it up


def test_an_order_awaiting_payment_is_cancelled_unpaid_as_a_confirmed_one() -> None:
    cancelled = at(S.AWAITING_PAYMENT).cancel("customer_request", Cause.request("u-1"), NOW)
    assert (cancelled.status, cancelled.cancel_reason) == (S.CANCELLED, "customer_request")
    assert cancelled.history[-1].from_status is S.AWAITING_PAYMENT
    assert not cancelled.payment.was_charged
    with pytest.raises(IllegalTransition):
        cancelled.refund_fully(Cause("PaymentRefunded.v1", "r"), NOW)  # nothing was taken


def test_orders_that_cannot_exist_are_refused() -> None:
    line = OrderLine("p", "s", "t", 1, Money(100, "GBP"), Money(100, "GBP"))
    kw = dict(
        order_id="o",
        user_id="u",
        subtotal=Money(100, "GBP"),
        shipping=Money(0, "GBP"),
        shipping_address={},
        payment_method="pm",
        placed_at="2026-01-01T00:00:00Z",
        cause=EVENT,
        now=NOW,
    )
    with pytest.raises(InvalidOrder):
        Order.place(lines=[], total=Money(100, "GBP"), **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrder):
        Order.place(lines=[line], total=Money(999, "GBP"), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("carrier", "number", "ok"),
    [
        ("royal_mail", "ab 123 456 789 gb", "AB123456789GB"),
        ("ups", "1Z999AA10123456784", "1Z999AA10123456784"),
        ("dhl", "12345", None),
        ("pigeon", "1234567890", None),
        ("dpd", "DROP TABLE", None),
    ],
)
def test_tracking_numbers_are_checked_per_carrier(carrier: str, number: str, ok: str | None) -> None:
    if ok:
        assert normalise_tracking(carrier, number) == ok
    else:
        with pytest.raises(InvalidShipment):
            normalise_tracking(carrier, number)


def test_the_stored_form_round_trips() -> None:
    order = at(S.DELIVERED).record_refund("re_1", 100, 100, False, Cause("PaymentRefunded.v1", "r"), NOW)
    assert Order.from_dict(order.to_dict()) == order
    assert Order.from_dict(at(S.AWAITING_PAYMENT).to_dict()) == at(S.AWAITING_PAYMENT)


def test_an_order_stored_before_paypal_reads_with_no_approval() -> None:
    stored = at(S.CONFIRMED).to_dict()
    for key in ("approvalUrl", "approvalExpiresAt"):
        del stored["payment"][key]
    order = Order.from_dict(stored)
    assert (order.payment.approval_url, order.payment.approval_expires_at) == (None, None)
    assert order.to_dict()["payment"]["approvalUrl"] is None
