"""RFM over the Online Retail sample (``make segments``): each named segment's size and share of the revenue.

    PYTHONPATH=shared:functions/crm python -m crm.dataset data/online-retail/online-retail-sample.csv

The same scoring as the shop's (:mod:`crm.rfm`), over the dataset's customers: an invoice is an order (its lines'
quantity times unit price, in pence), a cancellation invoice (``C...``, negative quantities) a refund. Frequency is
a customer's purchase invoices, monetary what they spent less what they were refunded, recency the time of their
last purchase against the day after the dataset's last invoice. Lines without a CustomerID are left out (no one to
segment); customers with no purchase invoice in the sample (only cancellations) are not scored.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from crm.rfm import LABELS, Activity, Boundaries, SegmentSize, boundaries, score, summarise


@dataclass
class _Customer:
    invoices: set[str] = field(default_factory=set)
    spent: int = 0
    refunded: int = 0
    last: datetime | None = None


@dataclass(frozen=True)
class Report:
    boundaries: Boundaries
    segments: list[SegmentSize]
    customers: int
    revenue: int


def read_activities(rows: Iterable[dict[str, str]]) -> tuple[list[Activity], datetime]:
    """Each customer's activity from the dataset's lines, and the moment it is scored at (the day after its last
    invoice)."""
    customers: dict[str, _Customer] = {}
    latest: datetime | None = None
    for row in rows:
        when = datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        latest = when if latest is None or when > latest else latest
        customer_id = (row.get("CustomerID") or "").strip()
        if not customer_id:
            continue
        pence = int((Decimal(row["Quantity"]) * Decimal(row["UnitPrice"]) * 100).to_integral_value())
        c = customers.setdefault(customer_id, _Customer())
        if row["InvoiceNo"].startswith("C") or pence < 0:
            c.refunded += -pence if pence < 0 else pence
            continue
        c.invoices.add(row["InvoiceNo"])
        c.spent += pence
        c.last = when if c.last is None or when > c.last else c.last
    if latest is None:
        raise ValueError("the dataset has no lines")
    now = (latest + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    activities = [
        Activity(cid, c.last, len(c.invoices), c.spent - c.refunded)
        for cid, c in sorted(customers.items())
        if c.invoices and c.last is not None
    ]
    return activities, now


def report(path: Path) -> Report:
    with path.open(newline="", encoding="utf-8") as f:
        activities, now = read_activities(csv.DictReader(f))
    bounds = boundaries(activities, now)
    if bounds is None:
        raise ValueError(f"{path}: no customer with a purchase")
    scored = [(a, score(a, bounds)) for a in activities]
    return Report(bounds, summarise(scored), len(activities), sum(a.monetary for a in activities))


def _pounds(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def render(rep: Report) -> str:
    """The report as a Markdown table, with the cut points under it."""
    lines = [
        "| segment | customers | share of customers | revenue | share of revenue | revenue per customer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in rep.segments:
        per = _pounds(s.revenue // s.customers) if s.customers else "—"
        lines.append(
            f"| {LABELS[s.segment]} | {s.customers:,} | {s.customers / rep.customers:.1%} | {_pounds(s.revenue)} "
            f"| {s.share:.1%} | {per} |"
        )
    lines.append(
        f"| **all** | {rep.customers:,} | 100% | {_pounds(rep.revenue)} | 100% | "
        f"{_pounds(rep.revenue // rep.customers)} |"
    )
    b = rep.boundaries
    lines += [
        "",
        f"Scored at {b.computed_at:%Y-%m-%d}. Cut points (20th, 40th, 60th, 80th percentile): "
        f"recency {', '.join(f'{d:g}' for d in b.recency_days())} days since the last order; "
        f"frequency {', '.join(str(v) for v in b.frequency)} orders; "
        f"monetary {', '.join(_pounds(v) for v in b.monetary)}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m crm.dataset <online-retail.csv>", file=sys.stderr)
        return 2
    print(render(report(Path(args[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
