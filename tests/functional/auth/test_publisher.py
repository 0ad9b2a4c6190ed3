"""A confirmed account's profile change, through the auth table's stream and the publisher, onto the auth topic."""

from __future__ import annotations

from typing import Any

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from tests.functional.auth.conftest import AuthApi, claims_of
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
