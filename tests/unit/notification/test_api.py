"""The notification routes over the fakes, handed in with ``dependency_overrides``: problems a client can act on,
and nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared.errors import DependencyFailed
from notification import api, bootstrap
from tests.unit.notification.fakes import SECRET, FakeRegistry, FakeStore

ANN = {"sub": "user-ann", "cognito:groups": ["customer"], "token_use": "access"}
APPS = (api.read_app, api.preferences_app, api.devices_app, api.unsubscribe_app)


@pytest.fixture
def store() -> Iterator[FakeStore]:
    fake = FakeStore()
    for app in APPS:
        app.dependency_overrides[bootstrap.store] = lambda: fake
        app.dependency_overrides[bootstrap.device_registry] = lambda: FakeRegistry(enabled=False)
        app.dependency_overrides[bootstrap.unsubscribe_secret] = lambda: SECRET
    yield fake
    for app in APPS:
        app.dependency_overrides.clear()


def call(handler: Any, method: str, path: str, route: str | None = None, **kw: Any) -> tuple[int, Any]:
    event = http_api_event(method, path, route_key=f"{method} {route or path}", **kw)
    raw = handler(event, LambdaContext("Notification", timeout_s=30))
    return raw["statusCode"], json.loads(raw["body"]) if raw.get("body") else None


def test_registering_a_device_without_push_configured_is_a_clear_422(store: FakeStore) -> None:
    status, problem = call(
        api.devices_handler,
        "PUT",
        "/me/devices/d1",
        "/me/devices/{deviceId}",
        path_parameters={"deviceId": "d1"},
        claims=ANN,
        body={"platform": "fcm", "token": "t" * 40},
    )
    assert status == 422
    assert problem["type"].endswith("/push-not-configured")
    assert store.devices("user-ann") == ()


def test_an_unreadable_secret_is_a_502_and_a_missing_token_a_400(store: FakeStore) -> None:
    status, problem = call(api.unsubscribe_handler, "GET", "/notifications/unsubscribe")
    assert status == 400
    assert problem["type"].endswith("/invalid-token")

    def broken() -> bytes:
        raise DependencyFailed("The unsubscribe secret cannot be read.")

    api.unsubscribe_app.dependency_overrides[bootstrap.unsubscribe_secret] = broken
    status, problem = call(api.unsubscribe_handler, "POST", "/notifications/unsubscribe", query={"token": "a.b"})
    assert status == 502
    assert store.prefs == {}


def test_preferences_need_a_signed_in_caller_and_a_known_body(store: FakeStore) -> None:
    assert call(api.read_handler, "GET", "/me/notification-preferences")[0] == 401
    status, _problem = call(
        api.preferences_handler,
        "PUT",
        "/me/notification-preferences",
        claims=ANN,
        body={"channels": {"support": ["email"]}, "userId": "someone-else"},
    )
    assert status == 400
    assert store.prefs == {}
