"""Search through the running shop: a product created through the catalog API is found, with its facets, within
seconds; repriced, it is found at its new price (and by a price filter); sold out, the in-stock filter drops it;
bad input is a 400 problem naming the parameter."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.saga import restock, wait_until
from tests.support.shop import Customer, Shop

pytestmark = pytest.mark.usefixtures("shop")

SEARCHABLE_S = 60  # "within seconds" locally; this bounds a loaded CI machine, it is not a target


def search(shop: Shop, **query: str) -> dict[str, Any]:
    r = shop.get("/search", params=query)
    assert r.status_code == 200, r.text
    return dict(r.json())


def found(shop: Shop, product_id: str, **query: str) -> dict[str, Any] | None:
    """The product's item in the answer to ``query``, or ``None``."""
    return next((i for i in search(shop, **query)["items"] if i["productId"] == product_id), None)


def a_product(shop: Shop, admin: Customer, word: str, price: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new active product whose title has a word no other product has; what was sent and what was answered."""
    categories = shop.get("/categories").json()["categories"]
    parent = next(c for c in categories if c.get("children"))
    child = parent["children"][0]
    product = {
        "sku": f"SRCH-{uuid.uuid4().hex[:8].upper()}",
        "title": f"Porcelain {word} teapot",
        "description": "Glazed by hand; holds four cups.",
        "price": {"amount": price, "currency": "GBP"},
        "category": child["id"],
        "status": "active",
    }
    r = shop.post("/products", json=product, token=admin.token)
    assert r.status_code == 201, r.text
    return product, {**r.json(), "parent": parent["id"]}


def test_a_new_product_is_found_with_its_facets_then_repriced_then_sold_out(shop: Shop) -> None:
    admin = shop.admin()
    word = f"zq{uuid.uuid4().hex[:10]}"  # letters and digits: one word to the index
    sent, created = a_product(shop, admin, word, 1250)
    product_id = created["productId"]
    restock(shop, admin, sent["sku"], 5, product_id=product_id)

    item = wait_until(
        lambda: (hit := found(shop, product_id, q=word)) and hit["availability"] in ("in_stock", "low") and hit,
        "the new product to be found in stock",
        SEARCHABLE_S,
    )
    assert item["price"] == {"amount": 1250, "currency": "GBP"}
    assert item["categoryPath"][-1] == sent["category"]
    answer = search(shop, q=word)
    assert answer["total"] == 1
    assert answer["query"] == word
    assert {"id": created["parent"], "count": 1} in answer["facets"]["categories"]
    assert {"id": sent["category"], "count": 1} in answer["facets"]["categories"]
    assert [b["count"] for b in answer["facets"]["priceBands"] if b["min"] <= 1250 and (b["max"] or 10**9) > 1250] == [
        1
    ]
    assert found(shop, product_id, q=word, category=created["parent"])  # the top category finds its subcategory's
    assert found(shop, product_id, q=word[:-2])  # search-as-you-type

    replaced = {**sent, "price": {"amount": 4999, "currency": "GBP"}, "version": created["version"]}
    r = shop.put(f"/products/{product_id}", json=replaced, token=admin.token)
    assert r.status_code == 200, r.text
    wait_until(
        lambda: (hit := found(shop, product_id, q=word)) and hit["price"]["amount"] == 4999,
        "the new price to be searchable",
        SEARCHABLE_S,
    )
    assert found(shop, product_id, q=word, minPrice="4000", maxPrice="5000")
    assert not found(shop, product_id, q=word, maxPrice="1250")

    r = shop.put(f"/inventory/{sent['sku']}", json={"delta": -5, "reason": "e2e: sold out"}, token=admin.token)
    assert r.status_code == 200, r.text
    wait_until(
        lambda: not found(shop, product_id, q=word, inStock="true"), "the in-stock filter to drop it", SEARCHABLE_S
    )
    sold_out = found(shop, product_id, q=word, inStock="false")
    assert sold_out
    assert sold_out["availability"] == "out"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"q": "x" * 201}, "q"),
        ({"minPrice": "-1"}, "minPrice"),
        ({"minPrice": "900", "maxPrice": "100"}, "minPrice"),
        ({"inStock": "maybe"}, "inStock"),
        ({"sort": "random"}, "sort"),
        ({"category": "../../etc"}, "category"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(shop: Shop, query: dict[str, str], parameter: str) -> None:
    r = shop.get("/search", params=query)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["parameter"] == parameter


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "1000"}, {"cursor": "garbage!"}])
def test_bad_pages_are_400(shop: Shop, query: dict[str, str]) -> None:
    assert shop.get("/search", params=query).status_code == 400


@pytest.mark.parametrize("text", ["title:*", '"unbalanced', "AND OR NOT", "((("])
def test_query_syntax_is_searched_as_text(shop: Shop, text: str) -> None:
    assert isinstance(search(shop, q=text)["total"], int)
