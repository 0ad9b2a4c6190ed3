"""The order while its buyer is away at PayPal (AWAITING_PAYMENT), over the in-memory repository: each way in and
out, each event at least once and in any order, and the requests that treat it as CONFIRMED."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gears_shared.auth import Caller
from orders import events as ev
from orders import service
from orders.domain import IllegalTransition, OrderStatus
from orders.errors import OrderNotReady
from orders.service import EventContext
from tests.unit.orders.fakes import FakeOrders, placed_data

S = OrderStatus
OWNER = Caller("u-1", frozenset({"customer"}))
ADMIN = Caller("a-1", frozenset({"admin"}))
SUPPORT = Caller("s-1", frozenset({"support"}))
PAYPAL_ORDER = "5O190127TN364715T"
APPROVAL_URL = f"https://www.sandbox.paypal.com/checkoutnow?token={PAYPAL_ORDER}"


def ctx(type_: str, id_: str) -> EventContext:
    return EventContext(type_, id_, "corr-1")


def confirmed(repo: FakeOrders, order_id: str = "o-1", **kw: Any) -> None:
    """A PayPal order of u-1's, placed and its stock reserved."""
    placed = ev.OrderPlaced.model_validate(placed_data(order_id, paymentMethod="paypal", **kw))
    service.place_order(service.PlaceOrder(placed, ctx(ev.ORDER_PLACED, f"p-{order_id}")), repo)
    cmd = service.ConfirmOrder(ev.StockReserved(orderId=order_id), ctx(ev.STOCK_RESERVED, f"r-{order_id}"))
    service.confirm_order(cmd, repo)


def approval_data(order_id: str = "o-1", **overrides: Any) -> dict[str, Any]:
    """``PaymentApprovalRequested.v1``'s data as the payment service publishes it."""
    data: dict[str, Any] = {
        "orderId": order_id,
        "userId": "u-1",
        "provider": "paypal",
        "paymentIntentId": PAYPAL_ORDER,
        "approvalUrl": APPROVAL_URL,
        "expiresAt": "2026-03-01T12:30:00.000Z",
        "amount": {"amount": 1399, "currency": "GBP"},
    }
    data.update(overrides)
    return data


def approval(repo: FakeOrders, event_id: str = "ap-1", order_id: str = "o-1") -> service.Outcome:
    data = ev.PaymentApprovalRequested.model_validate(approval_data(order_id))
    return service.await_payment(service.AwaitPayment(data, ctx(ev.PAYMENT_APPROVAL_REQUESTED, event_id)), repo)


def charged(repo: FakeOrders, event_id: str = "s-1", order_id: str = "o-1") -> service.Outcome:
    data = ev.PaymentSucceeded.model_validate(
        {"orderId": order_id, "paymentIntentId": PAYPAL_ORDER, "amount": 1399, "provider": "paypal"}
    )
    return service.record_payment(service.RecordPayment(data, ctx(ev.PAYMENT_SUCCEEDED, event_id)), repo)


def failed(repo: FakeOrders, reason: str, event_id: str = "f-1", order_id: str = "o-1") -> service.Outcome:
    data = ev.PaymentFailed.model_validate(
        {"orderId": order_id, "reason": reason, "declineCode": None, "provider": "paypal"}
    )
    return service.cancel_unpaid(service.CancelUnpaid(data, ctx(ev.PAYMENT_FAILED, event_id)), repo)


def path(repo: FakeOrders, order_id: str = "o-1") -> list[tuple[str, str]]:
    """The order's history as (status, the type of its cause)."""
    return [(t.to_status.value, t.cause.type) for t in repo.items[order_id].history]


