"""An OrderPlaced with a discount, through the orders consumer on moto: GET /orders/{orderId} shows it."""

from __future__ import annotations

from types import ModuleType

from gears.local.lambda_context import LambdaContext
from tests.functional.orders.conftest import placed_event, sqs_event
from tests.functional.orders.test_api import Call
from tests.support.handlers import claims

ANN = claims("user-disc")


def test_the_order_shows_the_discount_checkout_applied(call: Call, consumers: ModuleType) -> None:
    discounted = placed_event(
        "od-1",
        "user-disc",
        discount={"code": "WELCOME5", "amount": {"amount": 500, "currency": "GBP"}},
        total={"amount": 899, "currency": "GBP"},
    )
    plain = placed_event("od-2", "user-disc", discount=None)
    result = consumers.handler(sqs_event(discounted, plain), LambdaContext("OrdersEventsConsumerFunction"))
    assert result == {"batchItemFailures": []}

    shown = call("GET", "/orders/od-1", "/orders/{orderId}", claims=ANN, path_parameters={"orderId": "od-1"})
    assert shown.status == 200, shown
    assert shown.body["discount"] == {"code": "WELCOME5", "amount": {"amount": 500, "currency": "GBP"}}
    assert (shown.body["subtotal"]["amount"], shown.body["total"]["amount"]) == (1000, 899)
    other = call("GET", "/orders/od-2", "/orders/{orderId}", claims=ANN, path_parameters={"orderId": "od-2"})
    assert other.body["discount"] is None
