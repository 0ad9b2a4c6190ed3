"""The table's invariants hold after real events and catch a counter that drifted."""

from __future__ import annotations

from typing import Any

from analytics import service
from analytics.invariants import checks
from gears_shared.invariants import Shop
from tests.unit.analytics.fakes import InMemoryAnalytics
from tests.unit.analytics.test_service import clock, ctx, line, paid, product


def failures(items: list[dict[str, Any]]) -> list[str]:
    return [f for check in checks(items, Shop()) for f in check.problems]


def test_the_invariants_hold_after_sales_and_catch_a_drift() -> None:
    store = InMemoryAnalytics()
    mug = product(store)
    for day in ("2026-11-01", "2026-11-02"):
        service.order_paid(paid([line(mug, 2)], 2000, day=day), ctx(), store, clock)
    items = list(store.items.values())
    assert failures(items) == []
    month = next(i for i in items if i["pk"].startswith("PRODUCT_MONTH#"))
    month[next(name for name in month if name.endswith("|units"))] += 1
    assert len(failures(items)) == 1
