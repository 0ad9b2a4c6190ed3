"""The notification functions in-process against moto (a cold start of each module per test), every resource built
from ``template.yaml``.

The channels' resources (the SES identity, the unsubscribe secret, the push platform application) come from the
local provisioner; :func:`channels` makes sure each is there in this test's moto all the same (a parameter the
provisioner chose for one test's moto, such as the push application's ARN, stays on the session's template), so
these tests do not hang on how another part provisions them.
"""

from __future__ import annotations

import email
import email.policy
import importlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.events import CloudEvent, new_event
from notification import bootstrap

ACCOUNT = "123456789012"
REGION = "us-east-1"


def claims(sub: str, *groups: str) -> dict[str, Any]:
    return {"sub": sub, "cognito:groups": list(groups) or ["customer"], "token_use": "access"}


class Answer:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.status: int = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.body: Any = json.loads(text) if text else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.body}>"


def cold(name: str) -> ModuleType:
    return importlib.reload(importlib.import_module(name))


@pytest.fixture(autouse=True)
def new_container() -> Iterator[None]:
    """Each test runs in a new container: the ports an earlier test built are built again, from this test's
    environment, on first use."""

    def clear() -> None:
        for port in vars(bootstrap).values():
            if callable(getattr(port, "cache_clear", None)):
                port.cache_clear()

    clear()
    yield
    clear()


def _ensure_identity(address: str) -> None:
    sesv2 = boto3.client("sesv2", region_name=REGION)
    try:
        sesv2.get_email_identity(EmailIdentity=address)
    except ClientError:
        sesv2.create_email_identity(EmailIdentity=address)


