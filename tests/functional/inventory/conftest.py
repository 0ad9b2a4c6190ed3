"""The inventory's functions in-process against moto: a cold start of the wiring per test (``inventory.bootstrap``
builds its clients, repository, inbox and publisher again, with the test's environment)."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from ecommerce.events import ProductCreated
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared.events import CloudEvent, new_event
from inventory import bootstrap

ADMIN = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
CUSTOMER = {"sub": "customer-1", "cognito:groups": ["customer"], "token_use": "access"}
SUPPORT = {"sub": "support-1", "cognito:groups": ["support"], "token_use": "access"}


class Answer:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.body: Any = json.loads(text) if text else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.body}>"


Call = Callable[..., Answer]


def cold(name: str) -> ModuleType:
    """A function module as a new container runs it: its wiring built again, on first use, from this test's
    environment. (The consumer's inbox is built when its module is first imported; table names are stable across
    tests, so it serves every test.)"""
    for wiring in (bootstrap.dynamodb, bootstrap.stock_repository, bootstrap.inbox, bootstrap.stream_publisher):
        wiring.cache_clear()
    return importlib.import_module(name)


@pytest.fixture
def table_name(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("InventoryPublisherFunction")
    lambda_env("InventoryOrderConsumerFunction")
    return lambda_env("InventoryAdminFunction")["TABLE_NAME"]


@pytest.fixture
def api(table_name: str) -> ModuleType:
    return cold("inventory.api")


@pytest.fixture
def consumers(table_name: str) -> ModuleType:
    return cold("inventory.consumers")


@pytest.fixture
def call(api: ModuleType) -> Call:
    def call(method: str, path: str, *, claims: dict[str, Any] | None = ADMIN, **kwargs: Any) -> Answer:
        handler = api.inventory_read_handler if method == "GET" else api.inventory_admin_handler
        event = http_api_event(method, path, claims=claims, **kwargs)
        return Answer(handler(event, LambdaContext("InventoryFunction", timeout_s=30)))

    return call


def sqs_event(*events: CloudEvent, bodies: list[str] | None = None) -> dict[str, Any]:
    """The Lambda event of an SQS batch whose bodies are these CloudEvents (raw SNS delivery)."""
    texts = [e.to_json() for e in events] + list(bodies or [])
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"rh-{i}",
                "body": text,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:InventoryOrdersQueue",
                "awsRegion": "us-east-1",
            }
            for i, text in enumerate(texts)
        ]
    }


def order_placed(order_id: str, *lines: tuple[str, int], event_id: str | None = None) -> CloudEvent:
    data = {
        "orderId": order_id,
        "userId": "customer-1",
        "lines": [
            {
                "productId": f"p-{sku}",
                "sku": sku,
                "title": f"Product {sku}",
                "quantity": qty,
                "unitPrice": {"amount": 250, "currency": "GBP"},
                "lineTotal": {"amount": 250 * qty, "currency": "GBP"},
            }
            for sku, qty in lines
        ],
        "subtotal": {"amount": 0, "currency": "GBP"},
        "shipping": {"amount": 0, "currency": "GBP"},
        "total": {"amount": 0, "currency": "GBP"},
        "shippingAddress": {"line1": "1 High St", "city": "London", "postcode": "N1 1AA", "country": "GB"},
        "paymentMethod": "pm_card_visa",
        "placedAt": "2026-11-25T10:00:00Z",
    }
    return new_event(
        "OrderPlaced.v1",
        "gears.ecommerce",
        data,
        correlation_id=f"corr-{order_id}",
        subject=order_id,
        event_id=event_id,
    )


def order_paid(order_id: str) -> CloudEvent:
    return new_event("OrderPaid.v1", "gears.orders", {"orderId": order_id, "lines": []}, subject=order_id)


def order_cancelled(order_id: str, paid: bool) -> CloudEvent:
    data = {
        "orderId": order_id,
        "userId": "customer-1",
        "reason": "customer",
        "lines": [],
        "previousStatus": "PAID" if paid else "CONFIRMED",
        "paid": paid,
    }
    return new_event("OrderCancelled.v1", "gears.orders", data, subject=order_id)


def product_created(product_id: str, sku: str, event_id: str | None = None) -> CloudEvent:
    """The catalog's ``ProductCreated.v1`` for a new product, checked against the catalog's own schema."""
    data = {
        "productId": product_id,
        "sku": sku,
        "title": f"Product {sku}",
        "description": "",
        "price": {"amount": 1250, "currency": "GBP"},
        "category": "home",
        "categoryPath": ["home"],
        "brand": None,
        "images": [],
        "attributes": {},
        "status": "active",
        "createdAt": "2026-11-25T09:00:00.000Z",
        "updatedAt": "2026-11-25T09:00:00.000Z",
        "version": 1,
    }
    ProductCreated.model_validate(data)
    return new_event(
        "ProductCreated.v1",
        "gears.ecommerce",
        data,
        correlation_id=f"corr-{product_id}",
        subject=product_id,
        event_id=event_id,
    )


@pytest.fixture
def atomic_moto() -> Iterator[None]:
    """DynamoDB applies each request atomically; moto's in-process backend does not promise that to threads (a
    TransactWrite checks, then writes, then on failure restores a copy of the table taken before). This serialises
    moto's DynamoDB operations so that a concurrency test tests our code, not moto's."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    names = (
        "get_item",
        "put_item",
        "update_item",
        "delete_item",
        "transact_write_items",
        "batch_get_item",
        "batch_write_item",
        "query",
    )
    originals = {name: getattr(DynamoDBBackend, name) for name in names}

    def locked(original: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return run

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, locked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)
