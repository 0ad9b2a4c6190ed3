from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest

from gears.local.http_events import http_api_event
from tests.functional.auth.conftest import PASSWORD, AuthApi, claims_of

PROBLEM = "application/problem+json"


def user_pool(auth_api: AuthApi) -> tuple[Any, str]:
    return boto3.client("cognito-idp", region_name="us-east-1"), auth_api.stack.ref("UserPool")


def profile_item(auth_api: AuthApi, user_id: str) -> dict | None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(auth_api.stack.ref("AuthTable"))
    return table.get_item(Key={"pk": f"USER#{user_id}", "sk": "PROFILE"}).get("Item")


# -- sign-up ---------------------------------------------------------------------------------------------------------
def test_sign_up_answers_201_with_the_user_id_and_writes_an_unconfirmed_profile(auth_api: AuthApi, email: str) -> None:
    answer = auth_api.sign_up(email.upper())
    assert answer.status == 201
    assert answer.body["email"] == email
    assert answer.body["status"] == "UNCONFIRMED"
    assert answer.body["codeDelivery"]["medium"] == "EMAIL"
    assert "code" in answer.body["message"]
    item = profile_item(auth_api, answer.body["userId"])
    assert item is not None
    assert (item["email"], item["status"], item["entity"], item["userId"]) == (
        email,
        "UNCONFIRMED",
        "Profile",
        answer.body["userId"],
    )
    client, pool = user_pool(auth_api)
    user = client.admin_get_user(UserPoolId=pool, Username=email)
    assert user["UserStatus"] == "UNCONFIRMED"


def test_sign_up_with_a_taken_email_conflicts(auth_api: AuthApi, email: str) -> None:
    auth_api.sign_up(email)
    answer = auth_api.sign_up(email)
    assert answer.status == 409
    assert answer.content_type == PROBLEM
    assert answer.body["type"].endswith("/user-exists")


def test_sign_up_with_a_weak_password_lists_the_unmet_rules(auth_api: AuthApi, email: str) -> None:
    answer = auth_api.sign_up(email, password="short")
    assert answer.status == 400
    assert answer.body["type"].endswith("/weak-password")
    assert "a digit" in answer.body["unmet"]


@pytest.mark.parametrize("field", ["roles", "userId", "groups", "status"])
def test_a_client_cannot_choose_its_roles_or_identity(auth_api: AuthApi, email: str, field: str) -> None:
    answer = auth_api.post("/auth/signup", {"email": email, "password": PASSWORD, field: ["admin"]})
    assert answer.status == 400
    assert answer.body["errors"][0]["field"] == field
    client, pool = user_pool(auth_api)
    assert client.list_users(UserPoolId=pool)["Users"] == []


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        {"email": "ada@example.com"},
        {"email": 42, "password": PASSWORD},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@b.co", "password": "x" * 10_000},
    ],
)
def test_malformed_sign_ups_are_400_never_500(auth_api: AuthApi, body: object) -> None:
    answer = auth_api.invoke_public(http_api_event("POST", "/auth/signup", body=body))  # type: ignore[arg-type]
    assert answer.status == 400
    assert answer.content_type == PROBLEM
    assert PASSWORD not in str(answer.body)


def test_an_empty_body_is_400(auth_api: AuthApi) -> None:
    answer = auth_api.invoke_public(http_api_event("POST", "/auth/login"))
    assert answer.status == 400


# -- confirmation ----------------------------------------------------------------------------------------------------
def test_confirm_makes_the_account_a_confirmed_customer(auth_api: AuthApi, email: str) -> None:
    user_id = auth_api.sign_up(email).body["userId"]
    answer = auth_api.confirm(email)
    assert answer.status == 200
    # No user id: whoever holds an email and a code is not signed in yet.
    assert answer.body == {
        "email": email,
        "status": "CONFIRMED",
        "message": answer.body["message"],
    }
    assert user_id not in str(answer.body)
    client, pool = user_pool(auth_api)
    assert client.admin_get_user(UserPoolId=pool, Username=email)["UserStatus"] == "CONFIRMED"
    groups = client.admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"]
    assert [g["GroupName"] for g in groups] == ["customer"]
    item = profile_item(auth_api, user_id)
    assert item is not None
    assert item["status"] == "CONFIRMED"
    assert item["confirmedAt"]


