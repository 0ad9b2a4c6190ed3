"""The HTTP functions over in-memory ports (swapped in through the resolvers' ``dependency_overrides``): what a
client sees of the rules, the error table and the new routes, without a cloud."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from ecommerce import bootstrap
from ecommerce.cart import api as cart_api
from ecommerce.catalog import api as catalog_api
from ecommerce.catalog.domain import Availability, Money, Product, ProductDetails, ProductStatus, StockLevel
from ecommerce.catalog.service import CategoryCatalog
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from tests.unit.ecommerce.fakes import (
    TREE,
    CatalogLookup,
    InMemoryCarts,
    InMemoryCategories,
    InMemoryCheckouts,
    InMemoryDiscounts,
    InMemoryProducts,
    Monotonic,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADMIN = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
ADDRESS = {"name": "Ann", "line1": "1 High St", "city": "Leeds", "postalCode": "LS1 1AA", "country": "GB"}
CHECKOUT = {"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa"}


@dataclass
class Shop:
    products: InMemoryProducts
    carts: InMemoryCarts
    checkouts: InMemoryCheckouts

    def product(self, sku: str, available: int | None = None) -> Product:
        details = ProductDetails(f"Item {sku}", Money(1000, "GBP"), "mugs", status=ProductStatus.ACTIVE)
        product = self.products.add(Product.new(sku, details, NOW))
        if available is not None:
            product = replace(product, availability=Availability(StockLevel.LOW, available, "2024-05-01T12:00:00.000Z"))
            self.products.items[product.product_id] = product
        return product


@pytest.fixture
def shop() -> Iterator[Shop]:
    products = InMemoryProducts()
    carts = InMemoryCarts()
    discounts = InMemoryDiscounts()
    world = Shop(products, carts, InMemoryCheckouts(carts, discounts))
    categories = CategoryCatalog(InMemoryCategories(TREE), clock=Monotonic())
    overrides = {
        bootstrap.product_repository: lambda: world.products,
        bootstrap.category_catalog: lambda: categories,
        bootstrap.cart_repository: lambda: world.carts,
        bootstrap.product_lookup: lambda: CatalogLookup(world.products),
        bootstrap.checkout_store: lambda: world.checkouts,
        bootstrap.discount_repository: lambda: discounts,
    }
    apps = (catalog_api.read_app, catalog_api.admin_app, cart_api.cart_app, cart_api.checkout_app)
    for app in apps:
        app.dependency_overrides.update(overrides)
    yield world
    for app in apps:
        app.dependency_overrides.clear()


def call(handler: Any, method: str, path: str, user: str | None = "u1", **kwargs: Any) -> tuple[int, dict, Any]:
    claims = kwargs.pop("claims", None) or (
        {"sub": user, "cognito:groups": ["customer"], "token_use": "access"} if user else None
    )
    raw = handler(http_api_event(method, path, claims=claims, **kwargs), LambdaContext("F", timeout_s=30))
    headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    return raw["statusCode"], headers, json.loads(raw["body"]) if raw.get("body") else None


def test_a_sku_with_a_slash_is_a_400_naming_the_rule(shop: Shop) -> None:
    body = {"sku": "SL/15551", "title": "Sign", "price": {"amount": 100, "currency": "GBP"}, "category": "mugs"}
    status, headers, problem = call(catalog_api.catalog_admin_handler, "POST", "/products", claims=ADMIN, body=body)
    assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert (problem["type"].rsplit("/", 1)[1], problem["title"]) == ("invalid-sku", "Invalid SKU")
    assert "no '/'" in problem["detail"]
    assert shop.products.items == {}


def test_a_cart_short_of_stock_is_shown_so_and_refused_at_checkout(shop: Shop) -> None:
    mug = shop.product("MUG", available=3)
    status, _, cart = call(cart_api.cart_handler, "PUT", f"/cart/items/{mug.product_id}", body={"quantity": 5})
    assert status == 200
    [line] = cart["lines"]
    assert (line["available"], line["availableQuantity"], line["message"]) == (False, 3, "only 3 left")
    assert cart["checkoutReady"] is False

    headers = {"Idempotency-Key": str(uuid.uuid4())}
    status, _, problem = call(cart_api.checkout_handler, "POST", "/checkout", headers=headers, body=CHECKOUT)
    assert (status, problem["type"].rsplit("/", 1)[1], problem["title"]) == (
        422,
        "products-unavailable",
        "Cart rule violated",
    )
    assert [(u["sku"], u["quantity"], u["availableQuantity"]) for u in problem["unavailable"]] == [("MUG", 5, 3)]
    assert shop.checkouts.orders == {}


def test_a_checkout_is_read_back_at_its_location_by_its_customer_only(shop: Shop) -> None:
    mug = shop.product("MUG")
    call(cart_api.cart_handler, "PUT", f"/cart/items/{mug.product_id}", body={"quantity": 1})
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    status, answered, receipt = call(cart_api.checkout_handler, "POST", "/checkout", headers=headers, body=CHECKOUT)
    assert (status, answered["location"]) == (202, f"/checkout/{receipt['orderId']}")

    status, _, shown = call(cart_api.checkout_handler, "GET", answered["location"])
    assert (status, shown) == (200, {**receipt, "order": f"/orders/{receipt['orderId']}"})
    status, _, problem = call(cart_api.checkout_handler, "GET", answered["location"], user="u2")
    assert (status, problem["type"].rsplit("/", 1)[1]) == (404, "checkout-not-found")
    assert call(cart_api.checkout_handler, "GET", answered["location"], user=None)[0] == 401


def test_a_paypal_checkout_answers_the_link_to_paypal_at_the_api_s_public_address(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_API_URL", "https://api.shop.test")
    mug = shop.product("MUG")
    call(cart_api.cart_handler, "PUT", f"/cart/items/{mug.product_id}", body={"quantity": 1})
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {**CHECKOUT, "paymentMethod": "paypal"}
    status, answered, receipt = call(cart_api.checkout_handler, "POST", "/checkout", headers=headers, body=body)
    assert status == 202, receipt
    link = f"https://api.shop.test/payments/paypal/approve?orderId={receipt['orderId']}"
    assert receipt["payment"] == {"method": "paypal", "approvalUrl": link}
    assert call(cart_api.checkout_handler, "GET", answered["location"])[2]["payment"] == receipt["payment"]


@pytest.mark.parametrize("method", ["PayPal", "paypal ", "paypal_wallet", "pm_", "pm_a-b", "stripe", "", 42])
def test_a_payment_method_neither_a_card_nor_paypal_is_a_400_naming_both(shop: Shop, method: Any) -> None:
    mug = shop.product("MUG")
    call(cart_api.cart_handler, "PUT", f"/cart/items/{mug.product_id}", body={"quantity": 1})
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {**CHECKOUT, "paymentMethod": method}
    status, _, problem = call(cart_api.checkout_handler, "POST", "/checkout", headers=headers, body=body)
    assert (status, problem["type"].rsplit("/", 1)[1]) == (400, "bad-request"), problem
    [error] = problem["errors"]
    assert error["field"] == "paymentMethod"
    assert '"pm_"' in error["message"]
    assert '"paypal"' in error["message"]
    assert shop.checkouts.orders == {}


def test_a_checkout_stored_before_paypal_reads_as_paid_by_card(shop: Shop) -> None:
    receipt = {
        "orderId": "order-from-before",
        "status": "PENDING",
        "lines": [],
        "subtotal": {"amount": 1000, "currency": "GBP"},
        "shipping": {"amount": 499, "currency": "GBP"},
        "total": {"amount": 1499, "currency": "GBP"},
        "placedAt": "2024-05-01T12:00:00.000Z",
    }
    shop.checkouts.receipts[("u1", "order-from-before")] = receipt
    status, _, shown = call(cart_api.checkout_handler, "GET", "/checkout/order-from-before")
    assert status == 200, shown
    assert (shown["payment"], shown["discount"]) == ({"method": "card", "approvalUrl": None}, None)
