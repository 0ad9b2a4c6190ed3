"""Wiring: the real adapters, each built once per container on first use, from the environment the template sets.

Routes receive them with Powertools' ``Depends(bootstrap.identity_provider)``; tests hand in fakes with
``app.dependency_overrides[bootstrap.identity_provider] = lambda: fake``. The stream publisher takes its own from
here too. :func:`reset` forgets what was built, as a new cold start would (tests whose cloud is new each time).
"""

from __future__ import annotations

import os
from functools import cache
from typing import NoReturn

from auth.errors import ServiceMisconfigured
from auth.service import AuditLog, IdentityProvider, ProfileRepository, SmsSender
from gears_shared.streams import StreamPublisher

# Inside the function's 10 s timeout, with room for a retry: Cognito answers in well under a second.
COGNITO_CONNECT_TIMEOUT_S = 2
COGNITO_READ_TIMEOUT_S = 4
COGNITO_MAX_ATTEMPTS = 2
# SNS the same: the code's SMS is sent while the client waits for its PATCH /me.
SNS_CONNECT_TIMEOUT_S = 2
SNS_READ_TIMEOUT_S = 4
SNS_MAX_ATTEMPTS = 2


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ServiceMisconfigured(f"This function is not configured with {name}.")
    return value


@cache
def profiles() -> ProfileRepository:
    from auth.store import DynamoProfileRepository

    return DynamoProfileRepository(_setting("TABLE_NAME"))


@cache
def audit_log() -> AuditLog:
    from auth.store import DynamoAuditLog

    return DynamoAuditLog(_setting("TABLE_NAME"))


class NoUserPool:
    """The user pool of a function deployed without one (MeFunction has none): whatever a route asks of it is
    :class:`ServiceMisconfigured`, a 500 an operator must act on. A stand-in rather than an error here, because
    Powertools reports an error raised while resolving a dependency as its own, which would hide this one."""

    def __getattr__(self, operation: str) -> NoReturn:
        if operation.startswith("__"):  # Python's own probes (copy, pickle) are no use of the pool
            raise AttributeError(operation)
        raise ServiceMisconfigured("This function is not configured for the user pool.")


@cache
def identity_provider() -> IdentityProvider:
    """The Cognito user pool named by USER_POOL_ID and USER_POOL_CLIENT_ID, else :class:`NoUserPool`."""
    pool_id, client_id = os.environ.get("USER_POOL_ID"), os.environ.get("USER_POOL_CLIENT_ID")
    if not pool_id or not client_id:
        return NoUserPool()
    # boto3 only where the user pool is used: MeFunction reads DynamoDB through PynamoDB and skips its import.
    import boto3
    from botocore.config import Config

    from auth.cognito import CognitoIdentityProvider

    config = Config(
        connect_timeout=COGNITO_CONNECT_TIMEOUT_S,
        read_timeout=COGNITO_READ_TIMEOUT_S,
        retries={"max_attempts": COGNITO_MAX_ATTEMPTS, "mode": "standard"},
    )
    return CognitoIdentityProvider(boto3.client("cognito-idp", config=config), pool_id, client_id)


@cache
def sms_sender() -> SmsSender:
    """SMS by SNS ``Publish`` to a phone number (the phone's confirmation codes)."""
    import boto3
    from botocore.config import Config

    from auth.sms import SnsSmsSender

    config = Config(
        connect_timeout=SNS_CONNECT_TIMEOUT_S,
        read_timeout=SNS_READ_TIMEOUT_S,
        retries={"max_attempts": SNS_MAX_ATTEMPTS, "mode": "standard"},
    )
    return SnsSmsSender(boto3.client("sns", config=config))


@cache
def stream_publisher() -> StreamPublisher:
    """The auth table's stream, published on the auth topic (TOPIC_ARN)."""
    from auth.publisher import events_for_record
    from gears_shared.observability import logger, metrics
    from gears_shared.streams import stream_publisher_from_env

    return stream_publisher_from_env(events_for_record, logger=logger, metrics=metrics)


def reset() -> None:
    """Forget every adapter built so far: the next use builds it again from the environment."""
    for built in (profiles, audit_log, identity_provider, sms_sender, stream_publisher):
        built.cache_clear()
