"""The Online Retail sample, read once for every tool that needs its invoices.

``data/online-retail/online-retail-sample.csv`` (see that folder's README for its source and licence): one line per
invoice line, columns InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice (GBP), CustomerID,
Country. `gears replay` places its invoices as orders, `gears backfill` brings them in as history, and the
recommendation and forecast evaluations train and test on them.

An invoice whose number starts with ``C`` is a cancellation: its quantities are negative (units given back). The
sample is a random sample of lines, not of invoices: every basket is partial.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "data" / "online-retail" / "online-retail-sample.csv"

# The dataset's country names as ISO 3166-1 alpha-2 codes (what a Gears address holds). "Unspecified" and
# "European Community" name no country: they map to "".
COUNTRY_CODES = {
    "Australia": "AU",
    "Austria": "AT",
    "Bahrain": "BH",
    "Belgium": "BE",
    "Brazil": "BR",
    "Canada": "CA",
    "Channel Islands": "JE",
    "Cyprus": "CY",
    "Czech Republic": "CZ",
    "Denmark": "DK",
    "EIRE": "IE",
    "European Community": "",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Greece": "GR",
    "Hong Kong": "HK",
    "Iceland": "IS",
    "Israel": "IL",
    "Italy": "IT",
    "Japan": "JP",
    "Lebanon": "LB",
    "Lithuania": "LT",
    "Malta": "MT",
    "Netherlands": "NL",
    "Norway": "NO",
    "Poland": "PL",
    "Portugal": "PT",
    "RSA": "ZA",
    "Saudi Arabia": "SA",
    "Singapore": "SG",
    "Spain": "ES",
    "Sweden": "SE",
    "Switzerland": "CH",
    "USA": "US",
    "United Arab Emirates": "AE",
    "United Kingdom": "GB",
    "Unspecified": "",
}


@dataclass(frozen=True)
class Line:
    sku: str  # StockCode, upper case
    description: str
    quantity: int  # negative on a cancellation
    unit_pence: int


@dataclass
class Invoice:
    number: str
    customer: str  # CustomerID without its ".0"; "" where the dataset has none
    country_name: str
    when: datetime  # UTC (the dataset's times carry no zone; the shop is in the UK)
    lines: list[Line] = field(default_factory=list)

    @property
    def cancellation(self) -> bool:
        return self.number.upper().startswith("C")

    @property
    def country(self) -> str:
        """The country as an ISO 3166-1 alpha-2 code, or "" where the dataset names none."""
        return COUNTRY_CODES.get(self.country_name, "")

    @property
    def pence(self) -> int:
        """What the invoice's lines come to (negative for a cancellation)."""
        return sum(line.quantity * line.unit_pence for line in self.lines)


def _pence(text: str) -> int:
    return int((Decimal(text.strip()) * 100).to_integral_value())


def invoices_from_rows(rows: Iterable[dict[str, str]], *, known_customers_only: bool = False) -> list[Invoice]:
    """The invoices of the dataset's lines, oldest first (ties by number). A line that cannot be read (a quantity,
    price or date that does not parse) is left out."""
    invoices: dict[str, Invoice] = {}
    for row in rows:
        customer = (row.get("CustomerID") or "").strip().split(".")[0]
        if not customer and known_customers_only:
            continue
        number = (row.get("InvoiceNo") or "").strip()
        try:
            quantity = int(row["Quantity"])
            pence = _pence(row["UnitPrice"])
            when = datetime.fromisoformat(row["InvoiceDate"].strip()).replace(tzinfo=UTC)
        except (ValueError, InvalidOperation, KeyError):
            continue
        if not number or quantity == 0:
            continue
        invoice = invoices.setdefault(number, Invoice(number, customer, (row.get("Country") or "").strip(), when))
        description = " ".join((row.get("Description") or "").split())
        invoice.lines.append(Line((row.get("StockCode") or "").strip().upper(), description, quantity, pence))
    return sorted(invoices.values(), key=lambda i: (i.when, i.number))


def read_invoices(path: Path | str = DEFAULT_CSV, *, known_customers_only: bool = False) -> list[Invoice]:
    """The dataset's invoices, oldest first; ``known_customers_only`` leaves out lines without a CustomerID."""
    with open(path, newline="", encoding="utf-8") as fh:
        return invoices_from_rows(csv.DictReader(fh), known_customers_only=known_customers_only)
