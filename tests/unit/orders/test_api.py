"""The order routes over the in-memory repository, handed in with ``dependency_overrides``: the order's rule errors
answer as problems with the code, title and fields clients know, and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from orders import api, bootstrap, service
from orders import events as ev
from orders.domain import OrderStatus
from orders.service import EventContext
from tests.unit.orders.fakes import FakeOrders, placed_data

ANN = {"sub": "user-ann", "cognito:groups": ["customer"], "token_use": "access"}
ADMIN = {"sub": "admin-1", "cognito:groups": ["admin", "customer"], "token_use": "access"}
APPS = (api.read_app, api.cancel_app, api.admin_read_app, api.fulfilment_app)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def orders() -> Iterator[FakeOrders]:
    fake = FakeOrders()
    for app in APPS:
        app.dependency_overrides[bootstrap.order_repository] = lambda: fake
    yield fake
    for app in APPS:
        app.dependency_overrides.clear()


def paid(orders: FakeOrders, order_id: str) -> None:
    """An order of Ann's, placed, reserved and paid."""

    def event(type_: str) -> EventContext:
        return EventContext(type_, f"{type_}-{order_id}")

    placed = ev.OrderPlaced.model_validate(placed_data(order_id, "user-ann"))
    service.place_order(service.PlaceOrder(placed, event(ev.ORDER_PLACED)), orders)
    service.confirm_order(service.ConfirmOrder(ev.StockReserved(orderId=order_id), event(ev.STOCK_RESERVED)), orders)
    charge = ev.PaymentSucceeded.model_validate({"orderId": order_id, "paymentIntentId": "pi", "amount": 1399})
    service.record_payment(service.RecordPayment(charge, event(ev.PAYMENT_SUCCEEDED)), orders)


def call(handler: Handler, method: str, path: str, route: str, order_id: str, **kw: Any) -> dict[str, Any]:
    """The answer: ``status``, ``contentType`` and the ``body`` as JSON."""
    event = http_api_event(method, path, route_key=f"{method} {route}", path_parameters={"orderId": order_id}, **kw)
    raw = handler(event, LambdaContext("Orders", timeout_s=30))
    return {"status": raw["statusCode"], "contentType": raw["headers"]["Content-Type"], "body": json.loads(raw["body"])}


def ship(order_id: str, carrier: str, tracking_number: str) -> dict[str, Any]:
    body = {"carrier": carrier, "trackingNumber": tracking_number}
    path, route = f"/admin/orders/{order_id}/ship", "/admin/orders/{orderId}/ship"
    return call(api.fulfilment_handler, "POST", path, route, order_id, claims=ADMIN, body=body)


def test_a_change_the_status_forbids_is_a_422_order_state_problem_with_the_status(orders: FakeOrders) -> None:
    paid(orders, "uo-1")
    assert ship("uo-1", "dhl", "1234567890")["status"] == 200
    path, route = "/orders/uo-1/cancel", "/orders/{orderId}/cancel"
    late = call(api.cancel_handler, "POST", path, route, "uo-1", claims=ANN)
    assert late["status"] == 422
    assert late["contentType"] == "application/problem+json"
    problem = late["body"]
    assert problem["type"] == "https://gears.dev/problems/order-state"
    assert problem["title"] == "Not allowed in the order's current state"
    assert problem["detail"] == "An order that is SHIPPED can no longer be cancelled."
    assert problem["orderStatus"] == "SHIPPED"
    assert orders.items["uo-1"].status is OrderStatus.SHIPPED

    again = ship("uo-1", "dhl", "1234567890")
    assert (again["status"], again["body"]["orderStatus"]) == (422, "SHIPPED")


def test_a_tracking_number_not_of_the_carrier_is_a_400_invalid_shipment_problem(orders: FakeOrders) -> None:
    paid(orders, "uo-2")
    bad = ship("uo-2", "dhl", "ABCDEFGHIJ")
    assert bad["status"] == 400
    assert bad["contentType"] == "application/problem+json"
    problem = bad["body"]
    assert problem["type"] == "https://gears.dev/problems/invalid-shipment"
    assert problem["title"] == "Invalid shipment"
    assert problem["detail"] == "'ABCDEFGHIJ' is not a dhl tracking number."
    assert orders.items["uo-2"].status is OrderStatus.PAID
