"""Logout, forgotten-password reset and sign-in lockout, through the handlers against moto.

Tests that need Cognito's real behaviour (mailed codes, lockout) use ``real_auth_api``: moto with the local
cloud's patches (gears.local.cloud.patch_cognito), the same user pool ``gears local`` runs.
"""

from __future__ import annotations

from gears.local.cloud import LOCKOUT_FREE_ATTEMPTS, read_mailbox
from gears.local.http_events import http_api_event
from tests.functional.auth.conftest import PASSWORD, AuthApi, claims_of

PROBLEM = "application/problem+json"
NEW_PASSWORD = "Battery9Staple"


# -- logout ----------------------------------------------------------------------------------------------------------
def test_logout_revokes_the_refresh_token(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    assert auth_api.refresh(tokens["refreshToken"]).status == 200
    answer = auth_api.logout(tokens["accessToken"])
    assert answer.status == 204
    refused = auth_api.refresh(tokens["refreshToken"])
    assert refused.status == 401
    assert refused.body["type"].endswith("/invalid-refresh-token")


def test_logout_twice_with_the_same_token_is_401(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    assert auth_api.logout(tokens["accessToken"]).status == 204
    again = auth_api.logout(tokens["accessToken"])
    assert again.status == 401
    assert again.body["type"].endswith("/session-revoked")


def test_logout_with_an_id_token_is_401_and_signs_nobody_out(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    answer = auth_api.logout(tokens["idToken"])
    assert answer.status == 401
    assert answer.content_type == PROBLEM
    assert auth_api.refresh(tokens["refreshToken"]).status == 200


def test_logout_without_a_token_is_401(auth_api: AuthApi) -> None:
    assert auth_api.invoke_session is not None
    assert auth_api.invoke_session(http_api_event("POST", "/auth/logout")).status == 401


def test_logout_needs_the_header_the_authorizer_verified(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    assert auth_api.invoke_session is not None
    event = http_api_event("POST", "/auth/logout", claims=claims_of(tokens["accessToken"]))  # no header
    assert auth_api.invoke_session(event).status == 401


# -- forgotten password ----------------------------------------------------------------------------------------------
def test_forgot_password_is_202_for_known_and_unknown_emails_alike(real_auth_api: AuthApi, email: str) -> None:
    real_auth_api.registered(email)
    known = real_auth_api.post("/auth/password/forgot", {"email": email})
    unknown = real_auth_api.post("/auth/password/forgot", {"email": "nobody-" + email})
    assert known.status == unknown.status == 202
    assert known.body == unknown.body
    assert real_auth_api.mailbox is not None
    assert len(read_mailbox(real_auth_api.mailbox, email)) == 2  # the confirmation, then the reset code
    assert read_mailbox(real_auth_api.mailbox, "nobody-" + email) == []


def test_forgot_password_for_an_unconfirmed_account_says_the_same(real_auth_api: AuthApi, email: str) -> None:
    real_auth_api.sign_up(email)
    answer = real_auth_api.post("/auth/password/forgot", {"email": email})
    assert answer.status == 202


def test_reset_with_the_mailed_code_changes_the_password_and_ends_sessions(real_auth_api: AuthApi, email: str) -> None:
    tokens = real_auth_api.registered(email)
    real_auth_api.post("/auth/password/forgot", {"email": email})
    code = real_auth_api.code_for(email)
    answer = real_auth_api.post("/auth/password/reset", {"email": email, "code": code, "newPassword": NEW_PASSWORD})
    assert answer.status == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    assert real_auth_api.refresh(tokens["refreshToken"]).status == 401
    assert real_auth_api.login(email).status == 401
    assert real_auth_api.login(email, NEW_PASSWORD).status == 200


def test_reset_with_a_wrong_code_or_an_unknown_email_is_the_same_400(real_auth_api: AuthApi, email: str) -> None:
    real_auth_api.registered(email)
    real_auth_api.post("/auth/password/forgot", {"email": email})
    code = real_auth_api.code_for(email)
    wrong = "000000" if code != "000000" else "111111"
    bad_code = real_auth_api.post("/auth/password/reset", {"email": email, "code": wrong, "newPassword": NEW_PASSWORD})
    unknown = real_auth_api.post(
        "/auth/password/reset", {"email": "nobody-" + email, "code": code, "newPassword": NEW_PASSWORD}
    )
    assert bad_code.status == unknown.status == 400
    assert bad_code.body["type"] == unknown.body["type"]
    assert bad_code.body["type"].endswith("/invalid-code")
    assert real_auth_api.login(email).status == 200  # nothing changed


def test_reset_to_a_weak_password_lists_the_rules(real_auth_api: AuthApi, email: str) -> None:
    real_auth_api.registered(email)
    real_auth_api.post("/auth/password/forgot", {"email": email})
    answer = real_auth_api.post(
        "/auth/password/reset", {"email": email, "code": real_auth_api.code_for(email), "newPassword": "short"}
    )
    assert answer.status == 400
    assert answer.body["type"].endswith("/weak-password")


def test_reset_refuses_unknown_fields(auth_api: AuthApi, email: str) -> None:
    body = {"email": email, "code": "123456", "newPassword": NEW_PASSWORD, "userId": "someone-else"}
    answer = auth_api.post("/auth/password/reset", body)
    assert answer.status == 400
    assert NEW_PASSWORD not in str(answer.body)


# -- lockout ---------------------------------------------------------------------------------------------------------
def test_repeated_wrong_passwords_lock_the_account_out_with_429(
    real_auth_api: AuthApi, email: str, faithful_cognito
) -> None:
    _, clock = faithful_cognito
    real_auth_api.registered(email)
    for _ in range(LOCKOUT_FREE_ATTEMPTS):
        assert real_auth_api.login(email, "Wrong1Password").status == 401
    locked = real_auth_api.login(email, PASSWORD)  # even the right password, during the lockout
    assert locked.status == 429
    assert locked.content_type == PROBLEM
    assert locked.body["type"].endswith("/sign-in-locked")
    clock.now += 1.5  # the first lockout lasts a second
    assert real_auth_api.login(email, PASSWORD).status == 200


def test_the_lockout_doubles_with_each_further_failure(real_auth_api: AuthApi, email: str, faithful_cognito) -> None:
    _, clock = faithful_cognito
    real_auth_api.registered(email)
    for _ in range(LOCKOUT_FREE_ATTEMPTS):
        real_auth_api.login(email, "Wrong1Password")
    clock.now += 1.5
    assert real_auth_api.login(email, "Wrong1Password").status == 401  # the sixth failure: 2 seconds
    clock.now += 1.5
    assert real_auth_api.login(email, PASSWORD).status == 429
    clock.now += 1.0
    assert real_auth_api.login(email, PASSWORD).status == 200
