"""Discount codes through the running shop: an admin makes one, customers check out with it at the same moment,
and the code discounts exactly as many orders as its limit allows."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.saga import ADDRESS, add_to_cart, new_product, wait_for
from tests.support.shop import Customer, Shop

pytestmark = pytest.mark.usefixtures("shop")

BUYERS = 20
LIMIT = 5


def new_code(shop: Shop, admin: Customer, **terms: Any) -> str:
    code = f"E2E{uuid.uuid4().hex[:8].upper()}"
    r = shop.post("/admin/discounts", json={"code": code.lower(), **terms}, token=admin.token)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == code  # normalised to upper case
    return code


def checkout_with(shop: Shop, customer: Customer, code: str | None) -> Any:
    body: dict[str, Any] = {"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa"}
    if code is not None:
        body["discountCode"] = code
    return shop.post("/checkout", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, token=customer.token)


def test_a_code_discounts_exactly_its_limit_with_twenty_buyers_at_once(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=BUYERS * 2, price=6000)
    code = new_code(shop, admin, percentOff=25, usageLimit=LIMIT)
    buyers = [shop.new_customer() for _ in range(BUYERS)]
    for buyer in buyers:
        add_to_cart(shop, buyer, product["productId"], 1)

    with ThreadPoolExecutor(BUYERS) as pool:
        answers = list(pool.map(lambda b: checkout_with(shop, b, code), buyers))

    accepted = [(b, r.json()) for b, r in zip(buyers, answers, strict=True) if r.status_code == 202]
    refused = [r for r in answers if r.status_code != 202]
    assert len(accepted) == LIMIT, [r.text for r in answers]
    # Every other buyer is told why, as a problem; nothing was placed for them.
    assert {(r.status_code, r.json()["type"].rsplit("/", 1)[-1]) for r in refused} <= {
        (422, "discount-exhausted"),
        (409, "discount-busy"),
    }, [r.text for r in refused]
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in refused)
    for buyer, placed in accepted:
        assert placed["discount"] == {"code": code, "amount": {"amount": 1500, "currency": "GBP"}}, placed
        order = wait_for(shop, buyer.token, placed["orderId"], "PAID")
        assert order["discount"]["code"] == code
        # 60.00 - 25 %: shipping is free from 50.00, decided on the subtotal before the discount
        assert order["total"]["amount"] == 4500
    # A refused buyer's cart is still there: they can buy without the code.
    refused_buyer = next(b for b, r in zip(buyers, answers, strict=True) if r.status_code != 202)
    assert checkout_with(shop, refused_buyer, None).status_code == 202

    r = shop.get(f"/admin/discounts/{code}", token=admin.token)
    assert r.status_code == 200, r.text
    assert (r.json()["used"], r.json()["remaining"]) == (LIMIT, 0)


def test_a_retried_checkout_uses_the_code_once(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=5, price=1000)
    code = new_code(shop, admin, amountOff={"amount": 200, "currency": "GBP"}, usageLimit=2)
    buyer = shop.new_customer()
    add_to_cart(shop, buyer, product["productId"], 1)
    body = {"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa", "discountCode": code}
    key = uuid.uuid4().hex
    first = shop.post("/checkout", json=body, headers={"Idempotency-Key": key}, token=buyer.token)
    again = shop.post("/checkout", json=body, headers={"Idempotency-Key": key}, token=buyer.token)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert first.json()["orderId"] == again.json()["orderId"]
    assert shop.get(f"/admin/discounts/{code}", token=admin.token).json()["used"] == 1


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        ({"validUntil": "2001-01-01T00:00:00Z"}, "discount-expired"),
        ({"validFrom": "2999-01-01T00:00:00Z"}, "discount-not-yet-valid"),
        ({"minSubtotal": {"amount": 100000, "currency": "GBP"}}, "discount-below-minimum"),
        ({"active": False}, "discount-inactive"),
    ],
)
def test_a_code_that_does_not_apply_places_nothing(shop: Shop, terms: dict[str, Any], problem: str) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=2, price=1000)
    code = new_code(shop, admin, percentOff=10, **terms)
    buyer = shop.new_customer()
    add_to_cart(shop, buyer, product["productId"], 1)
    r = checkout_with(shop, buyer, code)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith(problem)
    assert shop.get("/orders", token=buyer.token).json()["items"] == []
    assert shop.get(f"/admin/discounts/{code}", token=admin.token).json()["used"] == 0


def test_an_unknown_code_is_refused(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=2, price=1000)
    buyer = shop.new_customer()
    add_to_cart(shop, buyer, product["productId"], 1)
    r = checkout_with(shop, buyer, "NO-SUCH-CODE")
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("discount-unknown")
