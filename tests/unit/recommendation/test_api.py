"""The two routes over the in-memory store, handed in with ``dependency_overrides``: the answers' shape, the
limit, and bad input as a clear 400 (an unknown product 404)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from recommendation import api, bootstrap, service
from recommendation import events as ev
from tests.unit.recommendation.fakes import FakeStore, product_data

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def store() -> Iterator[FakeStore]:
    fake = FakeStore()
    for app in (api.related_app, api.me_app):
        app.dependency_overrides[bootstrap.store] = lambda: fake
    try:
        yield fake
    finally:
        for app in (api.related_app, api.me_app):
            app.dependency_overrides.clear()


def get(path: str, route: str, *, query: dict[str, str] | None = None, sub: str | None = None) -> tuple[int, Any]:
    params = {"productId": path.split("/")[2]} if "{productId}" in route else None
    claims = {"sub": sub, "cognito:groups": ["customer"], "token_use": "access"} if sub else None
    event = http_api_event("GET", path, route_key=f"GET {route}", path_parameters=params, query=query, claims=claims)
    handler: Handler = api.me_handler if route == "/me/recommendations" else api.related_handler
    answer = handler(event, LambdaContext("Recommendation"))
    return answer["statusCode"], json.loads(answer["body"])


def stocked(store: FakeStore, *product_ids: str) -> None:
    for p in product_ids:
        service.product_changed(product_data(p), store)
        service.stock_changed(ev.StockLevelChanged.model_validate({"productId": p, "level": "in_stock"}), "t", store)


def test_related_products_as_the_contract_says(store: FakeStore) -> None:
    mug, coaster, teapot = (str(uuid.uuid4()) for _ in range(3))
    stocked(store, mug, coaster, teapot)
    store.related[mug] = [(coaster, 0.75), (teapot, 0.5), (mug, 0.1)]
    status, body = get(f"/products/{mug}/related", "/products/{productId}/related", query={"limit": "1"})
    assert status == 200
    assert body == {
        "productId": mug,
        "basis": "co-purchase",
        "items": [
            {
                "productId": coaster,
                "sku": f"SKU-{coaster[:8]}",
                "title": f"Product {coaster}",
                "price": {"amount": 500, "currency": "GBP"},
                "image": f"https://img.example/{coaster}.jpg",
                "score": 0.75,
            }
        ],
    }


def test_bad_input_is_a_clear_problem(store: FakeStore) -> None:
    status, body = get("/products/p-1/related", "/products/{productId}/related")
    assert (status, body["type"].rsplit("/", 1)[1]) == (400, "invalid-product-id")
    status, body = get(f"/products/{uuid.uuid4()}/related", "/products/{productId}/related")
    assert (status, body["type"].rsplit("/", 1)[1]) == (404, "product-not-found")
    status, body = get("/me/recommendations", "/me/recommendations", sub="u-1", query={"limit": "500"})
    assert (status, body["detail"]) == (400, "limit is a whole number from 1 to 50.")
    status, _ = get("/me/recommendations", "/me/recommendations")
    assert status == 401


def test_a_new_customer_gets_popular_items(store: FakeStore) -> None:
    hit = str(uuid.uuid4())
    stocked(store, hit)
    store.lists["popular"] = [(hit, 12.0)]
    status, body = get("/me/recommendations", "/me/recommendations", sub="u-new")
    assert (status, body["basis"], [i["productId"] for i in body["items"]]) == (200, "popular", [hit])


def test_anyone_sees_what_is_popular_in_the_shop_or_a_category(store: FakeStore) -> None:
    hit, lamp, sold_out = (str(uuid.uuid4()) for _ in range(3))
    stocked(store, hit, lamp)
    service.product_changed(product_data(sold_out), store)  # never in stock: never answered
    store.lists["popular"] = [(sold_out, 20.0), (hit, 12.0), (lamp, 3.0)]
    store.lists["popular#lighting"] = [(lamp, 3.0)]
    status, body = get("/recommendations/popular", "/recommendations/popular", query={"limit": "5"})
    assert (status, body["basis"], body["category"]) == (200, "popular", None)
    assert [i["productId"] for i in body["items"]] == [hit, lamp]
    status, body = get("/recommendations/popular", "/recommendations/popular", query={"category": "lighting"})
    assert (status, body["basis"], [i["productId"] for i in body["items"]]) == (200, "popular-in-category", [lamp])
    status, body = get("/recommendations/popular", "/recommendations/popular", query={"category": "no such/one"})
    assert (status, body["type"].rsplit("/", 1)[1]) == (400, "invalid-category-id")


def test_with_nothing_sold_lately_what_is_popular_is_what_is_trending(store: FakeStore) -> None:
    rising = str(uuid.uuid4())
    stocked(store, rising)
    store.lists["trending"] = [(rising, 1.5)]
    status, body = get("/recommendations/popular", "/recommendations/popular")
    assert (status, body["basis"], [i["productId"] for i in body["items"]]) == (200, "trending", [rising])
