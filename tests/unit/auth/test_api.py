"""The HTTP functions over in-memory fakes, handed in with Powertools' ``dependency_overrides`` (no moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from auth import api, bootstrap
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from tests.unit.auth.fakes import GOOD_CODE, FakeIdentityProvider, InMemoryAuditLog, InMemoryProfileRepository

PASSWORD = "Correct1Horse"


@pytest.fixture
def identity() -> FakeIdentityProvider:
    return FakeIdentityProvider(lax=True)  # would confirm an account again, with any code, as moto did


@pytest.fixture
def profiles() -> InMemoryProfileRepository:
    return InMemoryProfileRepository()


@pytest.fixture(autouse=True)
def fakes(identity: FakeIdentityProvider, profiles: InMemoryProfileRepository) -> Iterator[None]:
    apps = (api.public_app, api.me_app, api.session_app, api.admin_app)
    for app in apps:
        app.dependency_overrides[bootstrap.identity_provider] = lambda: identity
        app.dependency_overrides[bootstrap.profiles] = lambda: profiles
        app.dependency_overrides[bootstrap.audit_log] = InMemoryAuditLog
    yield
    for app in apps:
        app.dependency_overrides.clear()


def post(path: str, body: Any) -> tuple[int, Any]:
    raw = api.public_handler(http_api_event("POST", path, body=body), LambdaContext("AuthPublicFunction"))
    return raw["statusCode"], json.loads(raw["body"])


def test_confirm_answers_no_user_id(identity: FakeIdentityProvider) -> None:
    status, created = post("/auth/signup", {"email": "ada@example.com", "password": PASSWORD})
    assert status == 201
    status, body = post("/auth/confirm", {"email": "ada@example.com", "code": GOOD_CODE})
    assert status == 200
    assert body == {"email": "ada@example.com", "status": "CONFIRMED", "message": "Account confirmed; sign in."}
    assert created["userId"] not in json.dumps(body)


@pytest.mark.parametrize("code", [GOOD_CODE, "000000"])
def test_confirming_again_is_409_whatever_the_code(identity: FakeIdentityProvider, code: str) -> None:
    _, created = post("/auth/signup", {"email": "ada@example.com", "password": PASSWORD})
    post("/auth/confirm", {"email": "ada@example.com", "code": GOOD_CODE})
    status, body = post("/auth/confirm", {"email": "ada@example.com", "code": code})
    assert status == 409
    assert body["type"].endswith("/already-confirmed")
    assert created["userId"] not in json.dumps(body)
    assert identity.confirm_calls == 1


def test_a_domain_rule_error_answers_from_the_error_table(identity: FakeIdentityProvider) -> None:
    status, body = post("/auth/signup", {"email": "ada@example.com", "password": "short"})
    assert status == 400
    assert body["type"].endswith("/weak-password")
    assert body["unmet"] == ["at least 10 characters", "an upper-case letter", "a digit"]
    status, body = post("/auth/signup", {"email": "not-an-email", "password": PASSWORD})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (400, "invalid-email")
    assert identity.accounts == {}


def test_a_customer_setting_roles_is_403_before_the_body_is_read() -> None:
    claims = {"sub": "user-1", "token_use": "access", "cognito:groups": ["customer"]}
    event = http_api_event(
        "PUT",
        "/admin/users/user-1/roles",
        body={"roles": "not even a list"},
        claims=claims,
        headers={"Authorization": "Bearer access-user-1-0"},
        route_key="PUT /admin/users/{userId}/roles",
        path_parameters={"userId": "user-1"},
    )
    raw = api.admin_handler(event, LambdaContext("AuthAdminFunction"))
    assert raw["statusCode"] == 403
