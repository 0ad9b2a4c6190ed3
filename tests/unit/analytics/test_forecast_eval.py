"""`python -m gears.eval_forecast`: the daily series it builds from the dataset, and the report it writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gears.dataset import Invoice, Line
from gears.eval_forecast import daily_series, main, naive_scale

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def test_the_daily_series_is_gross_merchandise_revenue_and_orders_with_every_day_in_it() -> None:
    day = datetime(2011, 3, 1, 10, tzinfo=UTC)
    invoices = [
        Invoice(
            "1", "17850", "United Kingdom", day, [Line("22633", "WARMER", 2, 185), Line("POST", "POSTAGE", 1, 1800)]
        ),
        Invoice("2", "", "France", day, [Line("85123A", "HEART", 1, 255), Line("22634", "FREEBIE", 1, 0)]),
        Invoice("C3", "17850", "United Kingdom", day + timedelta(days=1), [Line("22633", "WARMER", -1, 185)]),
        Invoice("4", "17850", "United Kingdom", day + timedelta(days=1), [Line("POST", "POSTAGE", 1, 1800)]),
        Invoice("5", "13047", "United Kingdom", day + timedelta(days=3), [Line("22633", "WARMER", 10, 150)]),
    ]

    daily = daily_series(invoices)

    assert daily.first == date(2011, 3, 1)
    assert daily.revenue == [2 * 185 + 255, 0.0, 0.0, 1500.0]  # no postage, free lines, refunds, or empty orders
    assert daily.orders == [2.0, 0.0, 0.0, 1.0]


def test_the_seasonal_naive_scale_is_the_mean_weekly_difference() -> None:
    assert naive_scale([1, 2, 3, 4, 5, 6, 7, 3, 2, 3, 4, 5, 6, 11]) == 6 / 7


def test_the_evaluation_writes_a_table_per_series_with_the_baseline(tmp_path: Path) -> None:
    rows = []
    first = date(2011, 1, 3)
    for t in range(98):
        day = first + timedelta(days=t)
        if day.weekday() == 5:
            continue
        for k in range(1 + (t * 7919) % 5):
            rows.append(f"{t}{k},22633,WARMER,{1 + (t + k) % 4},{day} 10:00:00,1.85,17850.0,United Kingdom")
    csv = tmp_path / "sample.csv"
    csv.write_text("\n".join([HEADER, *rows]) + "\n")
    out = tmp_path / "forecast.md"

    assert main(["--csv", str(csv), "--out", str(out)]) == 0

    text = out.read_text()
    assert "## revenue" in text
    assert "## orders" in text
    for model in ("forecast() (chosen per origin)", "| seasonal-naive | ", "holt-winters(damped)"):
        assert text.count(model) >= 2
    assert "50 origins" in text
