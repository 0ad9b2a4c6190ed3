"""The recommendation service's functions in-process against moto (a cold start of each module per test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.events import CloudEvent, new_event
from tests.support.handlers import Answer, clear_container, cold
from tests.support.topics import stream_batch


@pytest.fixture(autouse=True)
def new_container() -> None:
    from recommendation import bootstrap

    clear_container(bootstrap)


@pytest.fixture
def table_name(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("RecommendationModelFunction")
    return lambda_env("RecommendationEventsConsumerFunction")["TABLE_NAME"]


@pytest.fixture
def consumers(table_name: str) -> ModuleType:
    return cold("recommendation.consumers")


@pytest.fixture
def api(table_name: str) -> ModuleType:
    return cold("recommendation.api")


Call = Callable[..., Answer]


@pytest.fixture
def call(api: ModuleType) -> Call:
    """``call("/products/{productId}/related", productId=..., query={"limit": "5"})``; ``claims`` for /me."""

    def run(route: str, *, claims: dict[str, Any] | None = None, **kw: Any) -> Answer:
        params = {k: v for k, v in kw.items() if k == "productId"}
        rest = {k: v for k, v in kw.items() if k not in params}
        path = route.format(**params)
        handler = api.me_handler if route == "/me/recommendations" else api.related_handler
        event = http_api_event(
            "GET", path, route_key=f"GET {route}", path_parameters=params or None, claims=claims, **rest
        )
        return Answer(handler(event, LambdaContext("Recommendation", timeout_s=30)))

    return run


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


def event(type_: str, data: dict[str, Any], *, time: str | None = None) -> CloudEvent:
    return new_event(type_, "gears.test", data, event_id=str(uuid.uuid4()), time=time)


def product(
    product_id: str, *, version: int = 1, status: str = "active", path: tuple[str, ...] = ("home-kitchen", "mugs-cups")
) -> CloudEvent:
    return event(
        "ProductCreated.v1" if version == 1 else "ProductUpdated.v1",
        {
            "productId": product_id,
            "sku": f"SKU-{product_id[:8].upper()}",
            "title": f"Product {product_id[:8]}",
            "description": "A product.",
            "price": {"amount": 795, "currency": "GBP"},
            "category": path[-1],
            "categoryPath": list(path),
            "brand": None,
            "images": [],
            "attributes": {},
            "status": status,
            "createdAt": "2026-03-01T09:00:00Z",
            "updatedAt": "2026-03-01T09:00:00Z",
            "version": version,
        },
    )


def stock(product_id: str, level: str, *, time: str = "2026-03-01T09:00:00.000Z") -> CloudEvent:
    return event(
        "StockLevelChanged.v1",
        {
            "sku": "SKU",
            "productId": product_id,
            "onHand": 5,
            "reserved": 0,
            "available": 5 if level != "out" else 0,
            "threshold": 2,
            "level": level,
        },
        time=time,
    )


def paid(order_id: str, user_id: str, *product_ids: str, at: str | None = None) -> CloudEvent:
    """An order paid now (the job's popular window ends today)."""
    at = at or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = {"sku": "S", "title": "T", "quantity": 1, "unitPrice": {"amount": 100, "currency": "GBP"}}
    return event(
        "OrderPaid.v1",
        {
            "orderId": order_id,
            "userId": user_id,
            "lines": [{**line, "productId": p, "lineTotal": line["unitPrice"]} for p in product_ids],
            "subtotal": {"amount": 100, "currency": "GBP"},
            "discount": None,
            "shipping": {"amount": 0, "currency": "GBP"},
            "total": {"amount": 100, "currency": "GBP"},
            "country": "GB",
            "placedAt": at,
            "paidAt": at,
        },
    )


@pytest.fixture
def deliver(consumers: ModuleType) -> Callable[..., dict[str, Any]]:
    """Deliver events to the events consumer as one SQS batch; its partial batch response."""

    def run(*envelopes: CloudEvent) -> dict[str, Any]:
        result: dict[str, Any] = consumers.handler(
            sqs_event(*envelopes), LambdaContext("RecommendationEventsConsumerFunction")
        )
        return result

    return run


@pytest.fixture
def run_job(cloud: Stack, consumers: ModuleType) -> Callable[[], dict[str, Any]]:
    """Run the model job over the table's stream so far (as its event source mapping would deliver it)."""

    def run() -> dict[str, Any]:
        batch = stream_batch(cloud, "RecommendationTable")
        result: dict[str, Any] = consumers.job_handler(batch, LambdaContext("RecommendationModelFunction"))
        return result

    return run
