"""Mass assignment: a client cannot set its own roles, id, status or any other field the server owns."""

from __future__ import annotations

import pytest

from tests.security.helpers import PASSWORD, claims_of, unique_email, user_id
from tests.support.shop import Shop

SERVER_OWNED = {
    "roles": ["admin"],
    "groups": ["admin"],
    "cognito:groups": ["admin"],
    "userId": "00000000-0000-4000-8000-000000000000",
    "sub": "00000000-0000-4000-8000-000000000000",
    "status": "CONFIRMED",
    "email_verified": True,
    "isAdmin": True,
}


@pytest.mark.parametrize("field", sorted(SERVER_OWNED))
def test_a_sign_up_that_sets_a_server_field_is_refused_and_creates_nothing(shop: Shop, field: str) -> None:
    email = unique_email()
    r = shop.post("/auth/signup", json={"email": email, "password": PASSWORD, field: SERVER_OWNED[field]})
    assert r.status_code == 400, r.text
    assert shop.mail_for(email) == []  # no account, so no code was sent
    # The same email then signs up as a plain customer.
    assert shop.post("/auth/signup", json={"email": email, "password": PASSWORD}).status_code == 201


def test_every_new_account_is_a_plain_customer(shop: Shop) -> None:
    customer = shop.new_customer(PASSWORD)
    me = shop.get("/me", token=customer.token).json()
    assert me["roles"] == ["customer"]
    assert claims_of(customer.token)["cognito:groups"] == ["customer"]


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/auth/confirm", {"status": "CONFIRMED"}),
        ("/auth/login", {"roles": ["admin"]}),
        ("/auth/refresh", {"userId": "someone"}),
        ("/auth/password/forgot", {"userId": "someone"}),
        ("/auth/password/reset", {"userId": "someone"}),
    ],
)
def test_public_auth_routes_refuse_server_fields(shop: Shop, path: str, extra: dict) -> None:
    base = {
        "/auth/confirm": {"email": unique_email(), "code": "123456"},
        "/auth/login": {"email": unique_email(), "password": PASSWORD},
        "/auth/refresh": {"refreshToken": "x"},
        "/auth/password/forgot": {"email": unique_email()},
        "/auth/password/reset": {"email": unique_email(), "code": "123456", "newPassword": PASSWORD},
    }[path]
    r = shop.post(path, json={**base, **extra})
    assert r.status_code == 400, r.text


def test_a_customer_cannot_set_their_own_roles(shop: Shop) -> None:
    customer = shop.new_customer(PASSWORD)
    r = shop.put(f"/admin/users/{user_id(customer)}/roles", json={"roles": ["admin"]}, token=customer.token)
    assert r.status_code == 403
    again = shop.login(customer.email, PASSWORD)
    assert claims_of(again["accessToken"])["cognito:groups"] == ["customer"]


def test_an_admin_role_change_cannot_be_retargeted_by_the_body(shop: Shop) -> None:
    a, b = shop.new_customer(PASSWORD), shop.new_customer(PASSWORD)
    body = {"roles": ["support"], "userId": user_id(b)}
    r = shop.put(f"/admin/users/{user_id(a)}/roles", json=body, token=shop.admin().token)
    assert r.status_code == 400
    assert claims_of(shop.login(b.email, PASSWORD)["accessToken"])["cognito:groups"] == ["customer"]
