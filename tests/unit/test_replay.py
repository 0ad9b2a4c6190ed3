"""What `gears replay` reads from the Online Retail sample and which invoices `--returns` picks."""

from __future__ import annotations

from pathlib import Path

from gears.replay import customers_with_returns, read_invoices

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
ROWS = [
    "536001,85123a,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",  # A buys the heart (code upper-cased)
    "536001,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536002,22633,WARMER,4,2010-12-01 09:00:00,1.85,13047.0,United Kingdom",  # B
    "536003,22633,WARMER,1,2010-12-01 09:30:00,1.85,,United Kingdom",  # no customer: not an order we can replay
    "C536004,22633,WARMER,-1,2010-12-01 10:00:00,1.85,12583.0,France",  # C returns what C never bought here
    "C536005,85123A,HEART,-2,2010-12-02 10:00:00,2.55,17850.0,United Kingdom",  # A returns the heart
    "536006,22633,WARMER,2,2010-12-03 10:00:00,1.85,13047.0,United Kingdom",  # B again
    "C536007,22633,WARMER,-1,2010-12-04 11:00:00,1.85,13047.0,United Kingdom",  # B returns a warmer
    "536008,22633,WARMER,oops,2010-12-05 11:00:00,1.85,13047.0,United Kingdom",  # unreadable: skipped
]


def test_invoices_of_known_customers_oldest_first_and_returns_pick_whole_customers(tmp_path: Path) -> None:
    csv = tmp_path / "sample.csv"
    csv.write_text("\n".join([HEADER, *ROWS]) + "\n")
    invoices = read_invoices(csv)
    assert [i.number for i in invoices] == ["536001", "536002", "C536004", "C536005", "536006", "C536007"]
    first = invoices[0]
    assert (first.customer, first.country, [(x.sku, x.quantity, x.unit_pence) for x in first.lines]) == (
        "17850",
        "GB",
        [("85123A", 6, 255), ("71053", 6, 339)],
    )
    assert [i.cancellation for i in invoices] == [False, False, True, True, False, True]
    assert invoices[2].country == "FR"

    one = customers_with_returns(invoices, 1)
    assert [i.number for i in one] == ["536001", "C536005"]  # A returned first; C's return refunds nothing
    two = customers_with_returns(invoices, 2)
    assert [i.number for i in two] == ["536001", "536002", "C536005", "536006", "C536007"]
    assert customers_with_returns(invoices, 5) == two  # only two customers return what they bought
