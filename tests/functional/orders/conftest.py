"""Order management's functions in-process against moto (a cold start of each module per test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared.events import new_event
from orders import bootstrap
from orders.service import OrderRepository
from tests.support.handlers import Answer, clear_container, cold
from tests.unit.orders.fakes import placed_data

FUNCTIONS = ("OrdersReadFunction", "OrdersCancelFunction", "OrdersAdminReadFunction", "OrdersFulfilmentFunction")


@pytest.fixture(autouse=True)
def new_container() -> None:
    """Each test runs in a new container: the ports an earlier test's functions built are built again, from this
    test's environment, on first use."""
    clear_container(bootstrap)


@pytest.fixture
def table_name(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("OrdersPublisherFunction")
    return lambda_env("OrdersEventsConsumerFunction")["TABLE_NAME"]


@pytest.fixture
def consumers(table_name: str) -> ModuleType:
    return cold("orders.consumers")


@pytest.fixture
def api(table_name: str) -> ModuleType:
    return cold("orders.api")


@pytest.fixture
def orders(table_name: str) -> OrderRepository:
    """The orders table as the functions see it."""
    return bootstrap.order_repository()


HANDLERS = {
    ("GET", "/orders"): "read_handler",
    ("GET", "/orders/{orderId}"): "read_handler",
    ("POST", "/orders/{orderId}/cancel"): "cancel_handler",
    ("GET", "/admin/orders"): "admin_read_handler",
    ("POST", "/admin/orders/{orderId}/ship"): "fulfilment_handler",
    ("POST", "/admin/orders/{orderId}/deliver"): "fulfilment_handler",
}


@pytest.fixture
def call(api: ModuleType) -> Callable[..., Answer]:
    def call(method: str, path: str, route: str | None = None, **kw: Any) -> Answer:
        route = route or path
        handler = getattr(api, HANDLERS[(method, route)])
        return Answer(handler(http_api_event(method, path, **kw), LambdaContext("Orders", timeout_s=30)))

    return call


def sqs_event(*envelopes: Any, bodies: list[str] | None = None) -> dict[str, Any]:
    texts = [e.to_json() for e in envelopes] + list(bodies or [])
    return {
        "Records": [
            {"messageId": f"m-{i}", "receiptHandle": f"h-{i}", "body": text, "attributes": {}, "eventSource": "aws:sqs"}
            for i, text in enumerate(texts)
        ]
    }


def placed_event(order_id: str, user_id: str = "user-1", **kw: Any) -> Any:
    return new_event("OrderPlaced.v1", "gears.ecommerce", placed_data(order_id, user_id, **kw), subject=order_id)


def saga_event(type_: str, order_id: str, **data: Any) -> Any:
    return new_event(type_, "gears.test", {"orderId": order_id, **data}, subject=order_id, event_id=str(uuid.uuid4()))


APPROVAL_URL = "https://www.sandbox.paypal.com/checkoutnow?token=5O190127TN364715T"


def approval_event(order_id: str, expires_at: str = "2026-03-01T12:30:00.000Z", **kw: Any) -> Any:
    """``PaymentApprovalRequested.v1`` as the payment service publishes it: the buyer must approve at PayPal."""
    data = {
        "userId": "user-ann",
        "provider": "paypal",
        "paymentIntentId": "5O190127TN364715T",
        "approvalUrl": APPROVAL_URL,
        "expiresAt": expires_at,
        "amount": {"amount": 1399, "currency": "GBP"},
        **kw,
    }
    return saga_event("PaymentApprovalRequested.v1", order_id, **data)
