"""The auth service's sample events in events/ (for `sam local invoke -e`) reach their handlers as they are."""

from __future__ import annotations

import json
from typing import Any

from gears.local.lambda_context import LambdaContext
from tests.conftest import ROOT
from tests.functional.auth.conftest import AuthApi

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads((EVENTS / path).read_text())


def test_the_http_samples(real_auth_api: AuthApi) -> None:
    from auth import api

    def status(handler: Any, sample: str) -> int:
        return int(handler(load(sample), LambdaContext(sample.split("/", maxsplit=1)[0]))["statusCode"])

    assert status(api.public_handler, "AuthPublicFunction/forgot-password.json") == 202
    assert status(api.public_handler, "AuthPublicFunction/reset-password.json") == 400  # no code was asked for
    # The samples carry a placeholder token that the user pool does not know: the routes run, and refuse it.
    assert status(api.session_handler, "AuthSessionFunction/logout.json") == 401
    assert status(api.admin_handler, "AuthAdminFunction/set-roles.json") == 401


def test_the_profile_samples(auth_api: AuthApi, lambda_env: Any) -> None:
    """The samples' caller has no profile in a fresh table: the routes run, validate the body, and say so."""
    lambda_env("MeUpdateFunction")
    from auth import api

    for sample in ("MeUpdateFunction/patch-me.json", "MeUpdateFunction/confirm-phone.json"):
        answer = api.me_update_handler(load(sample), LambdaContext("MeUpdateFunction"))
        assert answer["statusCode"] == 404, answer
        assert json.loads(answer["body"])["type"].endswith("/profile-not-found")


def test_the_profile_and_roles_stream_samples(lambda_env: Any) -> None:
    lambda_env("AuthPublisherFunction")
    from auth import bootstrap, publisher

    bootstrap.reset()
    for sample, type_ in (
        ("AuthPublisherFunction/profile-updated.json", "UserProfileUpdated.v1"),
        ("AuthPublisherFunction/role-changed.json", "UserRolesChanged.v1"),
    ):
        (record,) = load(sample)["Records"]
        assert [e.type for e in publisher.events_for_record(record)] == [type_]
        assert publisher.handler(load(sample), LambdaContext("AuthPublisher")) == {"batchItemFailures": []}


def test_the_stream_sample(lambda_env: Any) -> None:
    lambda_env("AuthPublisherFunction")
    from auth import bootstrap, publisher

    bootstrap.reset()  # a cold start in this environment
    result = publisher.handler(load("AuthPublisherFunction/profile-confirmed.json"), LambdaContext("AuthPublisher"))
    assert result == {"batchItemFailures": []}
