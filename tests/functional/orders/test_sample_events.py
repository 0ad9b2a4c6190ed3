"""The sample events in events/Orders*/ (for `gears invoke -e`, `sam local invoke -e`) work against the functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.conftest import ROOT
from tests.support.handlers import cold
from tests.support.topics import drain, subscribe_queue

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def test_the_consumer_and_http_samples(consumers: ModuleType, api: ModuleType) -> None:
    ctx = LambdaContext("Orders")
    placed = consumers.handler(load("OrdersEventsConsumerFunction/order-placed.json"), ctx)
    assert placed == {"batchItemFailures": []}
    listed = api.read_handler(load("OrdersReadFunction/list-orders.json"), ctx)
    assert [o["orderId"] for o in json.loads(listed["body"])["items"]] == ["order-sample"]
    assert api.read_handler(load("OrdersReadFunction/get-order.json"), ctx)["statusCode"] == 200
    admin = api.admin_read_handler(load("OrdersAdminReadFunction/list-orders.json"), ctx)
    assert [o["orderId"] for o in json.loads(admin["body"])["items"]] == ["order-sample"]
    shipped = api.fulfilment_handler(load("OrdersFulfilmentFunction/ship-order.json"), ctx)
    assert shipped["statusCode"] == 422  # a PENDING order does not ship
    cancelled = api.cancel_handler(load("OrdersCancelFunction/cancel-order.json"), ctx)
    assert cancelled["statusCode"] == 200
    assert json.loads(cancelled["body"])["status"] == "CANCELLED"


def test_the_stream_sample(cloud: Stack, lambda_env: Callable[[str], dict[str, str]]) -> None:
    env = lambda_env("OrdersPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("orders.publisher")
    result = publisher.handler(load("OrdersPublisherFunction/stream-confirmed.json"), LambdaContext("Publisher"))
    assert result == {"batchItemFailures": []}
    assert [e.type for e in drain(queue)] == ["OrderConfirmed.v1"]
