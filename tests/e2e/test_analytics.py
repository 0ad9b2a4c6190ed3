"""Analytics through the running shop: a paid order moves the sales figures (revenue, orders, units, its category
and country, its product among the best sellers) and a refund moves the refunds; the history backfill gives the
forecast its 14 points; bad parameters are 400s.

Other tests sell at the same time, so the shop-wide figures are compared as at-least deltas; the product is this
test's own, so its line in top products is exact."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gears.check import Checker
from tests.conftest import ROOT, TEMPLATE
from tests.support.saga import ADDRESS, buy, new_product, refund, wait_for, wait_until
from tests.support.shop import Customer, Shop

pytestmark = pytest.mark.usefixtures("shop")

BACKFILL_DEADLINE_S = 600  # 13,199 invoices through the history import and the consumers: a bound, not a target


def days_around_today() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}


def sales(shop: Shop, admin: Customer, by: str) -> dict[str, Any]:
    r = shop.get("/admin/analytics/sales", params={**days_around_today(), "by": by}, token=admin.token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def row(answer: dict[str, Any], key: str) -> dict[str, Any]:
    found = [r for r in answer["breakdown"] if r["key"] == key]
    return found[0] if found else {"revenue": {"amount": 0}, "orders": 0, "units": 0, "refunds": {"amount": 0}}


def top_line(shop: Shop, admin: Customer, product_id: str) -> dict[str, Any] | None:
    r = shop.get("/admin/analytics/top-products", params={**days_around_today(), "limit": "100"}, token=admin.token)
    assert r.status_code == 200, r.text
    return next((i for i in r.json()["items"] if i["productId"] == product_id), None)


def test_a_paid_order_moves_the_sales_and_a_refund_the_refunds(shop: Shop) -> None:
    # The shop's start-up history is counted first (minutes of it may still be queued when the shop says ready): a
    # sale measured behind that backlog would wait out its products' events and count as uncategorised.
    assert Checker(shop.state).wait_quiet(quiet_s=5.0, timeout_s=600.0, queues=["AnalyticsEventsQueue"])
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=5, price=98_765)  # dear: among the day's top 100 by revenue
    # new_product files it under the tree's first top-level category: its own top-level category.
    key = shop.get("/categories").json()["categories"][0]["id"]
    before_category, before_country = sales(shop, admin, "category"), sales(shop, admin, "country")

    customer, order_id = buy(shop, product, quantity=2)
    order = wait_for(shop, customer.token, order_id, "PAID")
    total = order["total"]["amount"]

    def counted() -> dict[str, Any] | None:
        answer = sales(shop, admin, "category")
        moved = answer["totals"]["orders"] >= before_category["totals"]["orders"] + 1
        return answer if moved and top_line(shop, admin, product["productId"]) else None

    after = wait_until(counted, "analytics to count the paid order")
    assert after["totals"]["revenue"]["amount"] >= before_category["totals"]["revenue"]["amount"] + total
    assert after["totals"]["units"] >= before_category["totals"]["units"] + 2
    assert row(after, key)["revenue"]["amount"] >= row(before_category, key)["revenue"]["amount"] + total
    by_country = sales(shop, admin, "country")
    country = ADDRESS.get("country", "GB")
    assert row(by_country, country)["orders"] >= row(before_country, country)["orders"] + 1
    line = top_line(shop, admin, product["productId"])
    assert line is not None
    assert (line["units"], line["orders"], line["revenue"]["amount"]) == (2, 1, 2 * 98_765)

    refund(shop, admin, order_id, 10_000)

    def refunded() -> dict[str, Any] | None:
        answer = sales(shop, admin, "country")
        return (
            answer if answer["totals"]["refunds"]["amount"] >= after["totals"]["refunds"]["amount"] + 10_000 else None
        )

    moved_back = wait_until(refunded, "analytics to count the refund")
    assert moved_back["totals"]["refundCount"] >= after["totals"]["refundCount"] + 1
    assert row(moved_back, country)["refunds"]["amount"] >= row(by_country, country)["refunds"]["amount"] + 10_000


def test_the_history_backfill_gives_the_forecast_its_points(shop: Shop) -> None:
    admin = shop.admin()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gears.cli",
            "--template",
            str(TEMPLATE),
            "--state-dir",
            str(shop.state_dir),
            "backfill",
            "--shift-to-today",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BACKFILL_DEADLINE_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    def forecast() -> dict[str, Any] | None:
        r = shop.get("/admin/analytics/forecast", token=admin.token)
        return dict(r.json()) if r.status_code == 200 else None

    answer = wait_until(forecast, "the forecast to have enough history", deadline_s=BACKFILL_DEADLINE_S)
    assert answer["historyDays"] >= 14
    assert len(answer["revenue"]["points"]) == 14
    assert len(answer["orders"]["points"]) == 14
    first = datetime.now(UTC).date().isoformat()
    assert answer["revenue"]["points"][0]["date"] == first
    assert all(p["lower"]["amount"] <= p["mean"]["amount"] <= p["upper"]["amount"] for p in answer["revenue"]["points"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/admin/analytics/sales", {"from": "2026-02-30"}),
        ("/admin/analytics/sales", {"from": "2026-11-10", "to": "2026-11-01"}),
        ("/admin/analytics/sales", {"from": "2020-01-01", "to": "2026-01-01"}),
        ("/admin/analytics/sales", {"granularity": "year"}),
        ("/admin/analytics/sales", {"by": "colour"}),
        ("/admin/analytics/top-products", {"limit": "1000"}),
        ("/admin/analytics/top-products", {"by": "price"}),
        ("/admin/analytics/forecast", {"days": "365"}),
        ("/admin/analytics/forecast", {"level": "1.5"}),
    ],
)
def test_bad_parameters_are_400s(shop: Shop, path: str, params: dict[str, str]) -> None:
    r = shop.get(path, params=params, token=shop.admin().token)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_a_customer_cannot_read_the_figures(shop: Shop) -> None:
    customer = shop.new_customer()
    assert shop.get("/admin/analytics/sales", token=customer.token).status_code == 403
