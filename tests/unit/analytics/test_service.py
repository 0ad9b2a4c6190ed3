"""Analytics' use cases over the in-memory store: what an event adds to the figures, once, and how the reports read
them back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from analytics import events as ev
from analytics import service
from analytics.domain import allocate, month_split
from analytics.errors import EventNotReady, NotEnoughHistory
from analytics.service import EventContext, ForecastQuery, SalesQuery, TopProductsQuery
from tests.unit.analytics.fakes import InMemoryAnalytics

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def ctx(time: datetime = NOW - timedelta(minutes=5)) -> EventContext:
    return EventContext(f"ev-{uuid.uuid4()}", time.isoformat().replace("+00:00", "Z"))


def product(store: InMemoryAnalytics, category: str = "home-kitchen", version: int = 1, **kw: Any) -> str:
    pid = kw.pop("productId", str(uuid.uuid4()))
    data = {
        "productId": pid,
        "sku": f"SKU-{pid[:6]}",
        "title": f"Mug {pid[:4]}",
        "category": "mugs",
        "categoryPath": [category, "mugs"],
        "version": version,
        **kw,
    }
    service.product_changed(ev.ProductData.model_validate(data), ctx(), store)
    return pid


def line(pid: str, quantity: int = 1, unit: int = 1000) -> dict[str, Any]:
    money = {"amount": unit, "currency": "GBP"}
    return {
        "productId": pid,
        "sku": f"SKU-{pid[:6]}",
        "title": "Mug",
        "quantity": quantity,
        "unitPrice": money,
        "lineTotal": {"amount": unit * quantity, "currency": "GBP"},
    }


def paid(
    lines: list[dict[str, Any]],
    total: int,
    *,
    country: str = "GB",
    day: str = "2026-11-20",
    order_id: str | None = None,
) -> ev.OrderPaid:
    return ev.OrderPaid.model_validate(
        {
            "orderId": order_id or f"o-{uuid.uuid4()}",
            "userId": "u-1",
            "lines": lines,
            "subtotal": {"amount": total, "currency": "GBP"},
            "total": {"amount": total, "currency": "GBP"},
            "country": country,
            "placedAt": f"{day}T10:00:00Z",
            "paidAt": f"{day}T10:01:00Z",
        }
    )


def day_range(first: str, last: str, **kw: Any) -> SalesQuery:
    return SalesQuery(date.fromisoformat(first), date.fromisoformat(last), **kw)


def test_a_paid_order_moves_revenue_orders_units_category_and_country_once() -> None:
    store = InMemoryAnalytics()
    mug, kettle = product(store, "home-kitchen"), product(store, "garden")
    event = paid([line(mug, 2, 1000), line(kettle, 1, 3000)], 5500, country="FR")
    context = ctx()
    assert service.order_paid(event, context, store, clock) == "applied"
    assert service.order_paid(event, context, store, clock) == "duplicate"

    answer = service.sales(day_range("2026-11-19", "2026-11-21", by="category"), store)
    assert [b["period"] for b in answer["buckets"]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    day = answer["buckets"][1]
    assert (day["revenue"]["amount"], day["orders"], day["units"]) == (5500, 1, 3)
    assert day["averageOrderValue"] == {"amount": 5500, "currency": "GBP"}
    assert answer["buckets"][0]["revenue"]["amount"] == 0
    rows = {r["key"]: r for r in answer["breakdown"]}
    # The total (with shipping) is shared by line totals: 2000 : 3000.
    assert rows["garden"]["revenue"]["amount"] == 3300
    assert rows["home-kitchen"]["revenue"]["amount"] == 2200
    assert [r["key"] for r in answer["breakdown"]] == ["garden", "home-kitchen"]
    assert rows["home-kitchen"]["units"] == 2
    by_country = service.sales(day_range("2026-11-20", "2026-11-20", by="country"), store)["breakdown"]
    assert [(r["key"], r["revenue"]["amount"], r["orders"]) for r in by_country] == [("FR", 5500, 1)]


def test_a_refund_waits_for_its_paid_order_then_counts_on_its_day_by_country_and_category() -> None:
    store = InMemoryAnalytics()
    mug = product(store, "home-kitchen")
    order_id = f"o-{uuid.uuid4()}"
    refund = ev.PaymentRefunded.model_validate(
        {"orderId": order_id, "refundId": "r-1", "amount": {"amount": 400, "currency": "GBP"}}
    )
    early = ctx(NOW - timedelta(seconds=10))
    with pytest.raises(EventNotReady):
        service.payment_refunded(refund, early, store, clock)
    service.order_paid(paid([line(mug, 1, 1000)], 1000, order_id=order_id), ctx(), store, clock)
    context = ctx(datetime(2026, 11, 22, 9, tzinfo=UTC))
    service.payment_refunded(refund, context, store, clock)
    service.payment_refunded(refund, context, store, clock)  # delivered twice

    answer = service.sales(day_range("2026-11-20", "2026-11-22", by="country"), store)
    assert [b["refunds"]["amount"] for b in answer["buckets"]] == [0, 0, 400]
    assert answer["totals"]["refundCount"] == 1
    assert answer["totals"]["revenue"]["amount"] == 1000
    assert answer["breakdown"][0]["refunds"]["amount"] == 400
    by_category = service.sales(day_range("2026-11-22", "2026-11-22", by="category"), store)["breakdown"]
    assert [(r["key"], r["refunds"]["amount"]) for r in by_category] == [("home-kitchen", 400)]


def test_a_sale_of_an_unknown_product_waits_then_counts_as_uncategorised() -> None:
    store = InMemoryAnalytics()
    stranger = str(uuid.uuid4())
    event = paid([line(stranger, 1, 700)], 700)
    with pytest.raises(EventNotReady):
        service.order_paid(event, ctx(NOW - timedelta(seconds=5)), store, clock)
    assert service.sales(day_range("2026-11-20", "2026-11-20"), store)["totals"]["orders"] == 0

    service.order_paid(event, ctx(NOW - timedelta(seconds=service.WAIT_FOR_PRODUCTS_S + 1)), store, clock)
    rows = service.sales(day_range("2026-11-20", "2026-11-20", by="category"), store)["breakdown"]
    assert [(r["key"], r["revenue"]["amount"]) for r in rows] == [("uncategorised", 700)]


def test_an_older_product_version_does_not_replace_a_newer_one() -> None:
    store = InMemoryAnalytics()
    pid = product(store, "garden", version=3)
    product(store, "home-kitchen", version=2, productId=pid)
    service.order_paid(paid([line(pid)], 1000), ctx(), store, clock)
    rows = service.sales(day_range("2026-11-20", "2026-11-20", by="category"), store)["breakdown"]
    assert [r["key"] for r in rows] == ["garden"]


def history(orders: list[dict[str, Any]]) -> ev.OrderHistoryImported:
    return ev.OrderHistoryImported.model_validate({"batchId": f"b-{uuid.uuid4()}", "importedAt": "x", "orders": orders})


def past(pid: str, day: str, kind: str = "order", quantity: int = 2, unit: int = 250) -> dict[str, Any]:
    return {
        "orderId": f"OR-{uuid.uuid4()}",
        "customerId": "12345",
        "placedAt": f"{day}T09:00:00Z",
        "country": "GB",
        "kind": kind,
        "lines": [line(pid, quantity, unit) | {"lineTotal": None}],
        "total": {"amount": quantity * unit, "currency": "GBP"},
    }


def test_a_history_batch_counts_orders_and_returns_on_their_own_days_in_few_writes() -> None:
    store = InMemoryAnalytics()
    mug = product(store, "home-kitchen")
    orders = [past(mug, "2011-03-01") for _ in range(49)] + [past(mug, "2011-03-02", kind="return", quantity=1)]
    service.history_imported(history(orders), ctx(), store, clock)

    answer = service.sales(day_range("2011-03-01", "2011-03-02"), store)
    first, second = answer["buckets"]
    assert (first["revenue"]["amount"], first["orders"], first["units"]) == (49 * 500, 49, 98)
    assert (second["refunds"]["amount"], second["refundCount"], second["orders"]) == (250, 1, 0)
    # 50 orders: two day totals and one product's day and month counters, plus the marker.
    assert store.writes <= 5
    top = service.top_products(TopProductsQuery(date(2011, 3, 1), date(2011, 3, 31)), store)
    assert top["items"][0]["units"] == 98
    assert top["items"][0]["orders"] == 49


def test_conversion_is_orders_placed_over_carts_started() -> None:
    store = InMemoryAnalytics()
    assert service.sales(day_range("2026-11-01", "2026-11-02"), store)["totals"]["conversionRate"] is None
    for _ in range(4):
        service.cart_started(ev.CartStarted(userId="u", startedAt="2026-11-01T10:00:00Z"), ctx(), store)
    service.order_placed(ev.OrderPlaced(orderId="o", placedAt="2026-11-02T10:00:00Z"), ctx(), store)
    totals = service.sales(day_range("2026-11-01", "2026-11-02"), store)["totals"]
    assert (totals["cartsStarted"], totals["ordersPlaced"], totals["conversionRate"]) == (4, 1, 0.25)


def test_weeks_and_months_cover_every_period_of_the_range() -> None:
    store = InMemoryAnalytics()
    mug = product(store)
    service.order_paid(paid([line(mug)], 1000, day="2026-11-23"), ctx(), store, clock)
    weeks = service.sales(day_range("2026-11-10", "2026-11-30", granularity="week"), store)["buckets"]
    assert [b["period"] for b in weeks] == ["2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    assert [b["orders"] for b in weeks] == [0, 0, 1, 0]
    months = service.sales(day_range("2026-10-15", "2026-12-01", granularity="month"), store)["buckets"]
    assert [(b["period"], b["orders"]) for b in months] == [("2026-10", 0), ("2026-11", 1), ("2026-12", 0)]


def test_top_products_sum_edge_days_and_whole_months_by_revenue_or_units() -> None:
    store = InMemoryAnalytics()
    cheap, dear = product(store), product(store)
    for day in ("2026-01-20", "2026-02-14", "2026-03-10", "2026-03-20"):
        service.order_paid(paid([line(cheap, 5, 100), line(dear, 1, 2000)], 2500, day=day), ctx(), store, clock)
    q = TopProductsQuery(date(2026, 1, 20), date(2026, 3, 10), "revenue", 10)
    by_revenue = service.top_products(q, store)["items"]
    assert [(i["productId"], i["revenue"]["amount"], i["orders"]) for i in by_revenue] == [
        (dear, 6000, 3),
        (cheap, 1500, 3),
    ]
    by_units = service.top_products(TopProductsQuery(q.first, q.last, "units", 1), store)["items"]
    assert [(i["productId"], i["units"]) for i in by_units] == [(cheap, 15)]


def test_month_split_reads_whole_months_monthly_and_edges_daily() -> None:
    edges, months = month_split(date(2026, 1, 20), date(2026, 3, 10))
    assert edges == [(date(2026, 1, 20), date(2026, 1, 31)), (date(2026, 3, 1), date(2026, 3, 10))]
    assert months == ("2026-02", "2026-02")
    assert month_split(date(2026, 2, 1), date(2026, 2, 28)) == ([], ("2026-02", "2026-02"))
    assert month_split(date(2026, 2, 3), date(2026, 2, 5)) == ([(date(2026, 2, 3), date(2026, 2, 5))], None)


def test_allocation_always_sums_to_the_total() -> None:
    assert sum(allocate(1001, [1, 1, 1])) == 1001
    assert allocate(10, [0, 0]) == [10, 0]


class FakeForecaster:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, float, date | None]] = []

    def __call__(self, history: list[float], horizon: int, *, level: float = 0.9, start: date | None = None) -> Any:
        from analytics.forecast import Forecast

        self.calls.append((len(history), horizon, level, start))
        mean = [sum(history[-7:]) / 7] * horizon
        return Forecast("fake", mean, [m * 0.5 for m in mean], [m * 1.5 for m in mean], level)


def test_forecast_needs_two_weeks_of_history_then_answers_each_day_and_is_cached() -> None:
    store = InMemoryAnalytics()
    mug = product(store)
    for back in range(1, 11):
        day = (NOW.date() - timedelta(days=back)).isoformat()
        service.order_paid(paid([line(mug)], 1000, day=day), ctx(), store, clock)
    with pytest.raises(NotEnoughHistory):
        service.forecast(ForecastQuery(14, 0.9), store, clock=clock, forecaster=FakeForecaster())
    for back in range(11, 21):
        day = (NOW.date() - timedelta(days=back)).isoformat()
        service.order_paid(paid([line(mug)], 1000, day=day), ctx(), store, clock)

    fake = FakeForecaster()
    answer = service.forecast(ForecastQuery(14, 0.8), store, clock=clock, forecaster=fake)
    assert answer["historyDays"] == 20
    assert [p["date"] for p in answer["revenue"]["points"]][:2] == ["2026-11-27", "2026-11-28"]
    assert len(answer["orders"]["points"]) == 14
    assert answer["revenue"]["points"][0]["mean"] == {"amount": 1000, "currency": "GBP"}
    assert fake.calls == [(20, 14, 0.8, NOW.date())] * 2
    again = service.forecast(ForecastQuery(14, 0.8), store, clock=clock, forecaster=fake)
    assert again == answer
    assert len(fake.calls) == 2


def test_a_deleted_product_keeps_its_title_and_category_for_later_refunds() -> None:
    store = InMemoryAnalytics()
    pid = product(store, "garden", version=1)
    deleted = {"productId": pid, "sku": "", "category": "mugs", "categoryPath": ["garden", "mugs"], "version": 2}
    service.product_changed(ev.ProductData.model_validate(deleted), ctx(), store)
    kept = store.products([pid])[pid]
    assert (kept.title, kept.category, kept.version) == (f"Mug {pid[:4]}", "garden", 2)


def test_a_refund_of_an_order_never_seen_paid_counts_after_a_while_without_country_or_category() -> None:
    store = InMemoryAnalytics()
    refund = ev.PaymentRefunded.model_validate({"orderId": "o-lost", "refundId": "r", "amount": 250})
    service.payment_refunded(refund, ctx(datetime(2026, 11, 22, 9, tzinfo=UTC)), store, clock)
    answer = service.sales(day_range("2026-11-22", "2026-11-22", by="country"), store)
    assert answer["totals"]["refunds"]["amount"] == 250
    assert [(r["key"], r["refunds"]["amount"]) for r in answer["breakdown"]] == [("unknown", 250)]
