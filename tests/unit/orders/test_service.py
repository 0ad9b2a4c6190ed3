"""Use cases over the in-memory repository: events at least once and out of order, and the requests' rules."""

from __future__ import annotations

import pytest

from gears_shared.auth import Caller
from gears_shared.errors import Forbidden, NotFound
from orders import events as ev
from orders import service
from orders.domain import IllegalTransition, InvalidShipment, OrderStatus
from orders.errors import OrderNotReady
from orders.service import EventContext
from tests.unit.orders.fakes import FakeOrders, placed_data

OWNER = Caller("u-1", frozenset({"customer"}))
OTHER = Caller("u-2", frozenset({"customer"}))
SUPPORT = Caller("s-1", frozenset({"support"}))
ADMIN = Caller("a-1", frozenset({"admin"}))


def ctx(type_: str, id_: str) -> EventContext:
    return EventContext(type_, id_, "corr-1")


def placed(repo: FakeOrders, order_id: str = "o-1", **kw: object) -> None:
    data = ev.OrderPlaced.model_validate(placed_data(order_id, **kw))
    service.place_order(service.PlaceOrder(data, ctx(ev.ORDER_PLACED, f"p-{order_id}")), repo)


def reserved(repo: FakeOrders, event_id: str = "r-1", order_id: str = "o-1") -> service.Outcome:
    cmd = service.ConfirmOrder(ev.StockReserved(orderId=order_id), ctx(ev.STOCK_RESERVED, event_id))
    return service.confirm_order(cmd, repo)


def paid(repo: FakeOrders, event_id: str = "s-1") -> service.Outcome:
    data = ev.PaymentSucceeded.model_validate({"orderId": "o-1", "paymentIntentId": "pi_1", "amount": 1399})
    return service.record_payment(service.RecordPayment(data, ctx(ev.PAYMENT_SUCCEEDED, event_id)), repo)


def status(repo: FakeOrders, order_id: str = "o-1") -> OrderStatus:
    order = repo.get(order_id)
    assert order is not None
    return order.status


def test_order_placed_twice_creates_one_pending_order() -> None:
    repo = FakeOrders()
    placed(repo)
    placed(repo)
    assert status(repo) is OrderStatus.PENDING
    assert len(repo.items) == 1
    assert len(repo.items["o-1"].history) == 1


def test_the_happy_path_events_and_their_duplicates_make_one_transition_each() -> None:
    repo = FakeOrders()
    placed(repo)
    assert reserved(repo).result == "applied"
    assert reserved(repo).result == "duplicate"  # the same event again
    assert reserved(repo, "r-2").result == "stale"  # another StockReserved for the same order
    assert paid(repo).result == "applied"
    assert paid(repo).result == "duplicate"
    order = repo.items["o-1"]
    assert [t.to_status for t in order.history] == [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PAID]
    assert order.payment.charged == 1399
    assert order.payment.payment_intent_id == "pi_1"


def test_events_before_the_order_or_its_previous_step_are_retried() -> None:
    repo = FakeOrders()
    with pytest.raises(OrderNotReady):
        reserved(repo)  # StockReserved before OrderPlaced
    placed(repo)
    with pytest.raises(OrderNotReady):
        paid(repo)  # PaymentSucceeded while still PENDING
    reserved(repo)
    paid(repo)
    assert status(repo) is OrderStatus.PAID


def test_out_of_stock_and_declined_payment_cancel_with_their_reason() -> None:
    repo = FakeOrders()
    placed(repo)
    failed = ev.StockReservationFailed(orderId="o-1", reason="out_of_stock")
    service.cancel_out_of_stock(service.CancelOutOfStock(failed, ctx(ev.STOCK_RESERVATION_FAILED, "f-1")), repo)
    assert status(repo) is OrderStatus.CANCELLED
    assert repo.items["o-1"].cancel_reason == "out_of_stock"

    placed(repo, "o-2")
    reserved(repo, "r-2", "o-2")
    declined = ev.PaymentFailed(orderId="o-2", reason="card_declined", declineCode="generic_decline")
    service.cancel_unpaid(service.CancelUnpaid(declined, ctx(ev.PAYMENT_FAILED, "pf-1")), repo)
    order = repo.items["o-2"]
    assert order.status is OrderStatus.CANCELLED
    assert order.cancel_reason == "payment_failed"
    assert order.payment.failure == "generic_decline"


def test_a_charge_that_lands_after_a_cancel_is_kept_and_its_refund_closes_the_order() -> None:
    repo = FakeOrders()
    placed(repo)
    reserved(repo)
    service.cancel_order(service.CancelOrder("o-1", OWNER), repo)
    assert paid(repo).result == "applied"  # recorded, no transition
    assert status(repo) is OrderStatus.CANCELLED
    assert repo.items["o-1"].payment.charged == 1399
    refund = ev.PaymentRefunded.model_validate(
        {"orderId": "o-1", "refundId": "re_1", "amount": 1399, "refundedTotal": 1399, "full": True}
    )
    service.record_refund(service.RecordRefund(refund, ctx(ev.PAYMENT_REFUNDED, "rf-1")), repo)
    assert status(repo) is OrderStatus.REFUNDED


def test_a_refund_before_the_payment_is_known_is_retried() -> None:
    repo = FakeOrders()
    placed(repo)
    reserved(repo)
    refund = ev.PaymentRefunded.model_validate({"orderId": "o-1", "refundId": "re_1", "amount": 100, "full": False})
    with pytest.raises(OrderNotReady):
        service.record_refund(service.RecordRefund(refund, ctx(ev.PAYMENT_REFUNDED, "rf-1")), repo)


