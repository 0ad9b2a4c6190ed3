"""The saga's events through OrdersEventsConsumerFunction on moto: once each, in any order, poison parked."""

from __future__ import annotations

from types import ModuleType

from gears.local.lambda_context import LambdaContext
from orders.domain import Order
from orders.service import OrderRepository
from tests.functional.orders.conftest import APPROVAL_URL, approval_event, placed_event, saga_event, sqs_event

CTX = LambdaContext("OrdersEventsConsumerFunction", timeout_s=30)


def handle(consumers: ModuleType, *events: object, bodies: list[str] | None = None) -> list[str]:
    result = consumers.handler(sqs_event(*events, bodies=bodies), CTX)
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_the_happy_path_with_every_event_delivered_twice(consumers: ModuleType, orders: OrderRepository) -> None:
    placed = placed_event("fo-1")
    reserved = saga_event("StockReserved.v1", "fo-1", lines=[])
    charged = saga_event(
        "PaymentSucceeded.v1", "fo-1", paymentIntentId="pi_1", amount={"amount": 1399, "currency": "GBP"}
    )
    assert handle(consumers, placed, placed, reserved, reserved, charged, charged) == []
    order = orders.get("fo-1")
    assert order.status == "PAID"
    assert [(t.to_status.value, t.cause.type) for t in order.history] == [
        ("PENDING", "OrderPlaced.v1"),
        ("CONFIRMED", "StockReserved.v1"),
        ("PAID", "PaymentSucceeded.v1"),
    ]
    assert order.version == 3  # one write each: created, confirmed, paid


def test_an_event_before_its_order_fails_and_applies_on_the_retry(
    consumers: ModuleType, orders: OrderRepository
) -> None:
    reserved = saga_event("StockReserved.v1", "fo-2")
    assert handle(consumers, reserved) == ["m-0"]
    assert orders.get("fo-2") is None
    assert handle(consumers, placed_event("fo-2")) == []
    assert handle(consumers, reserved) == []  # the redelivery
    assert orders.get("fo-2").status == "CONFIRMED"


def test_poison_and_invalid_events_fail_alone(consumers: ModuleType, orders: OrderRepository) -> None:
    bad_data = saga_event("OrderPlaced.v1", "fo-3")  # no lines, no totals
    failed = handle(consumers, placed_event("fo-4"), bad_data, bodies=["not json at all"])
    assert failed == ["m-1", "m-2"]
    assert orders.get("fo-4").status == "PENDING"
    assert orders.get("fo-3") is None


def test_refunds_and_cancellations(consumers: ModuleType, orders: OrderRepository) -> None:
    handle(consumers, placed_event("fo-5"), saga_event("StockReservationFailed.v1", "fo-5", reason="out_of_stock"))
    assert orders.get("fo-5").cancel_reason == "out_of_stock"
    handle(
        consumers,
        placed_event("fo-6"),
        saga_event("StockReserved.v1", "fo-6"),
        saga_event("PaymentSucceeded.v1", "fo-6", paymentIntentId="pi_6", amount=1399),
        saga_event("PaymentRefunded.v1", "fo-6", refundId="re_1", amount=400, refundedTotal=400, full=False),
    )
    order = orders.get("fo-6")
    assert order.status == "PAID"
    assert order.payment.refunded == 400
    handle(
        consumers, saga_event("PaymentRefunded.v1", "fo-6", refundId="re_2", amount=999, refundedTotal=1399, full=True)
    )
    assert orders.get("fo-6").status == "REFUNDED"


def stored(orders: OrderRepository, order_id: str) -> Order:
    order = orders.get(order_id)
    assert order is not None, order_id
    return order


def test_a_paypal_buyer_s_wait_between_the_reservation_and_the_capture(
    consumers: ModuleType, orders: OrderRepository
) -> None:
    approval = approval_event("fo-7")
    captured = saga_event("PaymentSucceeded.v1", "fo-7", paymentIntentId="5O190127TN364715T", amount=1399)
    placed = placed_event("fo-7", paymentMethod="paypal")
    assert handle(consumers, placed, saga_event("StockReserved.v1", "fo-7"), approval, approval) == []
    waiting = stored(orders, "fo-7")
    assert waiting.status == "AWAITING_PAYMENT"
    assert (waiting.payment.approval_url, waiting.payment.approval_expires_at) == (
        APPROVAL_URL,
        "2026-03-01T12:30:00.000Z",
    )
    assert handle(consumers, captured, captured) == []
    order = stored(orders, "fo-7")
    assert [(t.to_status.value, t.cause.type) for t in order.history] == [
        ("PENDING", "OrderPlaced.v1"),
        ("CONFIRMED", "StockReserved.v1"),
        ("AWAITING_PAYMENT", "PaymentApprovalRequested.v1"),
        ("PAID", "PaymentSucceeded.v1"),
    ]
    assert order.payment.approval_url is None
    assert order.version == 4


def test_a_paypal_failure_while_waiting_cancels_and_late_approvals_change_nothing(
    consumers: ModuleType, orders: OrderRepository
) -> None:
    expired = saga_event("PaymentFailed.v1", "fo-8", reason="approval_expired", declineCode=None)
    handle(consumers, placed_event("fo-8", paymentMethod="paypal"), saga_event("StockReserved.v1", "fo-8"))
    assert handle(consumers, approval_event("fo-8"), expired) == []
    order = stored(orders, "fo-8")
    assert (order.status, order.cancel_reason, order.payment.failure) == (
        "CANCELLED",
        "payment_failed",
        "approval_expired",
    )
    assert order.history[-1].from_status == "AWAITING_PAYMENT"

    # The outcome overtook the approval: CONFIRMED moves on, the approval arriving after is acknowledged, and ignored.
    handle(consumers, placed_event("fo-9", paymentMethod="paypal"), saga_event("StockReserved.v1", "fo-9"))
    charged = saga_event("PaymentSucceeded.v1", "fo-9", paymentIntentId="5O190127TN364715T", amount=1399)
    assert handle(consumers, charged, approval_event("fo-9")) == []
    assert [t.to_status.value for t in stored(orders, "fo-9").history] == ["PENDING", "CONFIRMED", "PAID"]
    handle(consumers, placed_event("fo-10", paymentMethod="paypal"), saga_event("StockReserved.v1", "fo-10"))
    cancelled = saga_event("PaymentFailed.v1", "fo-10", reason="buyer_cancelled")
    assert handle(consumers, cancelled, approval_event("fo-10")) == []
    assert [t.to_status.value for t in stored(orders, "fo-10").history] == ["PENDING", "CONFIRMED", "CANCELLED"]


def test_an_approval_before_the_reservation_is_retried_and_a_malformed_one_fails_alone(
    consumers: ModuleType, orders: OrderRepository
) -> None:
    approval = approval_event("fo-11")
    malformed = approval_event("fo-11", approvalUrl="javascript:alert(1)")
    assert handle(consumers, placed_event("fo-11", paymentMethod="paypal"), approval, malformed) == ["m-1", "m-2"]
    assert stored(orders, "fo-11").status == "PENDING"
    assert handle(consumers, saga_event("StockReserved.v1", "fo-11")) == []
    assert handle(consumers, approval) == []  # the redelivery
    assert stored(orders, "fo-11").status == "AWAITING_PAYMENT"
