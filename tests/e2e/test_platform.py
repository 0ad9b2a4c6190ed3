"""Issue 2's flows, end to end through the running local shop: accounts, roles, the catalog, and bad tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from tests.support.shop import Shop


def test_the_demo_catalog_is_served_publicly(shop: Shop) -> None:
    r = shop.get("/products")
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["items"]) > 0
    product = body["items"][0]
    assert product["price"]["currency"] == "GBP"
    assert isinstance(product["price"]["amount"], int)
    assert shop.get(f"/products/{product['productId']}").json()["productId"] == product["productId"]
    assert shop.get("/categories").status_code == 200


def test_sign_up_confirm_with_the_mailed_code_log_in_and_read_me(shop: Shop) -> None:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    password = "Sup3rSecret!x"
    assert shop.post("/auth/signup", json={"email": email, "password": password}).status_code in (200, 201, 202)
    code = shop.code_for(email)
    wrong = "000000" if code != "000000" else "111111"
    assert shop.post("/auth/confirm", json={"email": email, "code": wrong}).status_code == 400
    assert shop.post("/auth/login", json={"email": email, "password": password}).status_code in (401, 403)
    assert shop.post("/auth/confirm", json={"email": email, "code": code}).status_code in (200, 204)
    tokens = shop.login(email, password)
    me = shop.get("/me", token=tokens["accessToken"])
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email
    assert "customer" in me.json()["roles"]
    refreshed = shop.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    assert shop.get("/me", token=refreshed.json()["accessToken"]).status_code == 200


def test_a_confirmed_account_cannot_be_confirmed_again_and_confirm_tells_no_id(shop: Shop) -> None:
    """Confirm is public: it must not tell anyone an account's id, nor confirm an account twice (the admin's
    neither), whatever the code."""
    customer = shop.new_customer()
    code = shop.code_for(customer.email)
    admin_email = shop.state["admin"]["email"]
    for email, attempt in ((customer.email, code), (customer.email, "123456"), (admin_email, "000000")):
        again = shop.post("/auth/confirm", json={"email": email, "code": attempt})
        assert again.status_code == 409, again.text
        assert again.headers["content-type"] == "application/problem+json"
        body = again.json()
        assert body["type"].endswith("already-confirmed") or body["type"].endswith("confirmation-refused")
        assert "userId" not in body
        assert "sub" not in body
    me = shop.get("/me", token=customer.token).json()
    for email in (customer.email, admin_email):
        answer = shop.post("/auth/confirm", json={"email": email, "code": "123456"}).text
        assert me["userId"] not in answer


def test_customers_cannot_manage_the_catalog_and_admins_can(shop: Shop) -> None:
    product = {
        "sku": f"E2E-{uuid.uuid4().hex[:8]}",
        "title": "End-to-end teapot",
        "description": "Made by a test",
        "price": {"amount": 1299, "currency": "GBP"},
        "category": _some_category(shop),
        "status": "active",
    }
    customer = shop.new_customer()
    refused = shop.post("/products", json=product, token=customer.token)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    created = shop.post("/products", json=product, token=shop.admin().token)
    assert created.status_code == 201, created.text
    product_id = created.json()["productId"]
    assert shop.get(f"/products/{product_id}").json()["title"] == "End-to-end teapot"


def _some_category(shop: Shop) -> str:
    tree = shop.get("/categories").json()
    nodes: list[dict[str, Any]] = tree["categories"]
    while nodes and nodes[0].get("children"):
        nodes = nodes[0]["children"]
    return str(nodes[0]["id"])


def _forge(key: Any, kid: str, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def real_token(shop: Shop) -> str:
    return shop.new_customer().token


def test_missing_malformed_expired_tampered_and_foreign_tokens_get_401(
    shop: Shop, real_token: str, moto_signing_key: Any
) -> None:
    _, key = moto_signing_key
    kid = jwt.get_unverified_header(real_token)["kid"]
    claims = _claims_of(real_token)
    now = int(time.time())
    head, _payload, sig = real_token.split(".")
    tampered_claims = {**claims, "cognito:groups": ["admin"]}
    tampered = ".".join(
        [head, base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(b"=").decode(), sig]
    )
    cases = {
        "missing": None,
        "malformed": "abc.def",
        "expired": _forge(key, kid, {**claims, "iat": now - 7200, "exp": now - 3600}),
        "tampered": tampered,
        "foreign issuer": _forge(
            key, kid, {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil"}
        ),
        "other client": _forge(key, kid, {**claims, "client_id": "not-our-client"}),
    }
    assert shop.get("/me", token=real_token).status_code == 200  # the baseline passes
    for case, token in cases.items():
        r = shop.get("/me", token=token)
        assert r.status_code == 401, f"{case}: {r.status_code} {r.text}"
