"""Wiring, in one place: the ports the notification functions use, each built once per container on first use,
from the environment the template sets.

Routes receive them with ``Depends(bootstrap.store)`` (tests swap them through the resolvers'
``dependency_overrides``); the consumers take them from here as they are built.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from gears_shared.errors import DependencyFailed
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher, stream_publisher_from_env
from notification.providers import SesEmailSender, SnsDeviceRegistry, SnsTextSender
from notification.service import DeviceRegistry, NotificationStore, Outbox
from notification.store import DynamoNotificationStore


def _env(name: str) -> str:
    return os.environ.get(name, "")


@cache
def alert_emails() -> tuple[str, ...]:
    """The operations addresses low-stock alerts also go to (``ALERT_EMAILS``, comma-separated; may be empty)."""
    return tuple(e.strip() for e in os.environ.get("ALERT_EMAILS", "").split(",") if e.strip())


@cache
def store() -> NotificationStore:
    return DynamoNotificationStore(_env("TABLE_NAME"))


@cache
def sns() -> Any:
    import boto3

    return boto3.client("sns")


@cache
def sesv2() -> Any:
    import boto3

    return boto3.client("sesv2")


@cache
def sqs() -> Any:
    """The SQS client the consumers reschedule failed messages with."""
    import boto3

    return boto3.client("sqs")


@cache
def unsubscribe_secret() -> bytes:
    """The key unsubscribe tokens are signed with: the Secrets Manager secret the template generates
    (``NotificationUnsubscribeSecret``), read once per container."""
    import boto3

    secret_id = _env("UNSUBSCRIBE_SECRET_ARN")
    try:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as exc:
        logger.warning("unsubscribe secret not readable", extra={"error": repr(exc)[:300]})
        raise DependencyFailed("The unsubscribe secret cannot be read.") from exc
    if not value:
        raise DependencyFailed("The unsubscribe secret is empty.")
    return str(value).encode()


@cache
def outbox() -> Outbox:
    return Outbox(
        email=SesEmailSender(sesv2(), _env("SENDER_EMAIL"), _env("CONFIGURATION_SET")),
        text=SnsTextSender(sns()),
        push_enabled=bool(_env("PUSH_APPLICATION_ARN")),
        secret=unsubscribe_secret,
        public_url=_env("PUBLIC_API_URL"),
    )


@cache
def device_registry() -> DeviceRegistry:
    return SnsDeviceRegistry(sns(), _env("PUSH_APPLICATION_ARN"))


@cache
def stream_publisher() -> StreamPublisher:
    """The delivery log's stream publisher, to the notification topic (``TOPIC_ARN``)."""
    from notification.publisher import events_for_record  # here: the publisher module's handler calls this one

    return stream_publisher_from_env(events_for_record, logger=logger, metrics=metrics)
