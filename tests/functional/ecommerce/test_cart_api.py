"""The cart function in-process against moto: a customer's cart, priced from the catalog, bounded, expiring."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.functional.ecommerce.conftest import ADMIN, Call

Products = Callable[..., list[dict[str, Any]]]


def test_a_customer_fills_changes_and_empties_the_cart(shop_call: Call, products: Products) -> None:
    mug, plate = products(1, price={"amount": 1250, "currency": "GBP"})[0], products(1)[0]
    assert shop_call("GET", "/cart").body["lines"] == []

    added = shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 2})
    assert added.status == 200, added
    assert added.body["lines"][0]["unitPrice"] == {"amount": 1250, "currency": "GBP"}
    assert added.body["subtotal"] == {"amount": 2500, "currency": "GBP"}
    assert (added.body["shipping"]["amount"], added.body["total"]["amount"]) == (499, 2999)

    shop_call("PUT", f"/cart/items/{plate['productId']}", body={"quantity": 1})
    changed = shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 4})
    assert {li["productId"]: li["quantity"] for li in changed.body["lines"]} == {
        mug["productId"]: 4,
        plate["productId"]: 1,
    }
    assert changed.body["subtotal"]["amount"] == 4 * 1250 + 1250
    assert changed.body["shipping"]["amount"] == 0  # free from 50.00

    removed = shop_call("DELETE", f"/cart/items/{plate['productId']}")
    assert removed.status == 200
    assert [li["productId"] for li in removed.body["lines"]] == [mug["productId"]]
    assert shop_call("DELETE", f"/cart/items/{plate['productId']}").status == 404

    assert shop_call("DELETE", "/cart").status == 204
    assert shop_call("GET", "/cart").body["lines"] == []


def test_the_cart_shows_the_catalogs_current_price(shop_call: Call, call: Call, products: Products) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 3})
    call(
        "PUT",
        f"/products/{mug['productId']}",
        admin=True,
        claims=ADMIN,
        body={**mug, "price": {"amount": 99, "currency": "GBP"}},
    )
    cart = shop_call("GET", "/cart").body
    assert cart["lines"][0]["unitPrice"]["amount"] == 99
    assert cart["subtotal"]["amount"] == 297


def test_an_archived_product_is_flagged_not_dropped(shop_call: Call, call: Call, products: Products) -> None:
    mug, plate = products(2)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    shop_call("PUT", f"/cart/items/{plate['productId']}", body={"quantity": 1})
    assert call("DELETE", f"/products/{plate['productId']}", admin=True, claims=ADMIN).status == 204
    cart = shop_call("GET", "/cart").body
    flagged = {li["productId"]: (li["available"], li.get("reason")) for li in cart["lines"]}
    assert flagged == {mug["productId"]: (True, None), plate["productId"]: (False, "archived")}
    assert cart["subtotal"]["amount"] == mug["price"]["amount"]
    assert cart["checkoutReady"] is False
    again = shop_call("PUT", f"/cart/items/{plate['productId']}", body={"quantity": 2})
    assert (again.status, again.body["type"].rsplit("/", 1)[1]) == (422, "product-unavailable")


def cart_item(table_name: str, user: str) -> dict[str, Any] | None:
    key = {"pk": {"S": f"CART#{user}"}, "sk": {"S": "CART"}}
    return boto3.client("dynamodb").get_item(TableName=table_name, Key=key).get("Item")


@pytest.mark.parametrize(
    ("path_suffix", "body", "status"),
    [
        ("{pid}", {"quantity": 0}, 400),
        ("{pid}", {"quantity": -3}, 400),
        ("{pid}", {"quantity": 100}, 400),
        ("{pid}", {"quantity": 10**12}, 400),
        ("{pid}", {"quantity": "2"}, 400),
        ("{pid}", {"quantity": 2, "price": {"amount": 1, "currency": "GBP"}}, 400),
        ("{pid}", "{not json", 400),
        ("{pid}", None, 400),
        ("no-such-product", {"quantity": 1}, 404),
        ("bad%20id!", {"quantity": 1}, 400),
        ("x" * 200, {"quantity": 1}, 400),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    shop_call: Call, products: Products, table_name: str, path_suffix: str, body: Any, status: int
) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    before = cart_item(table_name, "customer-1")
    answer = shop_call("PUT", "/cart/items/" + path_suffix.format(pid=mug["productId"]), body=body)
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert cart_item(table_name, "customer-1") == before


def test_a_cart_holds_fifty_products_at_most(shop_call: Call, products: Products) -> None:
    made = products(51)
    for product in made[:50]:
        assert shop_call("PUT", f"/cart/items/{product['productId']}", body={"quantity": 1}).status == 200
    full = shop_call("PUT", f"/cart/items/{made[50]['productId']}", body={"quantity": 1})
    assert (full.status, full.body["code"] if "code" in full.body else full.body["type"]) == (
        422,
        "https://gears.dev/problems/cart-full",
    )
    assert shop_call("GET", "/cart").body["lineCount"] == 50


def test_each_customer_has_their_own_cart_and_needs_a_token(shop_call: Call, products: Products) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", user="ann", body={"quantity": 2})
    assert shop_call("GET", "/cart", user="bob").body["lines"] == []
    assert shop_call("DELETE", f"/cart/items/{mug['productId']}", user="bob").status == 404
    assert shop_call("GET", "/cart", user=None).status == 401
    assert shop_call("GET", "/cart", user="ann").body["lines"][0]["quantity"] == 2


def test_a_cart_expires_thirty_days_after_its_last_change(shop_call: Call, products: Products, table_name: str) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    item = cart_item(table_name, "customer-1")
    assert item is not None
    expires = int(item["expiresAt"]["N"])
    assert abs(expires - (time.time() + 30 * 86400)) < 120
    # The TTL sweeper is lazy: a cart past its time is shown empty even while the item is still there.
    client = boto3.client("dynamodb")
    item["expiresAt"] = {"N": str(int(time.time()) - 1)}
    client.put_item(TableName=table_name, Item=item)
    assert shop_call("GET", "/cart").body["lines"] == []
    again = shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 5})
    assert (again.status, [li["quantity"] for li in again.body["lines"]]) == (200, [5])
