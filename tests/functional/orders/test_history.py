"""OrdersHistoryFunction, OrdersDemoHistoryFunction and the publisher against moto: past orders imported once each,
announced once as OrderHistoryImported.v1, bad input refused with nothing written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.invariants import Shop
from tests.conftest import ROOT
from tests.support.handlers import ADMIN, SUPPORT, Answer, claims, cold
from tests.support.topics import drain, stream_batch, subscribe_queue

ROUTE = "/admin/orders/history"


@pytest.fixture
def table(lambda_env: Callable[[str], dict[str, str]]) -> str:
    lambda_env("OrdersPublisherFunction")
    lambda_env("OrdersDemoHistoryFunction")
    return lambda_env("OrdersHistoryFunction")["TABLE_NAME"]


@pytest.fixture
def post(table: str) -> Callable[..., Answer]:
    api = cold("orders.api")

    def post(body: Any, who: dict[str, Any] = ADMIN) -> Answer:
        event = http_api_event("POST", ROUTE, route_key=f"POST {ROUTE}", body=body, claims=who)
        return Answer(api.history_handler(event, LambdaContext("OrdersHistoryFunction", timeout_s=30)))

    return post


def history_order(kind: str = "order", **kw: Any) -> dict[str, Any]:
    return {
        "orderId": f"OR-{uuid.uuid4().hex[:12]}",
        "customerId": "17850",
        "placedAt": "2011-06-01T10:00:00Z",
        "country": "GB",
        "kind": kind,
        "lines": [
            {
                "productId": str(uuid.uuid4()),
                "sku": "85123A",
                "title": "White Hanging Heart T-Light Holder",
                "quantity": 6,
                "unitPrice": {"amount": 255, "currency": "GBP"},
            }
        ],
        **kw,
    }


def items(table: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    raw = boto3.client("dynamodb").scan(TableName=table)["Items"]  # a test's look at the whole table
    return [{k: plain.deserialize(v) for k, v in item.items()} for item in raw]


def history_items(table: str) -> list[dict[str, Any]]:
    return [i for i in items(table) if str(i["pk"]).startswith("HISTORY")]


def test_an_import_is_stored_once_and_announced_once(
    post: Callable[..., Answer], table: str, cloud: Stack, lambda_env: Callable[[str], dict[str, str]]
) -> None:
    queue = subscribe_queue(lambda_env("OrdersPublisherFunction")["TOPIC_ARN"])
    publisher = cold("orders.publisher")
    sale, back = history_order(), history_order("return")
    first = post({"orders": [sale, back]})
    assert first.status == 200, first
    assert first.body["received"] == 2
    assert first.body["imported"] == 2
    assert first.body["alreadyImported"] == []
    batch_id = first.body["batchId"]

    again = post({"orders": [sale, back]})
    assert again.body == {
        "received": 2,
        "imported": 0,
        "alreadyImported": [sale["orderId"], back["orderId"]],
        "batchId": None,
    }

    assert publisher.handler(stream_batch(cloud, "OrdersTable"), LambdaContext("Publisher")) == {
        "batchItemFailures": []
    }
    (event,) = drain(queue)
    assert event.type == "OrderHistoryImported.v1"
    assert event.subject == batch_id
    assert event.data["batchId"] == batch_id
    assert [o["orderId"] for o in event.data["orders"]] == [sale["orderId"], back["orderId"]]
    assert event.data["orders"][0]["total"] == {"amount": 6 * 255, "currency": "GBP"}
    assert event.data["orders"][1]["kind"] == "return"
    # A replayed stream publishes the same event id (consumers drop the repeat).
    publisher.handler(stream_batch(cloud, "OrdersTable"), LambdaContext("Publisher"))
    assert [e.id for e in drain(queue)] == [event.id]

    invariants = cold("orders.invariants")
    imported = [c for c in invariants.checks(items(table), Shop()) if "imported" in c.name]
    assert imported[0].ok
    assert imported[0].checked == 2


def test_a_partly_known_import_adds_only_the_new_orders(post: Callable[..., Answer], table: str) -> None:
    known, new = history_order(), history_order()
    post({"orders": [known]})
    answer = post({"orders": [known, new]})
    assert answer.body["imported"] == 1
    assert answer.body["alreadyImported"] == [known["orderId"]]
    markers = {i["orderId"]: i["batchId"] for i in history_items(table) if i["entity"] == "HistoryMarker"}
    assert markers[new["orderId"]] == answer.body["batchId"]


def test_only_an_admin_imports(post: Callable[..., Answer], table: str) -> None:
    for who in (SUPPORT, claims("customer-1")):
        refused = post({"orders": [history_order()]}, who)
        assert refused.status == 403
    assert history_items(table) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"orders": []},
        {"orders": [history_order(total={"amount": 1, "currency": "GBP"})]},  # the service computes totals
        {"orders": [history_order(placedAt="2999-01-01T00:00:00Z")]},
        {"orders": [history_order(placedAt="yesterday")]},
        {"orders": [history_order(placedAt="2011-06-01T10:00:00")]},  # no zone
        {"orders": [history_order(orderId="has space")]},
        {"orders": [history_order(orderId="OR-1\n")]},
        {"orders": [history_order(placedAt="0001-01-01T00:00:00+14:00")]},  # before the first representable moment
        {"orders": [history_order(lines=[{**history_order()["lines"][0], "title": "bell\u0007"}])]},
        {"orders": [history_order(kind="refund")]},
        {"orders": [history_order(lines=[])]},
        {"orders": [history_order(country="United Kingdom")]},
        {"orders": [history_order() for _ in range(51)]},
        {"orders": [history_order(lines=history_order()["lines"] * 300) for _ in range(2)]},
        {
            "orders": [
                history_order(),
                history_order(lines=[{**history_order()["lines"][0], "unitPrice": {"amount": 1, "currency": "EUR"}}]),
            ]
        },
        "not json at all",
        [1, 2, 3],
    ],
)
def test_bad_input_is_a_400_problem_and_writes_nothing(post: Callable[..., Answer], table: str, body: Any) -> None:
    answer = post(body)
    assert answer.status == 400, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert history_items(table) == []


def test_a_huge_body_is_413(post: Callable[..., Answer], table: str) -> None:
    answer = post({"orders": [history_order(customerId="x" * 2_000_000)]})
    assert answer.status == 413
    assert history_items(table) == []


def test_the_demo_loader_imports_shifted_history_once(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = cold("orders.demo")
    orders = demo.read_demo_history()[:120]
    monkeypatch.setattr(demo, "read_demo_history", lambda: orders)
    first = demo.handler({}, LambdaContext("OrdersDemoHistoryFunction", timeout_s=900))
    assert first["imported"] == 120
    assert first["weeksShifted"] > 0
    second = demo.handler({}, LambdaContext("OrdersDemoHistoryFunction", timeout_s=900))
    assert (second["imported"], second["alreadyImported"]) == (0, 120)


def test_the_sample_event(table: str) -> None:
    api = cold("orders.api")
    event = json.loads(Path(ROOT / "events" / "OrdersHistoryFunction" / "import-history.json").read_text())
    answer = Answer(api.history_handler(event, LambdaContext("OrdersHistoryFunction")))
    assert answer.status == 200, answer
    assert answer.body["imported"] == 2
