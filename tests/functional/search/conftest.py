"""Search's functions in-process against moto (a cold start of each module per test), every resource from the
template: the consumer writes the table, the indexer reads its stream and writes the bucket, the API reads it."""

from __future__ import annotations

import importlib
import json
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gears.local.filters import delivered, parse_filters
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears.local.template import Template
from gears_shared.events import CloudEvent, new_event
from tests.conftest import TEMPLATE
from tests.support.topics import stream_batch


def cold(name: str) -> ModuleType:
    return importlib.reload(importlib.import_module(name))


@pytest.fixture(autouse=True)
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions' copies of the index (under the temporary directory, as on Lambda) go in the test's own."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture(autouse=True)
def new_container() -> None:
    from search import bootstrap

    for port in vars(bootstrap).values():
        if callable(getattr(port, "cache_clear", None)):
            port.cache_clear()


@pytest.fixture
def search_env(lambda_env: Callable[[str], dict[str, str]]) -> dict[str, str]:
    lambda_env("SearchFunction")
    lambda_env("SearchIndexerFunction")
    return lambda_env("SearchEventsConsumerFunction")


@pytest.fixture
def consumers(search_env: dict[str, str]) -> ModuleType:
    return cold("search.consumers")


@pytest.fixture
def api(search_env: dict[str, str]) -> ModuleType:
    return cold("search.api")


def sqs_event(*envelopes: CloudEvent) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m-{i}", "receiptHandle": f"h-{i}", "body": e.to_json(), "attributes": {}}
            for i, e in enumerate(envelopes)
        ]
    }


def product_event(
    product_id: str, title: str, *, version: int = 1, amount: int = 795, status: str = "active"
) -> CloudEvent:
    return new_event(
        "ProductCreated.v1" if version == 1 else "ProductUpdated.v1",
        "gears.ecommerce",
        {
            "productId": product_id,
            "sku": f"SKU-{product_id[:8].upper()}",
            "title": title,
            "description": "Made to last.",
            "price": {"amount": amount, "currency": "GBP"},
            "category": "mugs-cups",
            "categoryPath": ["home-kitchen", "mugs-cups"],
            "brand": None,
            "images": [],
            "attributes": {},
            "status": status,
            "createdAt": "2026-03-01T09:00:00Z",
            "updatedAt": "2026-03-01T09:00:00Z",
            "version": version,
        },
        event_id=str(uuid.uuid4()),
    )


def stock_event(product_id: str | None, level: str, *, sku: str = "SKU", time: str) -> CloudEvent:
    data = {"sku": sku, "productId": product_id, "onHand": 3, "reserved": 0, "available": 3, "threshold": 2}
    return new_event(
        "StockLevelChanged.v1",
        "gears.inventory",
        {**data, "level": level, "version": 1, "changedAt": time},
        event_id=str(uuid.uuid4()),
        time=time,
    )


class Search:
    """The shop's search path end to end in-process: events in, the stream to the indexer, the API out."""

    def __init__(self, cloud: Stack, consumers: ModuleType, api: ModuleType) -> None:
        self.cloud, self.consumers, self.api = cloud, consumers, api
        self.seen = 0
        source = Template(TEMPLATE).resources["SearchIndexerFunction"]["Properties"]["Events"]["ProductChanges"]
        self.filters = parse_filters(source["Properties"]["FilterCriteria"])  # as the event source mapping filters

    def send(self, *envelopes: CloudEvent) -> dict[str, Any]:
        answer: dict[str, Any] = self.consumers.handler(sqs_event(*envelopes), LambdaContext("Consumer", timeout_s=30))
        return answer

    def index(self) -> dict[str, Any]:
        """The stream records the indexer has not seen yet, as one batch, through the template's FilterCriteria."""
        records = stream_batch(self.cloud, "SearchTable")["Records"]
        fresh, self.seen = records[self.seen :], len(records)
        fresh = [r for r in fresh if delivered(self.filters, r)]
        summary: dict[str, Any] = self.consumers.indexer_handler(
            {"Records": fresh}, LambdaContext("Indexer", timeout_s=60)
        )
        return summary

    def get(self, query: dict[str, str] | None = None) -> tuple[int, Any]:
        event = http_api_event("GET", "/search", route_key="GET /search", query=query)
        answer = self.api.handler(event, LambdaContext("SearchFunction", timeout_s=10))
        return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def search(cloud: Stack, consumers: ModuleType, api: ModuleType) -> Search:
    return Search(cloud, consumers, api)
