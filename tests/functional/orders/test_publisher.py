"""The orders table's stream through OrdersPublisherFunction onto the orders topic, exactly per docs/events.md."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.functional.orders.conftest import approval_event, placed_event, saga_event, sqs_event
from tests.support.handlers import ADMIN, Answer, cold
from tests.support.topics import drain, stream_batch, subscribe_queue


def test_each_transition_publishes_its_event_once(
    consumers: ModuleType, call: Callable[..., Answer], cloud: Stack, lambda_env: Callable[[str], dict[str, str]]
) -> None:
    env = lambda_env("OrdersPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("orders.publisher")
    ctx = LambdaContext("OrdersEventsConsumerFunction")
    consumers.handler(
        sqs_event(
            placed_event("po-1", "user-ann"),
            saga_event("StockReserved.v1", "po-1"),
            saga_event("PaymentSucceeded.v1", "po-1", paymentIntentId="pi", amount=1399),
        ),
        ctx,
    )
    call(
        "POST",
        "/admin/orders/po-1/ship",
        "/admin/orders/{orderId}/ship",
        claims=ADMIN,
        path_parameters={"orderId": "po-1"},
        body={"carrier": "dhl", "trackingNumber": "1234567890"},
    )
    call(
        "POST",
        "/admin/orders/po-1/deliver",
        "/admin/orders/{orderId}/deliver",
        claims=ADMIN,
        path_parameters={"orderId": "po-1"},
    )
    consumers.handler(sqs_event(placed_event("po-2", "user-ann"), saga_event("StockReserved.v1", "po-2")), ctx)
    call(
        "POST",
        "/orders/po-2/cancel",
        "/orders/{orderId}/cancel",
        claims={"sub": "user-ann", "token_use": "access"},
        path_parameters={"orderId": "po-2"},
    )

    batch = stream_batch(cloud, "OrdersTable")
    assert publisher.handler(batch, LambdaContext("OrdersPublisherFunction")) == {"batchItemFailures": []}
    events = drain(queue)
    assert [(e.subject, e.type) for e in events] == [
        ("po-1", "OrderConfirmed.v1"),
        ("po-1", "OrderPaid.v1"),
        ("po-1", "OrderShipped.v1"),
        ("po-1", "OrderDelivered.v1"),
        ("po-2", "OrderConfirmed.v1"),
        ("po-2", "OrderCancelled.v1"),
    ]
    confirmed, paid, shipped, delivered, _, cancelled = events
    assert confirmed.data == {
        "orderId": "po-1",
        "userId": "user-ann",
        "total": {"amount": 1399, "currency": "GBP"},
        "paymentMethod": "pm_card_visa",
    }
    assert paid.data["lines"][0]["sku"] == "SKU-1"
    assert paid.data["lines"][0]["quantity"] == 2
    assert shipped.data["carrier"] == "dhl"
    assert shipped.data["trackingNumber"] == "1234567890"
    assert delivered.data["deliveredAt"]
    assert cancelled.data["reason"] == "customer_request"
    assert cancelled.data["previousStatus"] == "CONFIRMED"
    assert cancelled.data["paid"] is False
    assert cancelled.data["lines"]
    assert all(e.source == "gears.orders" for e in events)

    # A retried batch publishes the very same ids.
    publisher.handler(batch, LambdaContext("OrdersPublisherFunction"))
    assert [e.id for e in drain(queue)] == [e.id for e in events]


def test_the_wait_for_a_paypal_buyer_publishes_nothing_of_its_own(
    consumers: ModuleType, call: Callable[..., Answer], cloud: Stack, lambda_env: Callable[[str], dict[str, str]]
) -> None:
    env = lambda_env("OrdersPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("orders.publisher")
    ctx = LambdaContext("OrdersEventsConsumerFunction")
    for order_id in ("po-3", "po-4"):
        consumers.handler(
            sqs_event(
                placed_event(order_id, "user-ann", paymentMethod="paypal"),
                saga_event("StockReserved.v1", order_id),
                approval_event(order_id),
            ),
            ctx,
        )
    consumers.handler(
        sqs_event(saga_event("PaymentSucceeded.v1", "po-3", paymentIntentId="5O190127TN364715T", amount=1399)), ctx
    )
    call(
        "POST",
        "/orders/po-4/cancel",
        "/orders/{orderId}/cancel",
        claims={"sub": "user-ann", "token_use": "access"},
        path_parameters={"orderId": "po-4"},
    )

    assert publisher.handler(stream_batch(cloud, "OrdersTable"), LambdaContext("Publisher")) == {
        "batchItemFailures": []
    }
    events = drain(queue)
    assert [(e.subject, e.type) for e in events] == [
        ("po-3", "OrderConfirmed.v1"),
        ("po-4", "OrderConfirmed.v1"),
        ("po-3", "OrderPaid.v1"),
        ("po-4", "OrderCancelled.v1"),
    ]
    assert events[0].data["paymentMethod"] == "paypal"
    cancelled = events[-1]
    # Inventory releases the reservation and payment voids PayPal's order, as for an order cancelled CONFIRMED.
    assert (cancelled.data["previousStatus"], cancelled.data["paid"]) == ("AWAITING_PAYMENT", False)
