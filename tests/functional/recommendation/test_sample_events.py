"""The sample events in events/Recommendation*/ (for `gears invoke -e`, `sam local invoke -e`) work against the
functions."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from tests.conftest import ROOT

EVENTS = ROOT / "events"
MUG, COASTER = "6f1c1d52-3a52-5b0c-9c39-5a8f4b1e2a01", "6f1c1d52-3a52-5b0c-9c39-5a8f4b1e2a02"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def test_the_samples(consumers: ModuleType, api: ModuleType) -> None:
    ctx = LambdaContext("Recommendation", timeout_s=60)
    sample = load("RecommendationEventsConsumerFunction/products-stock-and-order-paid.json")
    assert consumers.handler(sample, ctx) == {"batchItemFailures": []}
    # The schedule's event carries no basket: with no snapshot yet the job rebuilds from the table's baskets.
    summary = consumers.job_handler(load("RecommendationModelFunction/scheduled.json"), ctx)
    assert (summary["rebuilt"], summary["items"]) == (True, 2)

    related = body(api.related_handler(load("RecommendationRelatedFunction/related.json"), ctx))
    assert (related["basis"], [i["productId"] for i in related["items"]]) == ("co-purchase", [COASTER])
    # The sample customer bought both products; nothing else was bought in the last 90 days: nothing to offer.
    mine = api.me_handler(load("RecommendationMeFunction/my-recommendations.json"), ctx)
    assert mine["statusCode"] == 200
    assert body(mine)["items"] == []
