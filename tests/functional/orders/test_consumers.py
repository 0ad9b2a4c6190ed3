"""The saga's events through OrdersEventsConsumerFunction on moto: once each, in any order, poison parked."""

from __future__ import annotations

from types import ModuleType

from gears.local.lambda_context import LambdaContext
from orders.service import OrderRepository
from tests.functional.orders.conftest import placed_event, saga_event, sqs_event

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
