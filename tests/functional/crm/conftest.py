"""The CRM's functions in-process against moto (a cold start of each module per test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared.events import CloudEvent, new_event
from tests.support.handlers import Answer, clear_container, cold


@pytest.fixture(autouse=True)
def new_container() -> None:
    from crm import bootstrap

    clear_container(bootstrap)


@pytest.fixture
def table_name(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("CrmPublisherFunction")
    lambda_env("CrmCampaignLauncherFunction")
    return lambda_env("CrmEventsConsumerFunction")["TABLE_NAME"]


@pytest.fixture
def consumers(table_name: str) -> ModuleType:
    return cold("crm.consumers")


@pytest.fixture
def api(table_name: str) -> ModuleType:
    return cold("crm.api")


HANDLERS = {
    ("GET", "/admin/customers"): "customers_handler",
    ("GET", "/admin/customers/{userId}"): "customers_handler",
    ("POST", "/admin/customers/{userId}/interactions"): "customers_handler",
    ("POST", "/support/tickets"): "tickets_handler",
    ("GET", "/support/tickets"): "tickets_handler",
    ("GET", "/support/tickets/{ticketId}"): "tickets_handler",
    ("POST", "/support/tickets/{ticketId}/messages"): "tickets_handler",
    ("GET", "/admin/tickets"): "support_handler",
    ("GET", "/admin/tickets/{ticketId}"): "support_handler",
    ("POST", "/admin/tickets/{ticketId}/messages"): "support_handler",
    ("PUT", "/admin/tickets/{ticketId}"): "support_handler",
    ("GET", "/admin/segments"): "admin_handler",
    ("POST", "/admin/campaigns"): "admin_handler",
    ("GET", "/admin/campaigns/{campaignId}"): "admin_handler",
}

Call = Callable[..., Answer]


@pytest.fixture
def call(api: ModuleType) -> Call:
    """``call("GET", "/admin/customers/{userId}", claims=..., userId="u-1")``: path parameters by name."""

    def call(method: str, route: str, *, claims: dict[str, Any], **kw: Any) -> Answer:
        params = {k: v for k, v in kw.items() if k in ("userId", "ticketId", "campaignId")}
        rest = {k: v for k, v in kw.items() if k not in params}
        path = route.format(**params)
        handler = getattr(api, HANDLERS[(method, route)])
        event = http_api_event(method, path, path_parameters=params or None, claims=claims, **rest)
        return Answer(handler(event, LambdaContext("Crm", timeout_s=30)))

    return call


def sqs_event(*envelopes: CloudEvent) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"h-{i}",
                "body": e.to_json(),
                "attributes": {},
                "eventSource": "aws:sqs",
            }
            for i, e in enumerate(envelopes)
        ]
    }


def event(type_: str, data: dict[str, Any], *, time: str | None = None, event_id: str | None = None) -> CloudEvent:
    return new_event(type_, "gears.test", data, event_id=event_id or str(uuid.uuid4()), time=time)


def registered(user_id: str, email: str, name: str | None = None) -> CloudEvent:
    return event(
        "UserRegistered.v1", {"userId": user_id, "email": email, "name": name, "registeredAt": "2026-03-01T09:00:00Z"}
    )


def placed(
    order_id: str, user_id: str, total: int, *, code: str | None = None, at: str = "2026-03-01T10:00:00.000Z"
) -> CloudEvent:
    discount = {"code": code, "amount": {"amount": 100, "currency": "GBP"}} if code else None
    return event(
        "OrderPlaced.v1",
        {
            "orderId": order_id,
            "userId": user_id,
            "placedAt": at,
            "discount": discount,
            "lines": [],
            "subtotal": {"amount": total, "currency": "GBP"},
            "shipping": {"amount": 0, "currency": "GBP"},
            "total": {"amount": total, "currency": "GBP"},
        },
        time=at,
    )


def paid(order_id: str, amount: int, *, user_id: str | None = None, at: str | None = None) -> CloudEvent:
    return event(
        "PaymentSucceeded.v1",
        {
            "orderId": order_id,
            "userId": user_id,
            "paymentIntentId": "pi_1",
            "amount": {"amount": amount, "currency": "GBP"},
        },
        time=at,
    )


@pytest.fixture
def deliver(consumers: ModuleType) -> Callable[..., dict[str, Any]]:
    """Deliver events to the events consumer as one SQS batch; its partial batch response."""

    def run(*envelopes: CloudEvent) -> dict[str, Any]:
        result: dict[str, Any] = consumers.handler(sqs_event(*envelopes), LambdaContext("CrmEventsConsumerFunction"))
        return result

    return run