def test_partial_then_full_refund() -> None:
    repo = FakeOrders()
    placed(repo)
    reserved(repo)
    paid(repo)
    partial = ev.PaymentRefunded.model_validate(
        {
            "orderId": "o-1",
            "refundId": "re_1",
            "amount": {"amount": 400, "currency": "GBP"},
            "refundedTotal": {"amount": 400, "currency": "GBP"},
            "full": False,
        }
    )
    service.record_refund(service.RecordRefund(partial, ctx(ev.PAYMENT_REFUNDED, "rf-1")), repo)
    service.record_refund(service.RecordRefund(partial, ctx(ev.PAYMENT_REFUNDED, "rf-1")), repo)
    order = repo.items["o-1"]
    assert order.status is OrderStatus.PAID
    assert order.payment.refunded == 400
    assert len(order.payment.refunds) == 1
    rest = ev.PaymentRefunded.model_validate(
        {"orderId": "o-1", "refundId": "re_2", "amount": 999, "refundedTotal": 1399, "full": True}
    )
    service.record_refund(service.RecordRefund(rest, ctx(ev.PAYMENT_REFUNDED, "rf-2")), repo)
    assert status(repo) is OrderStatus.REFUNDED


def test_void_is_recorded_once() -> None:
    repo = FakeOrders()
    placed(repo)
    voided = ev.PaymentVoided(orderId="o-1", paymentIntentId="pi_9")
    assert service.record_void(service.RecordVoid(voided, ctx(ev.PAYMENT_VOIDED, "v-1")), repo).result == "applied"
    assert service.record_void(service.RecordVoid(voided, ctx(ev.PAYMENT_VOIDED, "v-2")), repo).result == "stale"
    assert repo.items["o-1"].payment.voided
    assert repo.items["o-1"].payment.payment_intent_id == "pi_9"


def test_owners_and_staff_read_an_order_others_are_told_it_does_not_exist() -> None:
    repo = FakeOrders()
    placed(repo)
    assert service.get_order(service.GetOrder("o-1", OWNER), repo).order_id == "o-1"
    assert service.get_order(service.GetOrder("o-1", SUPPORT), repo).order_id == "o-1"
    with pytest.raises(NotFound):
        service.get_order(service.GetOrder("o-1", OTHER), repo)
    with pytest.raises(NotFound):
        service.get_order(service.GetOrder("nope", OWNER), repo)


def test_cancel_rules() -> None:
    repo = FakeOrders()
    placed(repo)
    with pytest.raises(NotFound):
        service.cancel_order(service.CancelOrder("o-1", OTHER), repo)
    with pytest.raises(NotFound):
        service.cancel_order(service.CancelOrder("o-1", SUPPORT), repo)  # support reads any order but cancels none
    order = service.cancel_order(service.CancelOrder("o-1", OWNER), repo)
    assert order.status is OrderStatus.CANCELLED
    assert order.history[-1].cause.to_dict() == {
        "type": "request",
        "id": "u-1",
    }
    again = service.cancel_order(service.CancelOrder("o-1", OWNER), repo)
    assert again.history == order.history  # a retried cancel changes nothing

    placed(repo, "o-2")
    reserved(repo, "r-2", "o-2")
    assert service.cancel_order(service.CancelOrder("o-2", ADMIN), repo).cancel_reason == "admin_request"


def test_ship_and_deliver_only_in_order_and_only_by_admins() -> None:
    repo = FakeOrders()
    placed(repo)
    with pytest.raises(Forbidden):
        service.ship_order(service.ShipOrder("o-1", "dhl", "1234567890", SUPPORT), repo)
    with pytest.raises(IllegalTransition) as early:
        service.ship_order(service.ShipOrder("o-1", "dhl", "1234567890", ADMIN), repo)  # not paid yet
    assert (early.value.code, early.value.extra) == ("order-state", {"orderStatus": "PENDING"})
    reserved(repo)
    paid(repo)
    with pytest.raises(IllegalTransition):
        service.deliver_order(service.DeliverOrder("o-1", ADMIN), repo)
    with pytest.raises(InvalidShipment) as bad:
        service.ship_order(service.ShipOrder("o-1", "dhl", "12", ADMIN), repo)
    assert bad.value.code == "invalid-shipment"
    assert status(repo) is OrderStatus.PAID  # bad input changed nothing
    shipped = service.ship_order(service.ShipOrder("o-1", "dhl", "1234567890", ADMIN), repo)
    assert shipped.shipment.tracking_number == "1234567890"
    with pytest.raises(IllegalTransition):
        service.cancel_order(service.CancelOrder("o-1", OWNER), repo)  # too late
    assert service.deliver_order(service.DeliverOrder("o-1", ADMIN), repo).status is OrderStatus.DELIVERED


def test_listings_page_newest_first() -> None:
    repo = FakeOrders()
    for i in range(5):
        placed(repo, f"o-{i}", placedAt=f"2026-03-0{i + 1}T10:00:00Z")
    first = service.list_my_orders(service.ListMyOrders(OWNER, limit=2, before=None), repo)
    assert [o.order_id for o in first.items] == ["o-4", "o-3"]
    second = service.list_my_orders(service.ListMyOrders(OWNER, limit=2, before=first.next_before), repo)
    assert [o.order_id for o in second.items] == ["o-2", "o-1"]
    assert service.list_my_orders(service.ListMyOrders(OTHER, limit=2, before=None), repo).items == []
    with pytest.raises(Forbidden):
        service.list_orders(service.ListOrders(OWNER), repo)
    ranged = service.list_orders(
        service.ListOrders(SUPPORT, statuses=(OrderStatus.PENDING,), since="2026-03-02", until="2026-03-04"), repo
    )
    assert [o.order_id for o in ranged.items] == ["o-3", "o-2", "o-1"]
