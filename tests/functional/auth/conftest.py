"""Auth handlers in-process against moto, wired the way a cold start wires them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
    """Calls the auth service's HTTP functions as API Gateway would."""

    invoke_public: Callable[[dict[str, Any]], Answer]
    invoke_me: Callable[[dict[str, Any]], Answer]
    stack: Any
    invoke_session: Callable[[dict[str, Any]], Answer] | None = None
    invoke_admin: Callable[[dict[str, Any]], Answer] | None = None
    invoke_me_update: Callable[[dict[str, Any]], Answer] | None = None
    mailbox: Path | None = None  # set when the user pool sends real codes (the faithful_cognito fixture)
    sent: dict[str, int] = field(default_factory=dict)

    def post(self, path: str, body: Any) -> Answer:
        return self.invoke_public(http_api_event("POST", path, body=body))

    def me(self, claims: Mapping[str, Any] | None) -> Answer:
        return self.invoke_me(http_api_event("GET", "/me", claims=claims))

    def signed_in(
        self, method: str, path: str, token: str, body: Any = None, headers: Mapping[str, str] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """The event of a request whose token the JWT authorizer accepted: its claims and its header."""
        headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        return http_api_event(method, path, body=body, claims=claims_of(token), headers=headers, **kw)

    def logout(self, token: str) -> Answer:
        assert self.invoke_session is not None
        return self.invoke_session(self.signed_in("POST", "/auth/logout", token))

    def set_roles(self, token: str, user_id: str, roles: Any) -> Answer:
        assert self.invoke_admin is not None
        return self.invoke_admin(
            self.signed_in(
                "PUT",
                f"/admin/users/{user_id}/roles",
                token,
                body={"roles": roles},
                route_key="PUT /admin/users/{userId}/roles",
                path_parameters={"userId": user_id},
            )
        )

    def patch_me(self, token: str, body: Any, **kw: Any) -> Answer:
        assert self.invoke_me_update is not None
        return self.invoke_me_update(self.signed_in("PATCH", "/me", token, body=body, **kw))

    def confirm_phone(self, token: str, code: str) -> Answer:
        assert self.invoke_me_update is not None
        return self.invoke_me_update(self.signed_in("POST", "/me/phone/confirm", token, body={"code": code}))

    def refresh(self, refresh_token: str) -> Answer:
        return self.post("/auth/refresh", {"refreshToken": refresh_token})

    def code_for(self, email: str) -> str:
        """The latest code the user pool mailed to ``email``."""
        from gears.local.cloud import read_mailbox

        assert self.mailbox is not None
        for message in reversed(read_mailbox(self.mailbox, email)):
            found = re.search(r"\b(\d{6})\b", message["body"])
            if found:
                return found.group(1)
        raise AssertionError(f"no code was mailed to {email}")

    # -- journeys ----------------------------------------------------------------------------------------------------
    def sign_up(self, email: str, password: str = PASSWORD) -> Answer:
        return self.post("/auth/signup", {"email": email, "password": password})

    def confirm(self, email: str, code: str | None = None) -> Answer:
        # moto as it is accepts any code; with real codes, the one the mailbox received.
        code = code or (self.code_for(email) if self.mailbox else "123456")
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


def sms_sent_to(phone: str) -> list[str]:
    """The SMS texts moto's SNS recorded for ``phone`` (``Publish`` with ``PhoneNumber``), oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    backend = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [text for number, text in backend.sms_messages.values() if number == phone]


def code_in(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found, f"no code in {text!r}"
    return found.group(1)


def claims_of(token: str) -> dict[str, Any]:
    """The claims the JWT authorizer would pass on (moto signs the token; the authorizer has checked it)."""
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def email() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def auth_api(lambda_env, context_for, cloud) -> Iterator[AuthApi]:
    lambda_env("AuthPublicFunction")
    from auth import api, bootstrap

    # moto makes a new user pool for each test: wire again, as a fresh cold start would.
    bootstrap.reset()

    def invoke_public(event: dict[str, Any]) -> Answer:
        return _answer(api.public_handler(event, context_for("AuthPublicFunction")))

    def invoke_me(event: dict[str, Any]) -> Answer:
        return _answer(api.me_handler(event, context_for("MeFunction")))

    def invoke_session(event: dict[str, Any]) -> Answer:
        return _answer(api.session_handler(event, context_for("AuthSessionFunction")))

    def invoke_admin(event: dict[str, Any]) -> Answer:
        return _answer(api.admin_handler(event, context_for("AuthAdminFunction")))

    def invoke_me_update(event: dict[str, Any]) -> Answer:
        return _answer(api.me_update_handler(event, context_for("MeUpdateFunction")))

    yield AuthApi(
        invoke_public=invoke_public,
        invoke_me=invoke_me,
        stack=cloud,
        invoke_session=invoke_session,
        invoke_admin=invoke_admin,
        invoke_me_update=invoke_me_update,
    )
    bootstrap.reset()  # nothing wired to this test's cloud outlives it


class Clock:
    """The lockout's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def faithful_cognito(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Clock]:
    """moto's Cognito with the local cloud's patches (real codes in a mailbox, revocation, lockout) for one test.

    The patches replace methods on moto's classes; every one is put back afterwards, so that other tests see moto
    as it is.
    """
    from moto.cognitoidp import responses
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool

    from gears.local.cloud import Mailbox, patch_cognito

    for cls, names in (
        (responses.CognitoIdpResponse, ("sign_up", "confirm_sign_up", "forgot_password", "confirm_forgot_password")),
        (CognitoIdpUserPool, ("sign_out",)),
        (CognitoIdpBackend, ("admin_delete_user", "initiate_auth", "admin_initiate_auth")),
    ):
        for name in names:
            monkeypatch.setattr(cls, name, getattr(cls, name))  # remembered, and restored at teardown
    mailbox, clock = tmp_path / "mailbox.jsonl", Clock()
    patch_cognito(Mailbox(mailbox), clock=clock)
    return mailbox, clock


@pytest.fixture
def real_auth_api(auth_api: AuthApi, faithful_cognito: tuple[Path, Clock]) -> AuthApi:
    auth_api.mailbox = faithful_cognito[0]
    return auth_api


@pytest.fixture
def admin_tokens(auth_api: AuthApi) -> dict[str, Any]:
    """A signed-in admin, made the way an operator makes one (`gears local` does the same at start-up)."""
    import boto3

    client = boto3.client("cognito-idp", region_name="us-east-1")
    pool = auth_api.stack.ref("UserPool")
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    client.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    for group in ("admin", "customer"):
        client.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    answer = auth_api.login(email)
    assert answer.status == 200, answer.body
    return answer.body