def test_the_approval_moves_a_confirmed_order_to_awaiting_payment_once() -> None:
    repo = FakeOrders()
    confirmed(repo)
    assert approval(repo).result == "applied"
    assert approval(repo).result == "duplicate"  # the same event again
    assert approval(repo, "ap-2").result == "stale"  # another approval for the same order
    order = repo.items["o-1"]
    assert order.status is S.AWAITING_PAYMENT
    assert path(repo)[-1] == ("AWAITING_PAYMENT", "PaymentApprovalRequested.v1")
    assert order.history[-1].cause.id == "ap-1"
    payment = order.to_dict()["payment"]
    assert (payment["method"], payment["paymentIntentId"]) == ("paypal", PAYPAL_ORDER)
    assert (payment["approvalUrl"], payment["approvalExpiresAt"]) == (APPROVAL_URL, "2026-03-01T12:30:00.000Z")
    assert payment["charged"] == {"amount": 0, "currency": "GBP"}


def test_approved_and_captured_the_order_is_paid_and_the_link_is_gone() -> None:
    repo = FakeOrders()
    confirmed(repo)
    approval(repo)
    assert charged(repo).result == "applied"
    assert charged(repo).result == "duplicate"
    order = repo.items["o-1"]
    assert path(repo) == [
        ("PENDING", "OrderPlaced.v1"),
        ("CONFIRMED", "StockReserved.v1"),
        ("AWAITING_PAYMENT", "PaymentApprovalRequested.v1"),
        ("PAID", "PaymentSucceeded.v1"),
    ]
    assert (order.payment.charged, order.payment.payment_intent_id) == (1399, PAYPAL_ORDER)
    assert (order.payment.approval_url, order.payment.approval_expires_at) == (None, None)


@pytest.mark.parametrize("reason", ["buyer_cancelled", "approval_expired"])
def test_a_buyer_who_cancels_or_never_approves_ends_cancelled_unpaid(reason: str) -> None:
    repo = FakeOrders()
    confirmed(repo)
    approval(repo)
    assert failed(repo, reason).result == "applied"
    order = repo.items["o-1"]
    assert path(repo)[-1] == ("CANCELLED", "PaymentFailed.v1")
    assert order.history[-1].from_status is S.AWAITING_PAYMENT
    assert (order.cancel_reason, order.payment.failure) == ("payment_failed", reason)
    assert not order.payment.was_charged
    assert order.to_dict()["payment"]["approvalUrl"] is None


def test_a_charge_that_overtakes_its_approval_pays_the_confirmed_order_and_the_late_approval_changes_nothing() -> None:
    repo = FakeOrders()
    confirmed(repo)
    assert charged(repo).result == "applied"
    assert approval(repo).result == "stale"
    order = repo.items["o-1"]
    assert [status for status, _ in path(repo)] == ["PENDING", "CONFIRMED", "PAID"]
    assert order.payment.approval_url is None
    assert order.version == 3  # created, confirmed, paid: the late approval wrote nothing


def test_a_failure_that_overtakes_its_approval_cancels_the_confirmed_order_and_the_late_approval_changes_nothing() -> (
    None
):
    repo = FakeOrders()
    confirmed(repo)
    failed(repo, "approval_expired")
    assert approval(repo).result == "stale"
    order = repo.items["o-1"]
    assert [status for status, _ in path(repo)] == ["PENDING", "CONFIRMED", "CANCELLED"]
    assert order.payment.approval_url is None


def test_an_approval_for_an_order_the_customer_already_cancelled_changes_nothing() -> None:
    repo = FakeOrders()
    confirmed(repo)
    service.cancel_order(service.CancelOrder("o-1", OWNER), repo)
    assert approval(repo).result == "stale"
    assert repo.items["o-1"].status is S.CANCELLED


def test_an_approval_before_the_order_or_its_reservation_is_retried() -> None:
    repo = FakeOrders()
    with pytest.raises(OrderNotReady):
        approval(repo)  # before OrderPlaced
    placed = ev.OrderPlaced.model_validate(placed_data("o-1", paymentMethod="paypal"))
    service.place_order(service.PlaceOrder(placed, ctx(ev.ORDER_PLACED, "p-o-1")), repo)
    with pytest.raises(OrderNotReady):
        approval(repo)  # while PENDING
    service.confirm_order(service.ConfirmOrder(ev.StockReserved(orderId="o-1"), ctx(ev.STOCK_RESERVED, "r-1")), repo)
    assert approval(repo).result == "applied"  # the redelivery


