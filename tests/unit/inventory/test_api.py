"""The inventory routes over the in-memory repository, handed in with ``dependency_overrides``: the stock rules'
errors answer as the problems clients know (status, code, title, fields), and a SKU is opened only for a product."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from inventory import api, bootstrap, service
from inventory.domain import OrderLine, StockItem
from tests.unit.inventory.fakes import InMemoryStock

ADMIN = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}


@pytest.fixture
def stock() -> Iterator[InMemoryStock]:
    fake = InMemoryStock()
    for app in (api.read_app, api.admin_app):
        app.dependency_overrides[bootstrap.stock_repository] = lambda: fake
    yield fake
    for app in (api.read_app, api.admin_app):
        app.dependency_overrides.clear()


def call(method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    handler = api.inventory_read_handler if method == "GET" else api.inventory_admin_handler
    raw = handler(http_api_event(method, path, claims=ADMIN, body=body), LambdaContext("Inventory", timeout_s=30))
    return raw["statusCode"], json.loads(raw["body"])


def test_a_put_on_a_sku_with_no_record_and_no_product_is_404_and_opens_nothing(stock: InMemoryStock) -> None:
    status, body = call("PUT", "/inventory/ORPHAN-1", {"threshold": 3})
    assert status == 404, body
    assert body["type"].endswith("/sku-not-found")
    assert "product" in body["detail"]
    assert stock.items == {}
    status, body = call("PUT", "/inventory/ORPHAN-1", {"threshold": 3, "productId": "prod-1"})
    assert status == 201, body
    assert (body["productId"], body["threshold"]) == ("prod-1", 3)


def test_the_rule_errors_keep_their_problem(stock: InMemoryStock) -> None:
    stock.stock("A1", 5)
    service.reserve_for_order(service.ReserveForOrder("o-1", (OrderLine("A1", 4),)), stock)
    status, body = call("PUT", "/inventory/A1", {"delta": -2, "reason": "lost"})
    assert status == 422
    assert (body["title"], body["type"].rsplit("/", 1)[1]) == ("Insufficient stock", "insufficient-stock")
    assert (body["sku"], body["requested"], body["available"]) == ("A1", 2, 1)

    status, body = call("PUT", "/inventory/SL%2F15551", {"threshold": 1, "productId": "prod-2"})
    assert (status, body["title"], body["type"].rsplit("/", 1)[1]) == (400, "Invalid SKU", "invalid-sku")


def test_a_broken_stock_rule_is_422_stock_rule(stock: InMemoryStock) -> None:
    stock.items["A2"] = StockItem("A2", on_hand=1, reserved=-1, product_id="p", version=1)  # a hand edit of the table
    status, body = call("POST", "/inventory/A2/restock", {"quantity": 1})
    assert status == 422
    assert (body["title"], body["type"].rsplit("/", 1)[1]) == ("Stock rule violated", "stock-rule")
    assert body["detail"].startswith("SKU A2 has -1 reserved")
    assert stock.items["A2"].on_hand == 1
