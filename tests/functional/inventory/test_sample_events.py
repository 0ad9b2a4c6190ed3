"""The sample events in events/Inventory*/ (for `sam local invoke -e` / `gears invoke`) work against the functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.conftest import ROOT
from tests.functional.inventory.conftest import cold
from tests.support.topics import drain, subscribe_queue

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def test_the_http_and_queue_samples(api: ModuleType, consumers: ModuleType) -> None:
    context = LambdaContext("InventoryFunction")
    created = api.inventory_admin_handler(load("InventoryAdminFunction/update-stock.json"), context)
    assert created["statusCode"] == 201, created["body"]
    restocked = api.inventory_admin_handler(load("InventoryAdminFunction/restock.json"), context)
    assert restocked["statusCode"] == 200, restocked["body"]
    assert json.loads(restocked["body"])["onHand"] == 34

    for sample, figures in [
        ("order-placed.json", (34, 2)),
        ("order-paid.json", (32, 0)),
        ("order-cancelled.json", (34, 0)),
    ]:
        result = consumers.handler(load(f"InventoryOrderConsumerFunction/{sample}"), context)
        assert result == {"batchItemFailures": []}, sample
        got = json.loads(api.inventory_read_handler(load("InventoryReadFunction/get-stock.json"), context)["body"])
        assert (got["onHand"], got["reserved"]) == figures, sample

    low = api.inventory_read_handler(load("InventoryReadFunction/low-stock.json"), context)
    assert low["statusCode"] == 200
    assert json.loads(low["body"])["items"] == []


def test_the_product_created_sample_opens_the_stock_record(api: ModuleType, consumers: ModuleType) -> None:
    context = LambdaContext("InventoryFunction")
    result = consumers.catalog_handler(load("InventoryCatalogConsumerFunction/product-created.json"), context)
    assert result == {"batchItemFailures": []}
    got = api.inventory_read_handler(load("InventoryReadFunction/get-stock.json"), context)
    assert got["statusCode"] == 200, got["body"]
    body = json.loads(got["body"])
    assert (body["sku"], body["productId"], body["onHand"]) == ("85123A", "fd4e126c-1c26-56e4-9a43-0db37a4bcba6", 0)
    restocked = api.inventory_admin_handler(load("InventoryAdminFunction/restock.json"), context)
    assert restocked["statusCode"] == 200, restocked["body"]


def test_the_stream_sample(cloud: Stack, lambda_env: Callable[[str], dict[str, str]]) -> None:
    env = lambda_env("InventoryPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("inventory.publisher")
    result = publisher.handler(
        load("InventoryPublisherFunction/stream-modify.json"), LambdaContext("InventoryPublisherFunction")
    )
    assert result == {"batchItemFailures": []}
    assert [e.type for e in drain(queue)] == ["StockLevelChanged.v1", "StockLow.v1"]