@pytest.mark.parametrize("code", ["123456", "000000"])
def test_confirming_a_confirmed_account_again_is_409_and_tells_no_id(auth_api: AuthApi, email: str, code) -> None:
    """moto's user pool, as it is, would confirm the account again with any code: the service must not."""
    user_id = auth_api.sign_up(email).body["userId"]
    assert auth_api.confirm(email).status == 200
    answer = auth_api.confirm(email, code)
    assert answer.status == 409
    assert answer.content_type == PROBLEM
    assert answer.body["type"].endswith("/already-confirmed")
    assert user_id not in str(answer.body)
    item = profile_item(auth_api, user_id)
    assert item is not None
    assert item["version"] == 2  # written at sign-up and at the first confirmation, not since


def test_confirming_the_admin_with_any_code_is_409_and_tells_no_id(
    auth_api: AuthApi, admin_tokens: dict[str, Any]
) -> None:
    admin_id = claims_of(admin_tokens["accessToken"])["sub"]
    admin_email = claims_of(admin_tokens["idToken"])["email"]
    answer = auth_api.confirm(admin_email, "000000")
    assert answer.status == 409
    assert answer.body["type"].endswith("/already-confirmed")
    assert admin_id not in str(answer.body)


def test_an_account_whose_profile_is_confirmed_is_not_confirmed_again(auth_api: AuthApi, email: str) -> None:
    user_id = auth_api.sign_up(email).body["userId"]
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(auth_api.stack.ref("AuthTable"))
    table.update_item(
        Key={"pk": f"USER#{user_id}", "sk": "PROFILE"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "CONFIRMED"},
    )
    answer = auth_api.confirm(email, "000000")
    assert answer.status == 409
    assert answer.body["type"].endswith("/already-confirmed")
    assert user_id not in str(answer.body)
    client, pool = user_pool(auth_api)
    assert client.admin_get_user(UserPoolId=pool, Username=email)["UserStatus"] == "UNCONFIRMED"


def test_confirming_again_on_the_local_user_pool_is_409(real_auth_api: AuthApi, email: str) -> None:
    real_auth_api.sign_up(email)
    code = real_auth_api.code_for(email)
    assert real_auth_api.confirm(email, code).status == 200
    for again in (code, "000000"):
        answer = real_auth_api.confirm(email, again)
        assert answer.status == 409
        assert answer.body["type"].endswith("/already-confirmed")


def test_confirm_of_an_unknown_email_is_a_bad_code(auth_api: AuthApi, email: str) -> None:
    answer = auth_api.confirm(email)
    assert answer.status == 400
    assert answer.body["type"].endswith("/invalid-code")


def test_confirm_repairs_an_account_whose_profile_was_lost(auth_api: AuthApi, email: str) -> None:
    user_id = auth_api.sign_up(email).body["userId"]
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(auth_api.stack.ref("AuthTable"))
    table.delete_item(Key={"pk": f"USER#{user_id}", "sk": "PROFILE"})
    assert auth_api.confirm(email).status == 200
    item = profile_item(auth_api, user_id)
    assert item is not None
    assert (item["email"], item["status"]) == (email, "CONFIRMED")


