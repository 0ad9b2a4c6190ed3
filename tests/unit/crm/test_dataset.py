"""``make segments``: RFM over the Online Retail sample shipped in data/."""

from __future__ import annotations

from pathlib import Path

from crm.dataset import read_activities, render, report
from crm.rfm import CHAMPIONS, SEGMENTS

ROOT = Path(__file__).resolve().parents[3]
DATASET = ROOT / "data" / "online-retail" / "online-retail-sample.csv"


def row(invoice: str, quantity: str, price: str, customer: str, when: str = "2011-06-01 10:00:00") -> dict[str, str]:
    return {
        "InvoiceNo": invoice,
        "StockCode": "X",
        "Description": "x",
        "Quantity": quantity,
        "InvoiceDate": when,
        "UnitPrice": price,
        "CustomerID": customer,
        "Country": "United Kingdom",
    }


def test_invoices_are_orders_and_cancellations_refunds() -> None:
    activities, now = read_activities(
        [
            row("1", "2", "1.50", "17850", "2011-06-01 10:00:00"),
            row("1", "1", "3.00", "17850", "2011-06-01 10:00:00"),
            row("2", "1", "10.00", "17850", "2011-07-01 09:00:00"),
            row("C3", "-1", "3.00", "17850", "2011-07-02 09:00:00"),
            row("4", "5", "1.00", "", "2011-08-01 09:00:00"),  # no customer: left out (but dates the data)
            row("C5", "-1", "1.00", "12000"),  # only a cancellation: not scored
        ]
    )
    assert [(a.customer_id, a.orders, a.monetary) for a in activities] == [("17850", 2, 600 + 1000 - 300)]
    assert activities[0].last_order_at.isoformat() == "2011-07-01T09:00:00+00:00"
    assert now.isoformat() == "2011-08-02T00:00:00+00:00"


def test_the_sample_segments() -> None:
    rep = report(DATASET)
    assert rep.customers == 3591
    assert [s.segment for s in rep.segments] == list(SEGMENTS)
    assert sum(s.customers for s in rep.segments) == rep.customers
    assert abs(sum(s.share for s in rep.segments) - 1) < 0.001
    champions = next(s for s in rep.segments if s.segment == CHAMPIONS)
    assert champions.share == max(s.share for s in rep.segments)
    table = render(rep)
    assert "| Champions |" in table
    assert "Cut points" in table
