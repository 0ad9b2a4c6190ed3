"""Sign-up's name, PATCH /me and POST /me/phone/confirm over the fakes: the statuses and problems a client reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from auth import api, bootstrap
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from tests.unit.auth.fakes import FakeIdentityProvider, FakeSmsSender, InMemoryAuditLog, InMemoryProfileRepository

PASSWORD = "Correct1Horse"
PHONE = "+447700900123"


@pytest.fixture
def identity() -> FakeIdentityProvider:
    return FakeIdentityProvider(auto_confirm=True)


@pytest.fixture
def profiles() -> InMemoryProfileRepository:
    return InMemoryProfileRepository()


@pytest.fixture
def sms() -> FakeSmsSender:
    return FakeSmsSender()


@pytest.fixture(autouse=True)
def fakes(identity: FakeIdentityProvider, profiles: InMemoryProfileRepository, sms: FakeSmsSender) -> Iterator[None]:
    apps = (api.public_app, api.me_app, api.me_update_app)
    for app in apps:
        app.dependency_overrides[bootstrap.identity_provider] = lambda: identity
        app.dependency_overrides[bootstrap.profiles] = lambda: profiles
        app.dependency_overrides[bootstrap.audit_log] = InMemoryAuditLog
        app.dependency_overrides[bootstrap.sms_sender] = lambda: sms
    yield
    for app in apps:
        app.dependency_overrides.clear()


def answer(raw: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return raw["statusCode"], raw.get("headers") or {}, json.loads(raw.get("body") or "null")


def sign_up(body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return answer(api.public_handler(http_api_event("POST", "/auth/signup", body=body), LambdaContext("AuthPublic")))


def claims(user_id: str) -> dict[str, Any]:
    return {"sub": user_id, "token_use": "access", "cognito:groups": ["customer"]}


def patch_me(user_id: str, body: Any) -> tuple[int, dict[str, str], Any]:
    event = http_api_event("PATCH", "/me", body=body, claims=claims(user_id))
    return answer(api.me_update_handler(event, LambdaContext("MeUpdateFunction")))


def confirm_phone(user_id: str, body: Any) -> tuple[int, dict[str, str], Any]:
    event = http_api_event("POST", "/me/phone/confirm", body=body, claims=claims(user_id))
    return answer(api.me_update_handler(event, LambdaContext("MeUpdateFunction")))


def get_me(user_id: str) -> Any:
    event = http_api_event("GET", "/me", claims=claims(user_id))
    return answer(api.me_handler(event, LambdaContext("MeFunction")))[2]


@pytest.fixture
def user_id() -> str:
    status, _, body = sign_up({"email": "ada@example.com", "password": PASSWORD, "name": " Ada Lovelace "})
    assert status == 201
    return str(body["userId"])


def test_the_name_given_at_sign_up_is_on_the_profile(user_id: str) -> None:
    me = get_me(user_id)
    assert (me["name"], me["phone"], me["pendingPhone"], me["phoneVerified"], me["locale"]) == (
        "Ada Lovelace",
        None,
        None,
        False,
        None,
    )


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Ada\u0000", "Ada\u202e"])
def test_a_bad_name_at_sign_up_is_400_and_no_account_is_made(identity: FakeIdentityProvider, name: str) -> None:
    status, headers, body = sign_up({"email": "bob@example.com", "password": PASSWORD, "name": name})
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert body["type"].endswith("/invalid-name")
    assert identity.accounts == {}


def test_patch_me_changes_what_it_names_and_answers_the_profile(user_id: str) -> None:
    status, headers, body = patch_me(user_id, {"locale": "en-gb", "name": "Ada King"})
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert (body["name"], body["locale"], body["email"]) == ("Ada King", "en-GB", "ada@example.com")
    assert get_me(user_id)["locale"] == "en-GB"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"email": "evil@example.com"}, "bad-request"),
        ({"phoneVerified": True}, "bad-request"),
        ({"phone": "07700900123"}, "invalid-phone"),
        ({"phone": 447700900123}, "bad-request"),
        ({"locale": "english"}, "invalid-locale"),
        ({"name": "\u0007"}, "invalid-name"),
        ([], "bad-request"),
    ],
    ids=["email", "server field", "not e164", "number", "locale", "name", "not an object"],
)
def test_patch_me_refuses_bad_input_with_a_problem_and_changes_nothing(
    user_id: str, sms: FakeSmsSender, profiles: InMemoryProfileRepository, body: Any, problem: str
) -> None:
    before = profiles.items[user_id]
    status, headers, answered = patch_me(user_id, body)
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert answered["type"].rsplit("/", 1)[-1] == problem
    assert profiles.items[user_id] == before
    assert sms.sent == []


def test_the_phone_is_confirmed_by_the_code_sent_by_sms(user_id: str, sms: FakeSmsSender) -> None:
    status, _, body = patch_me(user_id, {"phone": PHONE})
    assert status == 200
    assert (body["phone"], body["pendingPhone"], body["phoneVerified"]) == (None, PHONE, False)
    assert body["phoneCodeExpiresAt"].endswith("Z")
    (code,) = sms.codes_to(PHONE)
    status, _, body = confirm_phone(user_id, {"code": code})
    assert status == 200
    assert (body["phone"], body["pendingPhone"], body["phoneVerified"]) == (PHONE, None, True)
    assert get_me(user_id)["phone"] == PHONE


def test_wrong_codes_then_no_more_tries(user_id: str, sms: FakeSmsSender) -> None:
    patch_me(user_id, {"phone": PHONE})
    (code,) = sms.codes_to(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        status, headers, body = confirm_phone(user_id, {"code": wrong})
        assert (status, body["type"].rsplit("/", 1)[-1], body["attemptsLeft"]) == (400, "invalid-code", left)
        assert headers["Content-Type"] == "application/problem+json"
    status, _, body = confirm_phone(user_id, {"code": code})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (400, "code-attempts-exhausted")
    assert get_me(user_id)["phone"] is None


def test_confirming_with_nothing_pending_is_409(user_id: str) -> None:
    status, _, body = confirm_phone(user_id, {"code": "123456"})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (409, "no-pending-phone")


def test_confirm_refuses_unknown_fields(user_id: str) -> None:
    status, _, _ = confirm_phone(user_id, {"code": "123456", "phone": PHONE})
    assert status == 400


def test_asking_for_codes_too_often_is_429_with_when_to_try_again(user_id: str, sms: FakeSmsSender) -> None:
    patch_me(user_id, {"phone": PHONE})
    status, _, body = patch_me(user_id, {"phone": PHONE})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (429, "code-recently-sent")
    assert 0 < body["retryAfterSeconds"] <= 60
    assert len(sms.sent) == 1


def test_a_number_the_provider_refuses_is_400_and_nothing_changes(user_id: str, sms: FakeSmsSender) -> None:
    sms.refuse.add(PHONE)
    status, _, body = patch_me(user_id, {"phone": PHONE})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (400, "phone-refused")
    assert get_me(user_id)["pendingPhone"] is None


def test_an_sms_outage_is_502_and_nothing_changes(user_id: str, sms: FakeSmsSender) -> None:
    sms.fail_next = 1
    status, _, body = patch_me(user_id, {"phone": PHONE})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (502, "sms-failed")
    assert get_me(user_id)["pendingPhone"] is None


def test_an_account_made_outside_sign_up_has_no_profile_to_change() -> None:
    status, _, body = patch_me("operator-made", {"name": "Root"})
    assert (status, body["type"].rsplit("/", 1)[-1]) == (404, "profile-not-found")


def test_an_empty_patch_changes_nothing(user_id: str, profiles: InMemoryProfileRepository) -> None:
    version = profiles.items[user_id].version
    for body in (None, {}):
        status, _, answered = patch_me(user_id, body)
        assert (status, answered["name"]) == (200, "Ada Lovelace")
    assert profiles.items[user_id].version == version


def test_patch_me_without_a_token_is_401() -> None:
    event = http_api_event("PATCH", "/me", body={"name": "x"})
    status, _, _ = answer(api.me_update_handler(event, LambdaContext("MeUpdateFunction")))
    assert status == 401
