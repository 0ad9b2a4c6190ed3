"""The auth table's changes, through its stream and the publisher, onto the auth topic."""

from __future__ import annotations

import uuid
from typing import Any

from gears.local.filters import delivered, parse_filters
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.template import Template
from tests.functional.auth.conftest import AuthApi, claims_of, code_in, sms_sent_to
from tests.support.topics import drain, stream_batch, subscribe_queue


def test_confirming_an_account_publishes_user_registered_once(
    auth_api: AuthApi, admin_tokens: dict[str, Any], email: str, lambda_env
) -> None:
    env = lambda_env("AuthPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"], ["UserRegistered.v1"])
    from auth import bootstrap, publisher

    bootstrap.reset()  # a cold start in this environment
    signed_up = auth_api.sign_up(email).body
    confirm = auth_api.invoke_public(
        http_api_event(
            "POST", "/auth/confirm", body={"email": email, "code": "123456"}, headers={"x-correlation-id": "corr-42"}
        )
    )
    assert confirm.status == 200
    tokens = auth_api.login(email).body
    auth_api.set_roles(admin_tokens["accessToken"], claims_of(tokens["accessToken"])["sub"], ["support"])  # audit

    batch = stream_batch(auth_api.stack, "AuthTable")
    context = LambdaContext("AuthPublisherFunction", timeout_s=30)
    assert publisher.handler(batch, context) == {"batchItemFailures": []}
    (event,) = drain(queue)
    assert (event.type, event.source, event.subject) == ("UserRegistered.v1", "gears.auth", signed_up["userId"])
    assert event.correlationid == "corr-42"
    assert event.data["email"] == email
    assert event.data["userId"] == signed_up["userId"]

    publisher.handler(batch, context)  # a retried batch: the very same id, for consumers to drop
    assert [e.id for e in drain(queue)] == [event.id]


def delivered_to_publisher(template: Template, batch: dict[str, Any]) -> dict[str, Any]:
    """The batch as Lambda would hand it to AuthPublisherFunction: the records its FilterCriteria lets through."""
    (source,) = [e for e in template.functions()["AuthPublisherFunction"].events if e.type == "DynamoDB"]
    patterns = parse_filters(source.properties.get("FilterCriteria"))
    return {"Records": [r for r in batch["Records"] if delivered(patterns, r)]}


def test_profile_changes_and_role_decisions_reach_the_topic(
    auth_api: AuthApi, admin_tokens: dict[str, Any], email: str, lambda_env, template: Template
) -> None:
    """Name, locale and a confirmed phone publish UserProfileUpdated; a phone awaiting its code never does; a role
    decision publishes UserRolesChanged with the user's email."""
    lambda_env("MeUpdateFunction")
    env = lambda_env("AuthPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"], ["UserRegistered.v1", "UserProfileUpdated.v1", "UserRolesChanged.v1"])
    from auth import bootstrap, publisher

    bootstrap.reset()
    assert auth_api.post("/auth/signup", {"email": email, "password": "Correct1Horse", "name": "Ada"}).status == 201
    assert auth_api.confirm(email).status == 200
    token = auth_api.login(email).body["accessToken"]
    user_id = claims_of(token)["sub"]
    phone = "+447700900" + f"{uuid.uuid4().int % 1000:03d}"
    assert auth_api.patch_me(token, {"name": "Ada King", "locale": "en-GB"}).status == 200
    assert auth_api.patch_me(token, {"phone": phone}, headers={"x-correlation-id": "corr-phone"}).status == 200
    wrong = auth_api.confirm_phone(token, "000000" if code_in(sms_sent_to(phone)[0]) != "000000" else "111111")
    assert wrong.status == 400
    assert auth_api.confirm_phone(token, code_in(sms_sent_to(phone)[0])).status == 200
    assert auth_api.set_roles(admin_tokens["accessToken"], user_id, ["support"]).status == 200

    batch = delivered_to_publisher(template, stream_batch(auth_api.stack, "AuthTable"))
    context = LambdaContext("AuthPublisherFunction", timeout_s=30)
    assert publisher.handler(batch, context) == {"batchItemFailures": []}
    events = [e for e in drain(queue) if e.subject == user_id]
    by_type: dict[str, list[Any]] = {}
    for event in events:
        by_type.setdefault(event.type, []).append(event)

    (registered,) = by_type["UserRegistered.v1"]
    assert registered.data["name"] == "Ada"
    updates = sorted(by_type["UserProfileUpdated.v1"], key=lambda e: e.data["updatedAt"])
    assert [(u.data["name"], u.data["locale"], u.data["phone"], u.data["phoneVerified"]) for u in updates] == [
        ("Ada King", "en-GB", None, False),
        ("Ada King", "en-GB", phone, True),  # the pending phone and the wrong code published nothing
    ]
    assert all(u.data["email"] == email for u in updates)
    (roles,) = by_type["UserRolesChanged.v1"]
    assert (roles.data["email"], roles.data["roles"]) == (email, ["customer", "support"])

    publisher.handler(batch, context)  # a retried batch: the same ids again, for consumers to drop
    assert sorted(e.id for e in drain(queue) if e.subject == user_id) == sorted(e.id for e in events)
