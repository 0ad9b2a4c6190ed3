"""The sample events in events/Analytics*/ (for `gears invoke -e`, `sam local invoke -e`) work against the
functions."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from tests.conftest import ROOT

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def test_the_consumer_and_http_samples(consumers: ModuleType, api: ModuleType) -> None:
    ctx = LambdaContext("Analytics", timeout_s=60)
    # A sale sent long ago of a product analytics never heard of: counted, as uncategorised.
    assert consumers.handler(load("AnalyticsEventsConsumerFunction/order-paid.json"), ctx) == {"batchItemFailures": []}
    sales = json.loads(api.reports_handler(load("AnalyticsReportsFunction/get-sales.json"), ctx)["body"])
    assert sales["totals"]["revenue"]["amount"] == 1399
    assert [r["key"] for r in sales["breakdown"]] == ["uncategorised"]
    top = json.loads(api.reports_handler(load("AnalyticsReportsFunction/get-top-products.json"), ctx)["body"])
    assert [i["sku"] for i in top["items"]] == ["SKU-1"]
    # The series runs from that first sale to yesterday, empty days as zeros.
    forecast = json.loads(api.reports_handler(load("AnalyticsReportsFunction/get-forecast.json"), ctx)["body"])
    assert len(forecast["revenue"]["points"]) == 14
    assert forecast["historyDays"] >= 14
