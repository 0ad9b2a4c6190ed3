"""Brute force: repeated wrong passwords lock the account's sign-in (Cognito's lockout), answered with 429."""

from __future__ import annotations

from tests.security.helpers import PASSWORD, unique_email
from tests.support.shop import Shop

FREE_ATTEMPTS = 5  # Cognito's: the lockout starts after the fifth consecutive failure
MAX_ATTEMPTS = 12


def test_repeated_failed_logins_are_throttled_even_for_the_right_password(shop: Shop) -> None:
    customer = shop.new_customer(PASSWORD)
    statuses = []
    for _ in range(MAX_ATTEMPTS):
        r = shop.post("/auth/login", json={"email": customer.email, "password": "Wrong1Password"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            break
    assert statuses[:FREE_ATTEMPTS] == [401] * FREE_ATTEMPTS
    assert statuses[-1] == 429, statuses
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/sign-in-locked")
    # During the lockout (a second after the fifth failure, doubling with each after it) the right password is
    # refused alike, so guessing on cannot tell a right guess from a wrong one.
    right = shop.post("/auth/login", json={"email": customer.email, "password": PASSWORD})
    assert right.status_code == 429
    assert "accessToken" not in right.text


def test_an_unknown_email_fails_like_a_wrong_password(shop: Shop) -> None:
    customer = shop.new_customer(PASSWORD)
    wrong = shop.post("/auth/login", json={"email": customer.email, "password": "Wrong1Password"})
    unknown = shop.post("/auth/login", json={"email": unique_email(), "password": "Wrong1Password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["type"] == unknown.json()["type"]
    assert wrong.json()["detail"] == unknown.json()["detail"]
