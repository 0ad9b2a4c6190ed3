"""The e-commerce functions in-process against moto: every port built anew for each test (``bootstrap.reset``),
categories seeded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from ecommerce import bootstrap
from ecommerce.catalog.domain import Category
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext

ADMIN = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
CUSTOMER = {"sub": "customer-1", "cognito:groups": ["customer"], "token_use": "access"}
CATEGORIES = [
    Category("home", "Home", None, 1),
    Category("mugs", "Mugs", "home", 1),
    Category("plates", "Plates", "home", 2),
    Category("toys", "Toys", None, 2),
]


class Answer:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.status: int = raw["statusCode"]
        self.headers: dict[str, str] = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.body: Any = json.loads(text) if text else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.body}>"


Call = Callable[..., Answer]


@pytest.fixture(autouse=True)
def fresh_ports() -> Iterator[None]:
    """Each test's functions build their ports (clients, tables, the cached category tree) from its own cloud."""
    bootstrap.reset()
    yield
    bootstrap.reset()


@pytest.fixture
def table_name(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("EcommercePublisherFunction")
    return lambda_env("CatalogAdminFunction")["TABLE_NAME"]


@pytest.fixture
def api(table_name: str) -> ModuleType:
    from ecommerce.catalog import api
    from ecommerce.catalog.store import DynamoCategorySource

    DynamoCategorySource(table_name).put_many(CATEGORIES)
    return api


@pytest.fixture
def call(api: ModuleType) -> Call:
    def call(method: str, path: str, *, admin: bool = False, **kwargs: Any) -> Answer:
        handler = api.catalog_admin_handler if admin else api.catalog_read_handler
        event = http_api_event(method, path, **kwargs)
        return Answer(handler(event, LambdaContext("CatalogFunction", timeout_s=30)))

    return call


def new_product(sku: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku,
        "title": f"Product {sku}",
        "price": {"amount": 1250, "currency": "GBP"},
        "category": "mugs",
        "status": "active",
    }
    body.update(overrides)
    return body


# -- cart, checkout, availability ------------------------------------------------------------------------------------
def claims_for(user_id: str) -> dict[str, Any]:
    return {"sub": user_id, "cognito:groups": ["customer"], "token_use": "access"}


ADDRESS = {"name": "Ann Shopper", "line1": "1 High Street", "city": "Leeds", "postalCode": "LS1 1AA", "country": "GB"}


def checkout_body(**overrides: Any) -> dict[str, Any]:
    return {"shippingAddress": dict(ADDRESS), "paymentMethod": "pm_card_visa", **overrides}


@pytest.fixture
def cart_api(table_name: str, lambda_env: Callable[[str], dict[str, str]]) -> ModuleType:
    from ecommerce.cart import api

    lambda_env("CartFunction")
    return api


@pytest.fixture
def shop_call(call: Call, cart_api: ModuleType) -> Call:
    """``shop_call(method, path, user=...)``: the cart and checkout functions as ``user`` (no user: no token);
    catalog routes go to the catalog functions as ``call`` does."""

    def shop(method: str, path: str, *, user: str | None = "customer-1", **kwargs: Any) -> Answer:
        claims = claims_for(user) if user else None
        if path.startswith("/cart"):
            handler = cart_api.cart_handler
        elif path.startswith("/checkout"):
            handler = cart_api.checkout_handler
        else:
            return call(method, path, **kwargs)
        event = http_api_event(method, path, claims=claims, **kwargs)
        return Answer(handler(event, LambdaContext("CartFunction", timeout_s=30)))

    return shop


@pytest.fixture
def products(call: Call) -> Callable[..., list[dict[str, Any]]]:
    """Create active products through the admin API: ``products(2, amount=1250)``."""

    def make(count: int = 1, **overrides: Any) -> list[dict[str, Any]]:
        made = []
        for _ in range(count):
            sku = "F-" + uuid.uuid4().hex[:10].upper()
            answer = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku, **overrides))
            assert answer.status == 201, answer
            made.append(answer.body)
        return made

    return make