def test_a_refund_while_the_buyer_is_away_waits_for_the_charge() -> None:
    repo = FakeOrders()
    confirmed(repo)
    approval(repo)
    refund = ev.PaymentRefunded.model_validate({"orderId": "o-1", "refundId": "re_1", "amount": 100})
    with pytest.raises(OrderNotReady):
        service.record_refund(service.RecordRefund(refund, ctx(ev.PAYMENT_REFUNDED, "rf-1")), repo)


def test_the_owner_or_an_admin_cancels_an_order_awaiting_payment_as_a_confirmed_one() -> None:
    repo = FakeOrders()
    confirmed(repo, "o-1")
    approval(repo, "ap-1", "o-1")
    mine = service.cancel_order(service.CancelOrder("o-1", OWNER), repo)
    assert (mine.status, mine.cancel_reason) == (S.CANCELLED, "customer_request")
    assert mine.history[-1].from_status is S.AWAITING_PAYMENT
    assert mine.history[-1].cause.to_dict() == {"type": "request", "id": "u-1"}
    assert mine.payment.approval_url is None

    confirmed(repo, "o-2")
    approval(repo, "ap-2", "o-2")
    theirs = service.cancel_order(service.CancelOrder("o-2", ADMIN), repo)
    assert (theirs.status, theirs.cancel_reason) == (S.CANCELLED, "admin_request")


def test_a_capture_that_lands_after_the_buyer_cancelled_is_kept_and_its_refund_closes_the_order() -> None:
    repo = FakeOrders()
    confirmed(repo)
    approval(repo)
    service.cancel_order(service.CancelOrder("o-1", OWNER), repo)
    assert charged(repo).result == "applied"  # recorded, no transition
    assert repo.items["o-1"].status is S.CANCELLED
    assert repo.items["o-1"].payment.charged == 1399
    refund = ev.PaymentRefunded.model_validate(
        {"orderId": "o-1", "refundId": "re_1", "amount": 1399, "refundedTotal": 1399, "full": True}
    )
    service.record_refund(service.RecordRefund(refund, ctx(ev.PAYMENT_REFUNDED, "rf-1")), repo)
    assert repo.items["o-1"].status is S.REFUNDED


def test_an_order_awaiting_payment_does_not_ship() -> None:
    repo = FakeOrders()
    confirmed(repo)
    approval(repo)
    with pytest.raises(IllegalTransition) as early:
        service.ship_order(service.ShipOrder("o-1", "dhl", "1234567890", ADMIN), repo)
    assert early.value.extra == {"orderStatus": "AWAITING_PAYMENT"}


def test_staff_list_the_orders_awaiting_payment() -> None:
    repo = FakeOrders()
    confirmed(repo, "o-1", placedAt="2026-03-01T10:00:00Z")
    confirmed(repo, "o-2", placedAt="2026-03-02T10:00:00Z")
    approval(repo, "ap-2", "o-2")
    waiting = service.list_orders(service.ListOrders(SUPPORT, statuses=(S.AWAITING_PAYMENT,)), repo)
    assert [o.order_id for o in waiting.items] == ["o-2"]
    everything = service.list_orders(service.ListOrders(SUPPORT), repo)
    assert [o.order_id for o in everything.items] == ["o-2", "o-1"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"approvalUrl": "javascript:alert(1)"},
        {"approvalUrl": ""},
        {"expiresAt": "tomorrow"},
        {"expiresAt": "2026-03-01T12:30:00"},  # no zone: not a moment
        {"paymentIntentId": ""},
    ],
)
def test_an_approval_event_that_does_not_hold_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ev.PaymentApprovalRequested.model_validate(approval_data(**overrides))
