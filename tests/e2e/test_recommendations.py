"""Recommendations through the running shop: a customer's paid purchases change their list (popular while new;
then from their history, without what they bought), co-purchases make related products, the demo history gives a
demo product related items, and bad input is a clear 4xx."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ecommerce.catalog.domain import product_id_for_sku
from tests.support.saga import add_to_cart, checkout, new_product, wait_for, wait_until
from tests.support.shop import Customer, Shop

pytestmark = pytest.mark.usefixtures("shop")

# The demo catalog's best seller (WHITE HANGING HEART T-LIGHT HOLDER): the history backfill gives it co-purchases.
DEMO_SKU = "85123A"


def mine(shop: Shop, customer: Customer) -> dict[str, Any]:
    r = shop.get("/me/recommendations", token=customer.token, params={"limit": 50})
    assert r.status_code == 200, r.text
    return dict(r.json())


def ids(answer: dict[str, Any]) -> list[str]:
    return [item["productId"] for item in answer["items"]]


def pay_for(shop: Shop, customer: Customer, *product_ids: str) -> None:
    for product_id in product_ids:
        add_to_cart(shop, customer, product_id, 1)
    wait_for(shop, customer.token, checkout(shop, customer), "PAID")


def test_a_customers_purchases_change_their_recommendations(shop: Shop) -> None:
    admin = shop.admin()
    teapot = new_product(shop, admin, on_hand=5)["productId"]
    cosy = new_product(shop, admin, on_hand=5)["productId"]
    someone = shop.new_customer()
    pay_for(shop, someone, teapot, cosy)  # bought together

    customer = shop.new_customer()
    new = mine(shop, customer)
    assert new["basis"] in ("popular", "trending")

    pay_for(shop, customer, teapot)

    def from_history() -> dict[str, Any] | None:
        answer = mine(shop, customer)
        return answer if answer["basis"] == "history" and cosy in ids(answer) else None

    answer = wait_until(from_history, "the customer's list to come from their purchase")
    assert teapot not in ids(answer)
    for item in answer["items"]:
        assert item["price"]["currency"] == "GBP"
        assert isinstance(item["score"], float)

    def co_purchased() -> dict[str, Any] | None:
        r = shop.get(f"/products/{teapot}/related")
        assert r.status_code == 200, r.text
        return dict(r.json()) if r.json()["basis"] == "co-purchase" else None

    related = wait_until(co_purchased, "the teapot's related list from the two bought together")
    assert cosy in ids(related)
    assert teapot not in ids(related)


def test_a_demo_product_has_co_purchase_items_after_the_history_backfill(shop: Shop) -> None:
    product_id = product_id_for_sku(DEMO_SKU)

    def co_purchased() -> dict[str, Any] | None:
        r = shop.get(f"/products/{product_id}/related", params={"limit": 10})
        return dict(r.json()) if r.status_code == 200 and r.json()["basis"] == "co-purchase" else None

    related = wait_until(co_purchased, f"{DEMO_SKU} to have co-purchase items from the demo history")
    assert 1 <= len(related["items"]) <= 10
    assert product_id not in ids(related)
    scores = [item["score"] for item in related["items"]]
    assert scores == sorted(scores, reverse=True)


def test_bad_input_is_a_clear_4xx(shop: Shop) -> None:
    product_id = product_id_for_sku(DEMO_SKU)
    for path, params in (
        ("/products/not-a-uuid/related", {}),
        (f"/products/{product_id}/related", {"limit": "0"}),
        (f"/products/{product_id}/related", {"limit": "51"}),
        (f"/products/{product_id}/related", {"limit": "x" * 500}),
    ):
        r = shop.get(path, params=params)
        assert r.status_code == 400, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    unknown = shop.get(f"/products/{uuid.uuid4()}/related")
    assert (unknown.status_code, unknown.json()["type"].rsplit("/", 1)[1]) == (404, "product-not-found")
    assert shop.get("/me/recommendations").status_code == 401
    customer = shop.new_customer()
    assert shop.get("/me/recommendations", token=customer.token, params={"limit": "-3"}).status_code == 400
