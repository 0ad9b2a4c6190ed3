"""The storefront end to end through the running local shop: browse the real catalog, fill a cart, check out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.shop import Customer, Shop

DEMO_ACTIVE_PRODUCTS = 3131  # the Online Retail sample's active products (gears seed)
ADDRESS = {"name": "Ann Shopper", "line1": "1 High Street", "city": "Leeds", "postalCode": "LS1 1AA", "country": "GB"}
CHECKOUT = {"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa"}
LEVELS = {"unknown", "in_stock", "low", "out"}


def problem_code(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]


def leaf_with_products(shop: Shop) -> tuple[str, list[dict[str, Any]]]:
    """A category of the real tree, and its first page of products."""
    stack = list(shop.get("/categories").json()["categories"])
    while stack:
        node = stack.pop(0)
        page = shop.get("/products", params={"category": node["id"], "limit": 20})
        assert page.status_code == 200, page.text
        if page.json()["items"] and not node["children"]:
            return node["id"], page.json()["items"]
        stack = node["children"] + stack
    raise AssertionError("no category has products")


def fill(shop: Shop, customer: Customer, products: list[dict[str, Any]]) -> None:
    for product in products:
        r = shop.put(f"/cart/items/{product['productId']}", token=customer.token, json={"quantity": 1})
        assert r.status_code == 200, r.text


def cart_state(shop: Shop, customer: Customer) -> dict[str, Any]:
    """The customer's cart without each line's live stock view.

    Each line's `availability` is read from inventory's latest `StockLevelChanged` at every read, and other tests
    (and the events they leave in flight) move the shared demo stock while this one runs: what a refused request
    must leave alone is the cart itself.
    """
    cart = shop.get("/cart", token=customer.token).json()
    live = {"available", "availableQuantity", "availability", "reason", "message"}
    return {**cart, "lines": [{k: v for k, v in line.items() if k not in live} for line in cart["lines"]]}


def checkout(shop: Shop, customer: Customer, key: str, body: Any = None, **kw: Any) -> Any:
    return shop.post(
        "/checkout",
        token=customer.token,
        headers={"Idempotency-Key": key},
        json=CHECKOUT if body is None else body,
        **kw,
    )


def test_a_customer_signs_up_browses_fills_a_cart_and_checks_out(shop: Shop) -> None:
    customer = shop.new_customer()
    category, items = leaf_with_products(shop)
    assert all(p["category"] == category for p in items)
    assert all(p["availability"]["level"] in LEVELS for p in items)
    first, second = items[0], items[min(1, len(items) - 1)]
    detail = shop.get(f"/products/{first['productId']}")
    assert detail.status_code == 200
    assert detail.json()["title"] == first["title"]

    assert shop.get("/cart", token=customer.token).json()["lines"] == []
    added = shop.put(f"/cart/items/{first['productId']}", token=customer.token, json={"quantity": 2})
    assert added.status_code == 200, added.text
    assert added.json()["lines"][0]["unitPrice"] == first["price"]
    if second is not first:
        shop.put(f"/cart/items/{second['productId']}", token=customer.token, json={"quantity": 1})
    changed = shop.put(f"/cart/items/{first['productId']}", token=customer.token, json={"quantity": 3})
    assert {li["productId"]: li["quantity"] for li in changed.json()["lines"]}[first["productId"]] == 3
    if second is not first:
        removed = shop.delete(f"/cart/items/{second['productId']}", token=customer.token)
        assert [li["productId"] for li in removed.json()["lines"]] == [first["productId"]]
    cart = shop.get("/cart", token=customer.token).json()
    expected_subtotal = 3 * first["price"]["amount"]
    assert cart["subtotal"]["amount"] == expected_subtotal
    assert cart["total"]["amount"] == expected_subtotal + cart["shipping"]["amount"]

    placed = checkout(shop, customer, str(uuid.uuid4()))
    assert placed.status_code == 202, placed.text
    receipt = placed.json()
    assert receipt["orderId"]
    assert receipt["status"] == "PENDING"
    assert receipt["total"] == cart["total"]
    assert placed.headers["location"] == f"/checkout/{receipt['orderId']}"
    # The resource the 202 points to answers at once (the order itself appears once the saga has it).
    pending = shop.get(placed.headers["location"], token=customer.token)
    assert pending.status_code == 200, pending.text
    assert pending.json()["orderId"] == receipt["orderId"]
    assert pending.json()["order"] == f"/orders/{receipt['orderId']}"
    assert shop.get(placed.headers["location"], token=shop.new_customer().token).status_code == 404
    assert shop.get("/cart", token=customer.token).json()["lines"] == []


def test_paging_through_the_whole_catalog_serves_every_product_once(shop: Shop) -> None:
    seen: list[str] = []
    demo = 0
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = shop.get("/products", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 100
        seen += [p["productId"] for p in body["items"]]
        demo += sum(1 for p in body["items"] if p["createdAt"] < "2020")  # the sample's products date from 2010-11
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break
        assert pages < 200, "the cursor never ends"
    assert len(seen) == len(set(seen)), "a product was served twice"
    assert demo == DEMO_ACTIVE_PRODUCTS
    assert shop.get("/products", params={"cursor": "not-a-cursor"}).status_code == 400


def test_the_same_key_places_one_order_and_a_tampered_price_changes_nothing(shop: Shop) -> None:
    customer = shop.new_customer()
    _, items = leaf_with_products(shop)
    fill(shop, customer, items[:1])
    before = cart_state(shop, customer)

    tampered = {**CHECKOUT, "total": {"amount": 1, "currency": "GBP"}, "lines": [{"unitPrice": {"amount": 1}}]}
    refused = checkout(shop, customer, str(uuid.uuid4()), tampered)
    assert (refused.status_code, problem_code(refused)) == (400, "bad-request")
    price_in_cart = shop.put(
        f"/cart/items/{items[0]['productId']}",
        token=customer.token,
        json={"quantity": 1, "unitPrice": {"amount": 1, "currency": "GBP"}},
    )
    assert price_in_cart.status_code == 400
    assert cart_state(shop, customer) == before

    key = str(uuid.uuid4())
    first = checkout(shop, customer, key)
    again = checkout(shop, customer, key)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert again.json()["orderId"] == first.json()["orderId"]
    assert first.json()["total"] == before["total"]  # the catalog's prices, not the client's
    other = checkout(shop, customer, key, {**CHECKOUT, "paymentMethod": "pm_card_chargeDeclined"})
    assert (other.status_code, problem_code(other)) == (422, "idempotency-key-reused")
    missing = shop.post("/checkout", token=customer.token, json=CHECKOUT)
    assert (missing.status_code, problem_code(missing)) == (400, "idempotency-key-required")
    empty = checkout(shop, customer, str(uuid.uuid4()))
    assert (empty.status_code, problem_code(empty)) == (422, "empty-cart")


def test_admin_only_routes_refuse_customers_and_the_cart_needs_a_token(shop: Shop) -> None:
    customer = shop.new_customer()
    _, items = leaf_with_products(shop)
    product = items[0]
    for method, path, body in [
        ("POST", "/products", {**product, "sku": "E2E-NOPE"}),
        ("PUT", f"/products/{product['productId']}", {**product, "price": {"amount": 1, "currency": "GBP"}}),
        ("DELETE", f"/products/{product['productId']}", None),
    ]:
        r = shop.request(method, path, token=customer.token, json=body)
        assert r.status_code == 403, (method, path, r.text)
    assert shop.get(f"/products/{product['productId']}").json()["price"] == product["price"]
    assert shop.get("/cart").status_code == 401
    assert shop.post("/checkout", json=CHECKOUT, headers={"Idempotency-Key": str(uuid.uuid4())}).status_code == 401


@pytest.mark.parametrize(
    ("what", "send"),
    [
        ("negative quantity", lambda s, t, pid: s.put(f"/cart/items/{pid}", token=t, json={"quantity": -1})),
        ("zero quantity", lambda s, t, pid: s.put(f"/cart/items/{pid}", token=t, json={"quantity": 0})),
        ("huge quantity", lambda s, t, pid: s.put(f"/cart/items/{pid}", token=t, json={"quantity": 10**15})),
        ("unknown product", lambda s, t, pid: s.put(f"/cart/items/{uuid.uuid4()}", token=t, json={"quantity": 1})),
        ("invalid id", lambda s, t, pid: s.put("/cart/items/%27%3B--", token=t, json={"quantity": 1})),
        ("long id", lambda s, t, pid: s.put("/cart/items/" + "a" * 300, token=t, json={"quantity": 1})),
        ("malformed JSON", lambda s, t, pid: s.put(f"/cart/items/{pid}", token=t, data="{quantity: 2")),
        (
            "oversized body",
            lambda s, t, pid: s.put(
                f"/cart/items/{pid}",
                token=t,
                data=b'{"quantity": 1, "x": "' + b"a" * (10 * 1024 * 1024 + 10) + b'"}',
                headers={"content-type": "application/json"},
            ),
        ),
        ("not in cart", lambda s, t, pid: s.delete(f"/cart/items/{uuid.uuid4()}", token=t)),
        (
            "checkout malformed JSON",
            lambda s, t, pid: s.post("/checkout", token=t, data="{", headers={"Idempotency-Key": str(uuid.uuid4())}),
        ),
        (
            "checkout bad country",
            lambda s, t, pid: s.post(
                "/checkout",
                token=t,
                headers={"Idempotency-Key": str(uuid.uuid4())},
                json={**CHECKOUT, "shippingAddress": {**ADDRESS, "country": "United Kingdom"}},
            ),
        ),
    ],
)
def test_bad_input_is_a_clear_4xx_and_the_cart_is_unchanged(shop: Shop, what: str, send: Any) -> None:
    customer = _shared_customer(shop)
    _, items = leaf_with_products(shop)
    pid = items[0]["productId"]
    shop.put(f"/cart/items/{pid}", token=customer.token, json={"quantity": 2})
    before = cart_state(shop, customer)
    r = send(shop, customer.token, pid)
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:300])
    if what == "oversized body":
        assert r.status_code == 413
    elif what in ("unknown product", "not in cart"):
        assert r.status_code == 404
    else:
        assert r.status_code == 400, (what, r.text)
    assert cart_state(shop, customer) == before


_customers: dict[str, Customer] = {}


def _shared_customer(shop: Shop) -> Customer:
    """One customer for the bad-input cases (sign-up costs a mail round trip each)."""
    if "bad-input" not in _customers:
        _customers["bad-input"] = shop.new_customer()
    return _customers["bad-input"]
