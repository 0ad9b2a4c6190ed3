"""The demo history (derived from the dataset like `gears backfill` derives it, shipped gzip'd, loaded shifted to end by
yesterday) and the backfill's conversion of invoices into history orders."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from gears.backfill import demo_history, history_orders, shift_to_today
from gears.dataset import Invoice, Line
from orders.demo import DEMO_HISTORY, batches, load_demo_history, read_demo_history, shifted, weeks_to_yesterday
from orders.demo import write_demo_history as write
from orders.history import MAX_LINES, MAX_ORDERS
from tests.unit.orders.test_history import FakeHistory


def test_the_shipped_demo_history_is_the_one_the_dataset_gives() -> None:
    """The function's bundle carries demo_history.jsonl.gz; when the dataset changes, regenerate it with `make
    demo-data` (python -m gears.backfill --demo-file functions/orders/orders/demo_history.jsonl.gz)."""
    rendered = io.BytesIO()
    write(demo_history().orders, rendered)
    assert rendered.getvalue() == DEMO_HISTORY.read_bytes(), "stale: run make demo-data"


def test_the_demo_history_is_the_datasets_year_small_enough_to_ship() -> None:
    orders = read_demo_history()
    assert len(orders) > 12_000
    assert {o.kind for o in orders} == {"order", "return"}
    assert min(o.placed_at for o in orders).date() == date(2010, 12, 1)
    assert max(o.placed_at for o in orders).date() == date(2011, 12, 9)
    assert all(line.quantity > 0 and line.unit_amount > 0 for o in orders for line in o.lines)
    assert DEMO_HISTORY.stat().st_size < 600_000


def test_invoices_become_orders_and_cancellations_returns() -> None:
    when = datetime(2011, 3, 4, 10, 30, tzinfo=UTC)
    sale = Invoice(
        "536365",
        "17850",
        "United Kingdom",
        when,
        [
            Line("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, 255),
            Line("POST", "POSTAGE", 1, 1800),
            Line("22423", "REGENCY CAKESTAND 3 TIER", 2, 0),
        ],
    )
    cancel = Invoice("C536379", "", "EIRE", when, [Line("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", -2, 255)])
    only_postage = Invoice("536400", "1", "France", when, [Line("POST", "POSTAGE", 1, 1800)])
    converted = history_orders([sale, cancel, only_postage])
    first, second = converted.orders
    assert first["orderId"] == "OR-536365"
    assert first["customerId"] == "17850"
    assert first["placedAt"] == "2011-03-04T10:30:00Z"
    assert first["country"] == "GB"
    assert first["kind"] == "order"
    assert [(li["sku"], li["quantity"], li["unitPrice"]["amount"]) for li in first["lines"]] == [("85123A", 6, 255)]
    assert first["lines"][0]["title"] == "White Hanging Heart T-Light Holder"
    assert (second["orderId"], second["kind"], second["country"], second["customerId"]) == (
        "OR-C536379",
        "return",
        "IE",
        "",
    )
    assert second["lines"][0]["quantity"] == 2
    assert second["lines"][0]["productId"] == first["lines"][0]["productId"]
    assert converted.skipped_invoices == 1
    assert converted.skipped_lines == {"not merchandise": 2, "no price": 1}


def test_whole_weeks_bring_the_last_day_into_the_week_that_ends_yesterday() -> None:
    friday = date(2011, 12, 9)
    today = date(2026, 11, 28)  # a Saturday: yesterday was a Friday
    weeks = weeks_to_yesterday(friday, today)
    moved = date.fromordinal(friday.toordinal() + 7 * weeks)
    assert moved == date(2026, 11, 27)
    tuesday = date(2026, 12, 1)
    later = date.fromordinal(friday.toordinal() + 7 * weeks_to_yesterday(friday, tuesday))
    assert later.weekday() == friday.weekday()
    assert 1 <= (tuesday - later).days <= 7
    assert weeks_to_yesterday(date(2026, 11, 30), tuesday) == 0


def test_the_demo_loads_shifted_and_a_second_load_imports_nothing() -> None:
    orders = read_demo_history()[:230]
    repo = FakeHistory()
    today = date(2026, 11, 28)
    first = load_demo_history(repo, orders=orders, today=today)
    assert first.imported == 230
    assert first.batches >= 230 // MAX_ORDERS
    assert all(len(b.orders) <= MAX_ORDERS for b in repo.batches.values())
    assert all(sum(len(o.lines) for o in b.orders) <= MAX_LINES for b in repo.batches.values())
    moved, _ = shifted(orders, today)
    assert [o.placed_at.weekday() for o in moved] == [o.placed_at.weekday() for o in orders]
    assert max(o.placed_at for o in moved).date() < today
    second = load_demo_history(repo, orders=orders, today=date(2026, 11, 14))  # another day, other dates
    assert (second.imported, second.already_imported) == (0, 230)


def test_batches_respect_both_limits() -> None:
    sizes = [3] * 120 + [400, 200, 1]
    out = list(batches(sizes, lambda n: n))
    assert [n for b in out for n in b] == sizes
    assert all(len(b) <= MAX_ORDERS and sum(b) <= MAX_LINES for b in out)


def test_backfill_shift_to_today_keeps_weekdays() -> None:
    orders = history_orders(
        [Invoice("1", "", "United Kingdom", datetime(2011, 12, 9, 12, tzinfo=UTC), [Line("85123A", "X", 1, 100)])]
    ).orders
    moved, weeks = shift_to_today(orders, date(2026, 11, 28))
    assert weeks > 0
    assert moved[0]["placedAt"] == "2026-11-27T12:00:00Z"