def _ensure_secret(secret_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    try:
        sm.get_secret_value(SecretId=secret_id)
    except ClientError:
        name = secret_id.rsplit(":", 1)[-1] if secret_id.startswith("arn:") else secret_id
        arn = sm.create_secret(Name=f"{name}-{uuid.uuid4().hex[:6]}", SecretString=secrets.token_hex(32))["ARN"]
        for key in ("UNSUBSCRIBE_SECRET_ARN",):
            monkeypatch.setenv(key, arn)


def _ensure_push_application(arn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    sns = boto3.client("sns", region_name=REGION)
    if arn:
        try:
            sns.get_platform_application_attributes(PlatformApplicationArn=arn)
            return arn
        except ClientError:
            pass
    # arn:aws:sns:<region>:<account>:app/<PLATFORM>/<name>: made again under the same name, it has the same ARN.
    platform, name = (arn.split(":app/", 1)[1].split("/", 1)) if ":app/" in arn else ("GCM", "gears-local-push")
    made = sns.create_platform_application(Name=name, Platform=platform, Attributes={"PlatformCredential": "local"})
    monkeypatch.setenv("PUSH_APPLICATION_ARN", made["PlatformApplicationArn"])
    return str(made["PlatformApplicationArn"])


@pytest.fixture
def env(cloud: Stack, lambda_env: Callable[[str], dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of the notification functions (the senders' superset, and the publisher's topic)."""
    lambda_env("NotificationPublisherFunction")
    values = lambda_env("NotificationEventsConsumerFunction")
    _ensure_identity(values["SENDER_EMAIL"])
    _ensure_secret(values["UNSUBSCRIBE_SECRET_ARN"], monkeypatch)
    _ensure_push_application(values["PUSH_APPLICATION_ARN"], monkeypatch)
    import os

    return {k: os.environ[k] for k in values} | {"TOPIC_ARN": os.environ["TOPIC_ARN"]}


@pytest.fixture
def consumers(env: dict[str, str]) -> ModuleType:
    return cold("notification.consumers")


@pytest.fixture
def api(env: dict[str, str]) -> ModuleType:
    return cold("notification.api")


HANDLERS = {
    ("GET", "/me/notifications"): "read_handler",
    ("GET", "/me/notification-preferences"): "read_handler",
    ("PUT", "/me/notification-preferences"): "preferences_handler",
    ("PUT", "/me/devices/{deviceId}"): "devices_handler",
    ("DELETE", "/me/devices/{deviceId}"): "devices_handler",
    ("GET", "/notifications/unsubscribe"): "unsubscribe_handler",
    ("POST", "/notifications/unsubscribe"): "unsubscribe_handler",
}


@pytest.fixture
def call(api: ModuleType) -> Callable[..., Answer]:
    def call(method: str, path: str, route: str | None = None, **kw: Any) -> Answer:
        route = route or path
        handler = getattr(api, HANDLERS[(method, route)])
        event = http_api_event(method, path, route_key=f"{method} {route}", **kw)
        return Answer(handler(event, LambdaContext("Notification", timeout_s=30)))

    return call


def sqs_event(*envelopes: CloudEvent, bodies: list[str] | None = None) -> dict[str, Any]:
    texts = [e.to_json() for e in envelopes] + list(bodies or [])
    return {
        "Records": [
            {
                "messageId": f"m-{i}-{uuid.uuid4().hex[:6]}",
                "receiptHandle": f"h-{i}",
                "body": text,
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
            for i, text in enumerate(texts)
        ]
    }


def event(type_: str, source: str, data: dict[str, Any], *, event_id: str | None = None) -> CloudEvent:
    return new_event(type_, source, data, event_id=event_id or str(uuid.uuid4()), correlation_id="test-corr")


def registered(user_id: str, address: str, name: str | None = "Ann Lee") -> CloudEvent:
    data = {"userId": user_id, "email": address, "name": name, "registeredAt": "2026-03-01T10:00:00Z"}
    return event("UserRegistered.v1", "gears.auth", data)


def profile(user_id: str, address: str, phone: str | None, *, at: str = "2026-03-01T11:00:00Z") -> CloudEvent:
    data = {
        "userId": user_id,
        "email": address,
        "name": "Ann Lee",
        "phone": phone,
        "phoneVerified": phone is not None,
        "locale": "en-GB",
        "updatedAt": at,
    }
    return event("UserProfileUpdated.v1", "gears.auth", data)


def order_placed(order_id: str, user_id: str) -> CloudEvent:
    data = {
        "orderId": order_id,
        "userId": user_id,
        "lines": [
            {
                "productId": "p-1",
                "sku": "SKU-1",
                "title": "Enamel mug",
                "quantity": 2,
                "unitPrice": {"amount": 500, "currency": "GBP"},
                "lineTotal": {"amount": 1000, "currency": "GBP"},
            }
        ],
        "subtotal": {"amount": 1000, "currency": "GBP"},
        "shipping": {"amount": 399, "currency": "GBP"},
        "discount": None,
        "total": {"amount": 1399, "currency": "GBP"},
        "shippingAddress": {"name": "Ann"},
        "paymentMethod": "pm_card_visa",
        "placedAt": "2026-03-01T12:00:00Z",
    }
    return event("OrderPlaced.v1", "gears.ecommerce", data)


# -- what moto kept of the messages sent ---------------------------------------------------------------------------
@dataclass
class Mail:
    message_id: str
    to: list[str]
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]


def mails() -> list[Mail]:
    """Every email moto's SES accepted, simple and raw alike."""
    from moto.ses.models import ses_backends

    out = []
    for message in ses_backends[ACCOUNT][REGION].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None:
            out.append(
                Mail(
                    message.id,
                    list(message.destinations.get("ToAddresses", [])),
                    message.subject,
                    message.body,
                    None,
                    {},
                )
            )
            continue
        parsed = email.message_from_string(raw, policy=email.policy.default)
        text_part = parsed.get_body(("plain",))
        html_part = parsed.get_body(("html",))
        out.append(
            Mail(
                message.id,
                [str(parsed["To"])],
                str(parsed["Subject"]),
                text_part.get_content() if text_part else "",
                html_part.get_content() if html_part else None,
                {k: str(v) for k, v in parsed.items()},
            )
        )
    return out


def mails_to(address: str) -> list[Mail]:
    return [m for m in mails() if address in m.to]


def sms_sent() -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def pushes(endpoint_arn: str) -> list[str]:
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][REGION].platform_endpoints[endpoint_arn].messages.values())


def table_items(table: str) -> list[dict[str, Any]]:
    """Every item of the table, plain (a test's look at the whole table, as ``gears check`` takes it)."""
    from notification.store import _load

    client = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items += [item for item in (_load(raw) for raw in page["Items"]) if item]
    return items
