"""The sample events in events/Search*/ (for `gears invoke -e`, `sam local invoke -e`) work against the functions:
the consumer's product and stock, the indexer's stream record, then the search that finds the product."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from search import bootstrap
from tests.conftest import ROOT

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def test_the_samples_find_the_sample_mug(consumers: ModuleType, api: ModuleType) -> None:
    ctx = LambdaContext("Search", timeout_s=60)
    assert consumers.handler(load("SearchEventsConsumerFunction/product-and-stock.json"), ctx) == {
        "batchItemFailures": []
    }
    stored = bootstrap.store().product_id_for_sku("SAMPLE-MUG")
    assert stored == "5a1e0000-0000-4000-8000-000000000001"
    summary = consumers.indexer_handler(load("SearchIndexerFunction/stream-product.json"), ctx)
    assert summary["docs"] == 1
    answer = api.handler(load("SearchFunction/search.json"), ctx)
    found = json.loads(answer["body"])
    assert answer["statusCode"] == 200
    assert [(i["sku"], i["availability"]) for i in found["items"]] == [("SAMPLE-MUG", "in_stock")]
