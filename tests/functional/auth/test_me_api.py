from __future__ import annotations

from gears.local.http_events import http_api_event
from tests.functional.auth.conftest import AuthApi, claims_of


def test_me_shows_the_profile_and_roles_of_the_access_token(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    claims = claims_of(tokens["accessToken"])
    assert "email" not in claims  # why the profile store exists
    answer = auth_api.me(claims)
    assert answer.status == 200
    assert answer.body["userId"] == claims["sub"]
    assert answer.body["email"] == email
    assert answer.body["roles"] == ["customer"]
    assert answer.body["status"] == "CONFIRMED"
    assert answer.body["createdAt"].endswith("Z")
    assert answer.body["confirmedAt"] >= answer.body["createdAt"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_me_reads_roles_as_the_authorizer_flattens_them(auth_api: AuthApi, email: str) -> None:
    tokens = auth_api.registered(email)
    claims = claims_of(tokens["accessToken"]) | {"cognito:groups": ["support", "customer"]}
    answer = auth_api.me(claims)  # http_api_event flattens the list to "[support customer]"
    assert answer.body["roles"] == ["customer", "support"]


def test_me_of_a_user_without_a_profile_comes_from_the_token(auth_api: AuthApi) -> None:
    answer = auth_api.me({"sub": "operator-made-user", "cognito:groups": ["admin"], "token_use": "access"})
    assert answer.status == 200
    assert answer.body["userId"] == "operator-made-user"
    assert answer.body["roles"] == ["admin"]
    assert answer.body["email"] is None  # an access token carries none, and there is no profile to read it from


def test_me_with_an_id_token_is_401(auth_api: AuthApi, email: str) -> None:
    """The JWT authorizer admits the pool's id tokens (their aud is the app client); the shared layer does not."""
    tokens = auth_api.registered(email)
    id_claims = claims_of(tokens["idToken"])
    assert id_claims["token_use"] == "id"
    answer = auth_api.me(id_claims)
    assert answer.status == 401
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_me_without_a_verified_token_is_401(auth_api: AuthApi) -> None:
    answer = auth_api.me(None)
    assert answer.status == 401
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_me_in_its_own_environment_needs_no_user_pool(lambda_env, context_for, monkeypatch, email, auth_api) -> None:
    """MeFunction gets no USER_POOL_ID: its wiring must still build, and /me must still answer."""
    tokens = auth_api.registered(email)
    for key in ("USER_POOL_ID", "USER_POOL_CLIENT_ID"):
        monkeypatch.delenv(key, raising=False)
    env = lambda_env("MeFunction")
    assert "USER_POOL_ID" not in env
    from auth import api, bootstrap

    bootstrap.reset()  # a cold start in MeFunction's environment
    assert isinstance(bootstrap.identity_provider(), bootstrap.NoUserPool)
    event = http_api_event("GET", "/me", claims=claims_of(tokens["accessToken"]))
    answer = api.me_handler(event, context_for("MeFunction"))
    assert answer["statusCode"] == 200
