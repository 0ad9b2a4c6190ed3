"""The consumer and the report routes against the table built from template.yaml: each event's increments land
once, whatever the batch and however often it comes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from tests.functional.analytics.conftest import Get, event, sqs_event

CTX = LambdaContext("AnalyticsConsumer", timeout_s=60)


def product(category: str) -> tuple[str, Any]:
    pid = str(uuid.uuid4())
    data = {
        "productId": pid,
        "sku": f"SKU-{pid[:8]}",
        "title": f"Lamp {pid[:4]}",
        "category": "lamps",
        "categoryPath": [category, "lamps"],
        "version": 1,
        "status": "active",
    }
    return pid, event("ProductCreated.v1", data)


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "GBP"}


def paid(order_id: str, pid: str, quantity: int, unit: int, total: int, day: str, country: str = "DE") -> Any:
    line = {
        "productId": pid,
        "sku": f"SKU-{pid[:8]}",
        "title": "Lamp",
        "quantity": quantity,
        "unitPrice": money(unit),
        "lineTotal": money(unit * quantity),
    }
    data = {
        "orderId": order_id,
        "userId": "u-1",
        "lines": [line],
        "subtotal": money(unit * quantity),
        "discount": None,
        "shipping": money(total - unit * quantity),
        "total": money(total),
        "country": country,
        "placedAt": f"{day}T09:00:00Z",
        "paidAt": f"{day}T09:01:00Z",
    }
    return event("OrderPaid.v1", data)


def test_a_paid_order_and_its_refund_move_the_figures_once(consumers: ModuleType, get: Get) -> None:
    pid, created = product("lighting")
    order_id = f"o-{uuid.uuid4()}"
    sale = paid(order_id, pid, 3, 1500, 4999, "2026-06-10")
    refund = event(
        "PaymentRefunded.v1",
        {"orderId": order_id, "refundId": "r-1", "amount": money(1500), "refundedTotal": money(1500), "full": False},
        time="2026-06-12T08:00:00Z",
    )
    assert consumers.handler(sqs_event(created), CTX) == {"batchItemFailures": []}
    assert consumers.handler(sqs_event(sale, sale, refund), CTX) == {"batchItemFailures": []}
    assert consumers.handler(sqs_event(refund), CTX) == {"batchItemFailures": []}

    status, body = get("/admin/analytics/sales", **{"from": "2026-06-10", "to": "2026-06-12", "by": "category"})
    assert status == 200
    june10, _, june12 = body["buckets"]
    assert (june10["revenue"]["amount"], june10["orders"], june10["units"]) == (4999, 1, 3)
    assert (june12["refunds"]["amount"], june12["refundCount"]) == (1500, 1)
    assert [(r["key"], r["revenue"]["amount"], r["refunds"]["amount"]) for r in body["breakdown"]] == [
        ("lighting", 4999, 1500)
    ]
    _, by_country = get(
        "/admin/analytics/sales", **{"from": "2026-06-01", "to": "2026-06-30", "by": "country", "granularity": "month"}
    )
    assert [b["period"] for b in by_country["buckets"]] == ["2026-06"]
    assert by_country["breakdown"][0]["key"] == "DE"

    _, top = get("/admin/analytics/top-products", **{"from": "2026-05-20", "to": "2026-07-05"})
    assert [(i["productId"], i["units"], i["revenue"]["amount"], i["title"]) for i in top["items"]] == [
        (pid, 3, 4500, "Lamp")
    ]


def test_a_refund_before_its_order_is_retried(consumers: ModuleType, get: Get) -> None:
    refund = event("PaymentRefunded.v1", {"orderId": f"o-{uuid.uuid4()}", "refundId": "r", "amount": money(100)})
    failed = consumers.handler(sqs_event(refund), CTX)
    assert [f["itemIdentifier"] for f in failed["batchItemFailures"]] == ["m-0"]


def test_a_history_batch_counts_each_order_on_its_day(consumers: ModuleType, get: Get) -> None:
    pid, created = product("garden")
    consumers.handler(sqs_event(created), CTX)
    orders = []
    for n in range(50):
        day = f"2011-0{1 + n % 3}-1{n % 9}"
        line = {"productId": pid, "sku": "SKU", "title": "Spade", "quantity": 2, "unitPrice": money(300)}
        orders.append(
            {
                "orderId": f"OR-{uuid.uuid4()}",
                "customerId": "17850",
                "placedAt": f"{day}T10:00:00Z",
                "country": "GB",
                "kind": "return" if n == 0 else "order",
                "lines": [line],
                "total": money(600),
            }
        )
    batch = event("OrderHistoryImported.v1", {"batchId": "b-1", "importedAt": "2026-11-27T00:00:00Z", "orders": orders})
    assert consumers.handler(sqs_event(batch, batch), CTX) == {"batchItemFailures": []}

    _, body = get("/admin/analytics/sales", **{"from": "2011-01-01", "to": "2011-03-31", "granularity": "month"})
    totals = body["totals"]
    assert (totals["orders"], totals["revenue"]["amount"], totals["refundCount"]) == (49, 49 * 600, 1)
    _, top = get("/admin/analytics/top-products", **{"from": "2011-01-01", "to": "2011-12-31", "by": "units"})
    assert top["items"][0]["units"] == 98


def test_the_forecast_answers_from_the_daily_series(consumers: ModuleType, get: Get) -> None:
    pid, created = product("garden")
    consumers.handler(sqs_event(created), CTX)
    today = datetime.now(UTC).date()
    sales = [
        paid(
            f"o-{uuid.uuid4()}", pid, 1, 1000 + 10 * back, 1000 + 10 * back, (today - timedelta(days=back)).isoformat()
        )
        for back in range(1, 29)
    ]
    assert consumers.handler(sqs_event(*sales), CTX) == {"batchItemFailures": []}
    status, body = get("/admin/analytics/forecast", days="7", level="0.8")
    assert status == 200, body
    assert body["historyDays"] == 28
    assert len(body["revenue"]["points"]) == 7
    assert body["revenue"]["points"][0]["date"] == today.isoformat()
    assert all(p["lower"]["amount"] <= p["mean"]["amount"] <= p["upper"]["amount"] for p in body["revenue"]["points"])
    again = get("/admin/analytics/forecast", days="7", level="0.8")[1]
    assert again["generatedAt"] == body["generatedAt"]  # the day's cached answer


def test_a_batch_of_many_counters_lands_in_chunks_once(consumers: ModuleType, get: Get) -> None:
    products = [product("garden") for _ in range(4)]
    consumers.handler(sqs_event(*[created for _, created in products]), CTX)
    orders = []
    for n in range(50):
        day = f"2010-0{1 + n % 6}-{10 + n % 18}"
        lines = [
            {"productId": pid, "sku": "SKU", "title": "Rake", "quantity": 1, "unitPrice": money(100)}
            for pid, _ in products
        ]
        orders.append(
            {
                "orderId": f"OR-{uuid.uuid4()}",
                "customerId": "",
                "placedAt": f"{day}T10:00:00Z",
                "country": "",
                "kind": "order",
                "lines": lines,
                "total": money(400),
            }
        )
    batch = event("OrderHistoryImported.v1", {"batchId": "b-2", "importedAt": "2026-11-27T00:00:00Z", "orders": orders})
    assert consumers.handler(sqs_event(batch), CTX) == {"batchItemFailures": []}
    assert consumers.handler(sqs_event(batch), CTX) == {"batchItemFailures": []}

    _, body = get(
        "/admin/analytics/sales", **{"from": "2010-01-01", "to": "2010-06-30", "granularity": "month", "by": "country"}
    )
    assert (body["totals"]["orders"], body["totals"]["units"]) == (50, 200)
    assert [(r["key"], r["orders"]) for r in body["breakdown"]] == [("unknown", 50)]
    _, top = get("/admin/analytics/top-products", **{"from": "2010-01-01", "to": "2010-06-30", "by": "units"})
    assert sorted(i["units"] for i in top["items"]) == [50, 50, 50, 50]
