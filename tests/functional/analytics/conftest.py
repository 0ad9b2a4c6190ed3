"""Analytics' functions in-process against moto (a cold start of each module per test)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared.events import CloudEvent, new_event
from tests.support.handlers import clear_container, cold

ADMIN = {"sub": "admin-1", "cognito:groups": ["admin", "customer"], "token_use": "access"}


@pytest.fixture(autouse=True)
def new_container() -> None:
    from analytics import bootstrap

    clear_container(bootstrap)


@pytest.fixture
def table_name(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("AnalyticsReportsFunction")
    return lambda_env("AnalyticsEventsConsumerFunction")["TABLE_NAME"]


@pytest.fixture
def consumers(table_name: str) -> ModuleType:
    return cold("analytics.consumers")


@pytest.fixture
def api(table_name: str) -> ModuleType:
    return cold("analytics.api")


Get = Callable[..., tuple[int, Any]]


@pytest.fixture
def get(api: ModuleType) -> Get:
    def get(path: str, claims: dict[str, Any] = ADMIN, **query: str) -> tuple[int, Any]:
        event = http_api_event("GET", path, route_key=f"GET {path}", query=query, claims=claims)
        raw = api.reports_handler(event, LambdaContext("Analytics", timeout_s=30))
        return raw["statusCode"], json.loads(raw["body"])

    return get


def sqs_event(*envelopes: CloudEvent) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"h-{i}",
                "body": e.to_json(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
            for i, e in enumerate(envelopes)
        ]
    }


def event(type_: str, data: dict[str, Any], *, time: str | None = None, event_id: str | None = None) -> CloudEvent:
    return new_event(type_, "gears.test", data, event_id=event_id or str(uuid.uuid4()), time=time)
