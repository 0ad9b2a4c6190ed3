"""Auth handlers in-process against moto, wired the way a cold start wires them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from gears.local.http_events import http_api_event

PASSWORD = "Correct1Horse"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def _answer(raw: Mapping[str, Any]) -> Answer:
    text = raw.get("body") or "null"
    return Answer(status=raw["statusCode"], headers=dict(raw.get("headers") or {}), body=json.loads(text))


@dataclass
class AuthApi:
    """Calls AuthPublicFunction and MeFunction as API Gateway would."""

    invoke_public: Callable[[dict[str, Any]], Answer]
    invoke_me: Callable[[dict[str, Any]], Answer]
    stack: Any

    def post(self, path: str, body: Any) -> Answer:
        return self.invoke_public(http_api_event("POST", path, body=body))

    def me(self, claims: Mapping[str, Any] | None) -> Answer:
        return self.invoke_me(http_api_event("GET", "/me", claims=claims))

    # -- journeys ----------------------------------------------------------------------------------------------------
    def sign_up(self, email: str, password: str = PASSWORD) -> Answer:
        return self.post("/auth/signup", {"email": email, "password": password})

    def confirm(self, email: str, code: str = "123456") -> Answer:
        return self.post("/auth/confirm", {"email": email, "code": code})

    def login(self, email: str, password: str = PASSWORD) -> Answer:
        return self.post("/auth/login", {"email": email, "password": password})

    def registered(self, email: str) -> dict[str, Any]:
        """Sign up, confirm and log in; the login answer's tokens."""
        assert self.sign_up(email).status == 201
        assert self.confirm(email).status == 200
        answer = self.login(email)
        assert answer.status == 200
        return answer.body


def claims_of(token: str) -> dict[str, Any]:
    """The claims the JWT authorizer would pass on (moto signs the token; the authorizer has checked it)."""
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def email() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def auth_api(lambda_env, context_for, monkeypatch: pytest.MonkeyPatch, cloud) -> AuthApi:
    lambda_env("AuthPublicFunction")
    from auth import api, bootstrap

    # moto makes a new user pool for each test: wire again, as a fresh cold start would.
    monkeypatch.setattr(api, "deps", bootstrap.from_env())

    def invoke_public(event: dict[str, Any]) -> Answer:
        return _answer(api.public_handler(event, context_for("AuthPublicFunction")))

    def invoke_me(event: dict[str, Any]) -> Answer:
        return _answer(api.me_handler(event, context_for("MeFunction")))

    return AuthApi(invoke_public=invoke_public, invoke_me=invoke_me, stack=cloud)
