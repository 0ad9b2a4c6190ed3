"""PUT /admin/users/{userId}/roles through AuthAdminFunction against moto (with the local cloud's Cognito)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from auth.store import DynamoAuditLog
from tests.functional.auth.conftest import AuthApi, claims_of

PROBLEM = "application/problem+json"


def groups(auth_api: AuthApi, user_id: str) -> set[str]:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    found = client.admin_list_groups_for_user(UserPoolId=auth_api.stack.ref("UserPool"), Username=user_id)
    return {g["GroupName"] for g in found["Groups"]}


def user_id_of(tokens: dict[str, Any]) -> str:
    return str(claims_of(tokens["accessToken"])["sub"])


def test_an_admin_makes_a_customer_support_audited_and_signed_out(
    real_auth_api: AuthApi, admin_tokens: dict[str, Any], email: str
) -> None:
    tokens = real_auth_api.registered(email)
    user_id = user_id_of(tokens)
    answer = real_auth_api.set_roles(admin_tokens["accessToken"], user_id, ["support"])
    assert answer.status == 200, answer.body
    assert answer.body["roles"] == ["customer", "support"]
    assert answer.body["previousRoles"] == ["customer"]
    assert answer.body["signedOut"] is True
    assert groups(real_auth_api, user_id) == {"customer", "support"}
    # The old tokens carry the old roles: they can no longer be refreshed; a new sign-in carries the new ones.
    assert real_auth_api.refresh(tokens["refreshToken"]).status == 401
    fresh = real_auth_api.login(email)
    assert sorted(claims_of(fresh.body["accessToken"])["cognito:groups"]) == ["customer", "support"]
    (change,) = DynamoAuditLog(real_auth_api.stack.ref("AuthTable")).changes_of(user_id)
    assert change.change_id == answer.body["changeId"]
    assert (change.before, change.after) == ({"customer"}, {"customer", "support"})
    assert change.changed_by == user_id_of(admin_tokens)


def test_taking_roles_away_keeps_customer(auth_api: AuthApi, admin_tokens: dict[str, Any], email: str) -> None:
    user_id = user_id_of(auth_api.registered(email))
    auth_api.set_roles(admin_tokens["accessToken"], user_id, ["support", "admin"])
    answer = auth_api.set_roles(admin_tokens["accessToken"], user_id, [])
    assert answer.status == 200
    assert answer.body["roles"] == ["customer"]
    assert groups(auth_api, user_id) == {"customer"}


def test_a_customer_may_not_set_roles_not_even_their_own(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    user_id = user_id_of(tokens)
    answer = auth_api.set_roles(tokens["accessToken"], user_id, ["admin"])
    assert answer.status == 403
    assert answer.content_type == PROBLEM
    assert groups(auth_api, user_id) == {"customer"}
    assert DynamoAuditLog(auth_api.stack.ref("AuthTable")).changes_of(user_id) == []


def test_an_unknown_user_is_404(auth_api: AuthApi, admin_tokens: dict[str, Any]) -> None:
    answer = auth_api.set_roles(admin_tokens["accessToken"], "00000000-0000-4000-8000-000000000000", ["support"])
    assert answer.status == 404
    assert answer.body["type"].endswith("/user-not-found")


def test_a_user_is_named_by_id_not_by_email(auth_api: AuthApi, admin_tokens: dict[str, Any], email: str) -> None:
    auth_api.registered(email)
    assert auth_api.set_roles(admin_tokens["accessToken"], email, ["support"]).status == 404


@pytest.mark.parametrize(
    "roles",
    [["superuser"], "admin", [["admin"]], None, ["admin"] * 11],
    ids=["unknown", "str", "nested", "null", "long"],
)
def test_roles_outside_the_three_are_400(auth_api: AuthApi, admin_tokens: dict[str, Any], email: str, roles) -> None:
    user_id = user_id_of(auth_api.registered(email))
    answer = auth_api.set_roles(admin_tokens["accessToken"], user_id, roles)
    assert answer.status == 400
    assert groups(auth_api, user_id) == {"customer"}


def test_an_admin_cannot_drop_their_own_admin_role(auth_api: AuthApi, admin_tokens: dict[str, Any]) -> None:
    admin_id = user_id_of(admin_tokens)
    answer = auth_api.set_roles(admin_tokens["accessToken"], admin_id, ["support"])
    assert answer.status == 422
    assert "admin" in groups(auth_api, admin_id)


def test_a_signed_out_admin_token_is_refused(real_auth_api: AuthApi, admin_tokens: dict[str, Any], email: str) -> None:
    user_id = user_id_of(real_auth_api.registered(email))
    assert real_auth_api.logout(admin_tokens["accessToken"]).status == 204
    # The token still passes the gateway (signature and expiry are fine); the user pool no longer honours it.
    answer = real_auth_api.set_roles(admin_tokens["accessToken"], user_id, ["admin"])
    assert answer.status == 401
    assert answer.body["type"].endswith("/session-revoked")
    assert groups(real_auth_api, user_id) == {"customer"}


def test_an_id_token_is_401(auth_api: AuthApi, admin_tokens: dict[str, Any], email: str) -> None:
    user_id = user_id_of(auth_api.registered(email))
    assert auth_api.set_roles(admin_tokens["idToken"], user_id, ["admin"]).status == 401
