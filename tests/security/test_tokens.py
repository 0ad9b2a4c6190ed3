"""Tokens: anything but a live access token of this user pool, for this app client, gets 401 on every route that
needs one. Forged tokens are signed with the local cloud's real key where the attack needs a valid signature, so
that each case differs from a good token in exactly one respect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests

from tests.security.helpers import (
    claims_of,
    forge,
    hs256_with_public_key,
    now,
    other_key,
    unsigned,
    user_id,
    user_pool,
    with_roles,
)
from tests.support.shop import Customer, Shop

# Routes that need a token, one per function behind the authorizer; the attack must fail on each.
SIGNED_IN_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/me", None),
    ("POST", "/auth/logout", None),
    ("PUT", "/admin/users/{victim}/roles", {"roles": ["admin"]}),
    ("POST", "/products", {"sku": "SEC-1", "title": "x", "price": {"amount": 1, "currency": "GBP"}}),
]


@pytest.fixture(scope="module")
def victim(shop: Shop) -> Customer:
    return shop.new_customer()


@pytest.fixture(scope="module")
def admin(shop: Shop) -> Customer:
    return shop.admin()


def call(shop: Shop, route: tuple[str, str, Any], token: str | None, victim: Customer) -> requests.Response:
    method, path, body = route
    return shop.request(method, path.format(victim=user_id(victim)), token=token, json=body)


def attacks(admin: Customer, moto_signing_key: Any) -> dict[str, Callable[[], str | None]]:
    """Each attack builds its token from the admin's real one: if any got through, it would act as the admin."""
    _, key = moto_signing_key
    token = admin.token
    kid = str(jwt.get_unverified_header(token)["kid"])
    claims = claims_of(token)
    t = now()
    return {
        "none": lambda: None,
        "empty bearer": lambda: " ",
        "malformed": lambda: "not.a.jwt",
        "garbage segments": lambda: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        "alg none": lambda: unsigned(kid, claims),
        "HS256 keyed with the public key": lambda: hs256_with_public_key(key.public_key(), kid, claims),
        "signed with another key": lambda: forge(other_key(), kid, claims),
        "unknown kid": lambda: forge(other_key(), "attacker-kid", claims),
        "expired": lambda: forge(key, kid, {**claims, "iat": t - 7200, "exp": t - 3600}),
        "not yet valid": lambda: forge(key, kid, {**claims, "nbf": t + 3600, "iat": t, "exp": t + 7200}),
        "wrong issuer": lambda: forge(
            key, kid, {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_attacker"}
        ),
        "other app client": lambda: forge(key, kid, {**claims, "client_id": "another-client"}),
        "no expiry": lambda: forge(key, kid, {k: v for k, v in claims.items() if k != "exp"}),
        "id token": lambda: str(admin.tokens["idToken"]),
        "refresh token as bearer": lambda: str(admin.tokens["refreshToken"]),
    }


ATTACKS = [
    "none",
    "empty bearer",
    "malformed",
    "garbage segments",
    "alg none",
    "HS256 keyed with the public key",
    "signed with another key",
    "unknown kid",
    "expired",
    "not yet valid",
    "wrong issuer",
    "other app client",
    "no expiry",
    "id token",
    "refresh token as bearer",
]


@pytest.mark.parametrize("route", SIGNED_IN_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("attack", ATTACKS)
def test_every_bad_token_is_401_on_every_signed_in_route(
    shop: Shop, admin: Customer, victim: Customer, moto_signing_key: Any, route: tuple[str, str, Any], attack: str
) -> None:
    token = attacks(admin, moto_signing_key)[attack]()
    r = call(shop, route, token, victim)
    assert r.status_code == 401, f"{attack} on {route[0]} {route[1]}: {r.status_code} {r.text}"


def test_the_genuine_tokens_pass_so_the_attacks_are_meaningful(shop: Shop, admin: Customer, victim: Customer) -> None:
    assert shop.get("/me", token=admin.token).status_code == 200
    assert claims_of(admin.tokens["idToken"])["token_use"] == "id"  # the id-token case is a real id token
    r = shop.put(f"/admin/users/{user_id(victim)}/roles", json={"roles": []}, token=admin.token)
    assert r.status_code == 200, r.text


# -- revocation ------------------------------------------------------------------------------------------------------
def test_after_logout_the_refresh_token_and_the_session_are_dead(shop: Shop) -> None:
    customer = shop.new_customer()
    assert shop.post("/auth/logout", token=customer.token).status_code == 204
    assert shop.post("/auth/refresh", json={"refreshToken": customer.tokens["refreshToken"]}).status_code == 401
    assert shop.post("/auth/logout", token=customer.token).status_code == 401  # the user pool no longer honours it


def test_after_a_role_change_the_old_refresh_token_is_dead(shop: Shop, admin: Customer) -> None:
    customer = shop.new_customer()
    r = shop.put(f"/admin/users/{user_id(customer)}/roles", json={"roles": ["support"]}, token=admin.token)
    assert r.status_code == 200, r.text
    assert shop.post("/auth/refresh", json={"refreshToken": customer.tokens["refreshToken"]}).status_code == 401


def test_a_signed_out_admin_cannot_change_roles_with_the_token_they_kept(shop: Shop) -> None:
    other_admin = with_roles(shop, "admin")
    target = shop.new_customer()
    assert shop.post("/auth/logout", token=other_admin.token).status_code == 204
    r = shop.put(f"/admin/users/{user_id(target)}/roles", json={"roles": ["admin"]}, token=other_admin.token)
    assert r.status_code == 401, r.text
    me = shop.login(target.email, target.password)
    assert claims_of(me["accessToken"])["cognito:groups"] == ["customer"]


def test_a_demoted_admin_cannot_use_the_admin_token_they_kept(shop: Shop, admin: Customer) -> None:
    demoted = with_roles(shop, "admin")
    assert shop.put(f"/admin/users/{user_id(demoted)}/roles", json={"roles": []}, token=admin.token).status_code == 200
    target = shop.new_customer()
    r = shop.put(f"/admin/users/{user_id(target)}/roles", json={"roles": ["admin"]}, token=demoted.token)
    assert r.status_code == 401, r.text  # the token still says admin; the user pool says it was revoked


def test_a_deleted_users_tokens_are_dead_where_revocation_applies(shop: Shop) -> None:
    customer = shop.new_customer()
    client, pool = user_pool(shop, customer.token)
    client.admin_delete_user(UserPoolId=pool, Username=user_id(customer))  # an operator deletes the account
    assert shop.post("/auth/refresh", json={"refreshToken": customer.tokens["refreshToken"]}).status_code == 401
    assert shop.post("/auth/logout", token=customer.token).status_code == 401
    assert shop.post("/auth/login", json={"email": customer.email, "password": customer.password}).status_code == 401


@pytest.mark.xfail(
    strict=True,
    reason="documented gap (docs/authorization.md, Revocation): API Gateway's JWT authorizer does not check "
    "revocation, so a signed-out access token reads /me until it expires (60 min). If this passes, revocation "
    "now reaches every route: drop the xfail.",
)
def test_a_signed_out_access_token_is_refused_everywhere(shop: Shop) -> None:
    customer = shop.new_customer()
    assert shop.post("/auth/logout", token=customer.token).status_code == 204
    assert shop.get("/me", token=customer.token).status_code == 401
