"""Broken object-level and function-level authorization: who may reach whose data and which functions.

With the routes built so far, per-user data is the caller's own account (/me): the checks are that no request
shape makes /me show another user, and that customers and support staff cannot reach admin functions (403,
with nothing done). Order and ticket routes are not built yet; their owner checks go through the same
``require_owner`` (404 for another user's resource, unit-tested in tests/unit/auth/test_caller.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.security.helpers import claims_of, user_id, with_roles
from tests.support.shop import Customer, Shop

PRODUCT = {
    "sku": "SEC-{}",
    "title": "Security teapot",
    "description": "Made by an attacker",
    "price": {"amount": 1, "currency": "GBP"},
    "category": "x",
    "status": "active",
}


@pytest.fixture(scope="module")
def alice(shop: Shop) -> Customer:
    return shop.new_customer()


@pytest.fixture(scope="module")
def bob(shop: Shop) -> Customer:
    return shop.new_customer()


@pytest.fixture(scope="module")
def support(shop: Shop) -> Customer:
    return with_roles(shop, "support")


def roles_of(shop: Shop, customer: Customer) -> list[str]:
    return list(claims_of(shop.login(customer.email, customer.password)["accessToken"]).get("cognito:groups", []))


# -- object level ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "how",
    [
        {"params": {"userId": "{bob}"}},
        {"params": {"sub": "{bob}"}},
        {"headers": {"x-user-id": "{bob}"}},
        {"headers": {"x-amzn-oidc-identity": "{bob}"}},
    ],
    ids=["query userId", "query sub", "x-user-id header", "forwarded identity header"],
)
def test_me_shows_the_caller_whatever_the_request_says(shop: Shop, alice: Customer, bob: Customer, how: dict) -> None:
    bob_id = user_id(bob)
    kw: dict[str, Any] = {k: {n: v.format(bob=bob_id) for n, v in d.items()} for k, d in how.items()}
    r = shop.get("/me", token=alice.token, **kw)
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == user_id(alice)
    assert r.json()["email"] == alice.email
    assert bob.email not in r.text


def test_a_customer_cannot_change_another_customers_roles(shop: Shop, alice: Customer, bob: Customer) -> None:
    r = shop.put(f"/admin/users/{user_id(bob)}/roles", json={"roles": ["customer"]}, token=alice.token)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


# -- function level --------------------------------------------------------------------------------------------------
def admin_calls(victim: Customer) -> list[tuple[str, str, Any]]:
    sku = PRODUCT["sku"].format(uuid.uuid4().hex[:8])  # type: ignore[union-attr]
    return [
        ("PUT", f"/admin/users/{user_id(victim)}/roles", {"roles": ["admin"]}),
        ("PUT", f"/admin/users/{user_id(victim)}/roles", {"bogus": True}),  # 403 before the body is even read
        ("POST", "/products", {**PRODUCT, "sku": sku}),
        ("PUT", f"/products/{uuid.uuid4()}", {**PRODUCT, "sku": sku}),
        ("DELETE", f"/products/{uuid.uuid4()}", None),
    ]


@pytest.mark.parametrize("who", ["customer", "support"])
def test_customers_and_support_are_403_on_admin_routes(
    shop: Shop, alice: Customer, bob: Customer, support: Customer, who: str
) -> None:
    caller = alice if who == "customer" else support
    assert "support" in roles_of(shop, support)
    assert roles_of(shop, alice) == ["customer"]
    for method, path, body in admin_calls(bob):
        r = shop.request(method, path, token=caller.token, json=body)
        assert r.status_code == 403, f"{who} on {method} {path}: {r.status_code} {r.text}"
        assert r.headers["content-type"].startswith("application/problem+json")
    assert roles_of(shop, bob) == ["customer"]  # and nothing was done


def test_support_cannot_make_itself_admin(shop: Shop, support: Customer) -> None:
    r = shop.put(f"/admin/users/{user_id(support)}/roles", json={"roles": ["admin", "support"]}, token=support.token)
    assert r.status_code == 403
    assert "admin" not in roles_of(shop, support)


def test_the_admin_may_and_the_change_shows_in_new_tokens(shop: Shop) -> None:
    target = shop.new_customer()
    r = shop.put(f"/admin/users/{user_id(target)}/roles", json={"roles": ["support"]}, token=shop.admin().token)
    assert r.status_code == 200, r.text
    assert sorted(roles_of(shop, target)) == ["customer", "support"]
    r = shop.put(f"/admin/users/{user_id(target)}/roles", json={"roles": []}, token=shop.admin().token)
    assert r.status_code == 200
    assert roles_of(shop, target) == ["customer"]


def test_an_unknown_user_is_404_for_the_admin(shop: Shop) -> None:
    r = shop.put(f"/admin/users/{uuid.uuid4()}/roles", json={"roles": ["support"]}, token=shop.admin().token)
    assert r.status_code == 404