# -- login and refresh -----------------------------------------------------------------------------------------------
def test_login_returns_the_three_tokens_uncached(auth_api: AuthApi, email: str) -> None:
    auth_api.sign_up(email)
    auth_api.confirm(email)
    answer = auth_api.login(email.title())
    assert answer.status == 200
    assert set(answer.body) == {"accessToken", "idToken", "refreshToken", "expiresIn", "tokenType"}
    assert answer.body["tokenType"] == "Bearer"
    assert answer.body["expiresIn"] > 0
    assert answer.headers["Cache-Control"] == "no-store"
    claims = claims_of(answer.body["accessToken"])
    assert claims["token_use"] == "access"
    assert claims["cognito:groups"] == ["customer"]


def test_wrong_password_and_unknown_email_are_the_same_401(auth_api: AuthApi, email: str) -> None:
    auth_api.sign_up(email)
    auth_api.confirm(email)
    wrong_password = auth_api.login(email, password="Wrong1Password")
    unknown = auth_api.login("nobody-" + email, password="Wrong1Password")
    assert wrong_password.status == unknown.status == 401
    assert wrong_password.body == unknown.body
    assert wrong_password.body["type"].endswith("/invalid-credentials")


def test_login_before_confirmation_is_403(auth_api: AuthApi, email: str) -> None:
    auth_api.sign_up(email)
    answer = auth_api.login(email)
    assert answer.status == 403
    assert answer.body["type"].endswith("/account-not-confirmed")


def test_refresh_gives_new_access_and_id_tokens(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    answer = auth_api.post("/auth/refresh", {"refreshToken": tokens["refreshToken"]})
    assert answer.status == 200
    assert answer.body["accessToken"] != tokens["accessToken"]
    assert claims_of(answer.body["accessToken"])["sub"] == claims_of(tokens["accessToken"])["sub"]
    assert claims_of(answer.body["idToken"])["email"] == email


def test_refresh_with_a_forged_token_is_401(auth_api: AuthApi) -> None:
    answer = auth_api.post("/auth/refresh", {"refreshToken": "forged-token"})
    assert answer.status == 401
    assert answer.body["type"].endswith("/invalid-refresh-token")


def test_refresh_needs_the_camel_case_field(auth_api: AuthApi) -> None:
    assert auth_api.post("/auth/refresh", {"refresh_token": "x"}).status == 400


def test_an_unknown_route_is_a_problem_404(auth_api: AuthApi) -> None:
    answer = auth_api.post("/auth/nope", {})
    assert answer.status == 404
    assert answer.content_type == PROBLEM


def test_a_public_function_deployed_without_its_user_pool_answers_a_problem(
    auth_api: AuthApi, email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import bootstrap

    for key in ("USER_POOL_ID", "USER_POOL_CLIENT_ID"):
        monkeypatch.delenv(key)
    bootstrap.reset()  # a cold start in that environment
    answer = auth_api.sign_up(email)
    assert answer.status == 500
    assert answer.body["type"].endswith("/misconfigured")


def test_every_answer_echoes_the_correlation_id(auth_api: AuthApi, email: str) -> None:
    headers = {"x-correlation-id": "corr-auth-7"}
    body = {"email": email, "password": PASSWORD}
    created = auth_api.invoke_public(http_api_event("POST", "/auth/signup", body=body, headers=headers))
    refused = auth_api.invoke_public(http_api_event("POST", "/auth/signup", body=body, headers=headers))
    assert (created.status, refused.status) == (201, 409)
    assert created.headers["x-correlation-id"] == refused.headers["x-correlation-id"] == "corr-auth-7"


def test_passwords_and_tokens_never_reach_the_logs(auth_api: AuthApi, email: str, capsys, caplog) -> None:
    caplog.set_level(logging.INFO)  # the functions' level (botocore's own debug lines would show any request)
    tokens = auth_api.registered(email)
    auth_api.refresh(tokens["refreshToken"])
    auth_api.login(email, "Wrong1Password")
    logged = caplog.text + "".join(capsys.readouterr())
    for secret in (PASSWORD, "Wrong1Password", tokens["accessToken"], tokens["idToken"], tokens["refreshToken"]):
        assert secret not in logged
