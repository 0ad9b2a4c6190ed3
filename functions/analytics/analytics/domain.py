"""Sales analytics without I/O: which counters an event moves, and how counters read back as periods.

An event becomes a list of :class:`Counter` increments (one per item it touches), so that the store can apply them
once (each chunk of them in one transaction with the event's marker). The keys:

- ``SALES#<shard>`` / ``DAY#<date>``: a day's totals (revenue, orders, units, refunds, refundCount, cartsStarted,
  ordersPlaced) and its breakdowns (``cat|<category>|revenue``, ``ctry|<country>|units`` ...). A day is
  :data:`SALES_SHARDS` items, the shard chosen by the event, summed on read: no item takes every write, and a range
  of days is one query per shard.
- ``PRODUCT_DAY#<yyyy-mm>#<shard>`` / ``<date>`` and ``PRODUCT_MONTH#<shard>`` / ``<yyyy-mm>``: the products of one
  shard (from the product id) sold that day or month, each product's units, revenue and orders as attributes
  ``<productId>|units`` ... and its ``<productId>|sku`` and ``|title``; top products read whole months from the
  monthly items and the edge days from the daily ones. One item per shard and period, not per product: a history
  batch of 50 orders is a few dozen writes, not hundreds (measured: the sample's year was some 74,000 writes as an
  item per product and period, which the local cloud took minutes over, and is under 10,000 so). A sale writes the
  items of the shards its products fall in; :data:`PRODUCT_SHARDS` items a period keep each item well under
  DynamoDB's 400 KB (about 250 bytes a product: some 50,000 products sold in a month before an item nears it).

Revenue of an order is its total (after discount, with shipping); a breakdown by category shares the total among
the order's lines in proportion to their line totals (largest remainder), so a breakdown sums to the total.
A product's revenue (top products) is its lines' totals.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

SALES_SHARDS = 8
PRODUCT_SHARDS = 32
PRODUCT_MEASURES = ("units", "revenue", "orders")
PRODUCT_FIELDS = ("sku", "title")
# Products one UpdateItem carries (5 attributes each): DynamoDB caps an update expression at 4 KB. A counter with
# more is split into parts, each applied in a transaction of its own (a transaction names an item once).
PRODUCTS_PER_UPDATE = 50
UNCATEGORISED = "uncategorised"
UNKNOWN_COUNTRY = "unknown"
CURRENCY = "GBP"

TOTALS = ("revenue", "orders", "units", "refunds", "refundCount", "cartsStarted", "ordersPlaced")
BREAKDOWN = ("revenue", "orders", "units", "refunds")
DIMENSIONS = {"category": "cat", "country": "ctry"}


def stable_shard(text: str, shards: int) -> int:
    return zlib.crc32(text.encode()) % shards


def breakdown_name(dimension: str, key: str, measure: str) -> str:
    """The attribute holding one breakdown counter (``cat|home-kitchen|revenue``)."""
    return f"{DIMENSIONS[dimension]}|{key}|{measure}"


@dataclass
class Counter:
    """Increments of one item (``add``) and the plain values it carries (``put``: a product's sku and title)."""

    pk: str
    sk: str
    add: dict[str, int] = field(default_factory=dict)
    put: dict[str, str] = field(default_factory=dict)

    def inc(self, name: str, value: int) -> None:
        if value:
            self.add[name] = self.add.get(name, 0) + value


@dataclass(frozen=True)
class SaleLine:
    product_id: str
    sku: str
    title: str
    quantity: int
    line_total: int
    category: str  # top-level category, or UNCATEGORISED


@dataclass(frozen=True)
class Sale:
    """A paid order (or an imported past one): what it adds to a day."""

    order_id: str
    day: date
    total: int
    country: str
    lines: Sequence[SaleLine]


@dataclass(frozen=True)
class Refund:
    """Money given back on ``day``, shared among categories (``shares``: category -> amount) and one country."""

    day: date
    amount: int
    country: str
    shares: dict[str, int]


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` shared in proportion to ``weights`` (largest remainder): the parts sum to ``total``."""
    if not weights:
        return []
    whole = sum(max(w, 0) for w in weights)
    if whole <= 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    exact = [total * max(w, 0) / whole for w in weights]
    parts = [int(x) for x in exact]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: abs(rest)]:
        parts[i] += 1 if rest > 0 else -1
    return parts


def category_shares(total: int, lines: Sequence[SaleLine]) -> dict[str, int]:
    shares: dict[str, int] = {}
    for line, part in zip(lines, allocate(total, [ln.line_total for ln in lines]), strict=True):
        shares[line.category] = shares.get(line.category, 0) + part
    return shares


class Increments:
    """The counters an event moves, merged per item (a history batch of 50 orders is a few writes)."""

    def __init__(self, shard_seed: str) -> None:
        self.shard = stable_shard(shard_seed, SALES_SHARDS)
        self.items: dict[tuple[str, str], Counter] = {}

    def counter(self, pk: str, sk: str) -> Counter:
        key = (pk, sk)
        if key not in self.items:
            self.items[key] = Counter(pk, sk)
        return self.items[key]

    def day(self, day: date) -> Counter:
        return self.counter(f"SALES#{self.shard}", f"DAY#{day.isoformat()}")

    def sale(self, sale: Sale) -> None:
        totals = self.day(sale.day)
        totals.inc("revenue", sale.total)
        totals.inc("orders", 1)
        totals.inc("units", sum(line.quantity for line in sale.lines))
        country = sale.country or UNKNOWN_COUNTRY
        totals.inc(breakdown_name("country", country, "revenue"), sale.total)
        totals.inc(breakdown_name("country", country, "orders"), 1)
        totals.inc(breakdown_name("country", country, "units"), sum(line.quantity for line in sale.lines))
        for category, part in category_shares(sale.total, sale.lines).items():
            totals.inc(breakdown_name("category", category, "revenue"), part)
            totals.inc(breakdown_name("category", category, "orders"), 1)
        for line in sale.lines:
            totals.inc(breakdown_name("category", line.category, "units"), line.quantity)
        seen: set[str] = set()
        for line in sale.lines:
            first = line.product_id not in seen
            seen.add(line.product_id)
            for counter in self._product(sale.day, line):
                counter.inc(product_attribute(line.product_id, "units"), line.quantity)
                counter.inc(product_attribute(line.product_id, "revenue"), line.line_total)
                counter.inc(product_attribute(line.product_id, "orders"), 1 if first else 0)

    def _product(self, day: date, line: SaleLine) -> list[Counter]:
        shard = stable_shard(line.product_id, PRODUCT_SHARDS)
        month = day.isoformat()[:7]
        daily = self.counter(f"PRODUCT_DAY#{month}#{shard}", day.isoformat())
        monthly = self.counter(f"PRODUCT_MONTH#{shard}", month)
        for counter in (daily, monthly):
            counter.put.update(
                {
                    product_attribute(line.product_id, "sku"): line.sku,
                    product_attribute(line.product_id, "title"): line.title,
                }
            )
        return [daily, monthly]

    def refund(self, refund: Refund) -> None:
        totals = self.day(refund.day)
        totals.inc("refunds", refund.amount)
        totals.inc("refundCount", 1)
        totals.inc(breakdown_name("country", refund.country or UNKNOWN_COUNTRY, "refunds"), refund.amount)
        for category, part in refund.shares.items():
            totals.inc(breakdown_name("category", category, "refunds"), part)

    def cart_started(self, day: date) -> None:
        self.day(day).inc("cartsStarted", 1)

    def order_placed(self, day: date) -> None:
        self.day(day).inc("ordersPlaced", 1)

    def counters(self) -> list[Counter]:
        """Every item's increments, in a fixed order (a retried event splits into the same chunks); a product item's
        increments in parts of at most :data:`PRODUCTS_PER_UPDATE` products."""
        out: list[Counter] = []
        for key in sorted(self.items):
            counter = self.items[key]
            if counter.add:
                out.extend(_parts(counter))
        return out


def product_attribute(product_id: str, name: str) -> str:
    """The attribute of a product item holding one product's counter or field (``<productId>|units``)."""
    return f"{product_id}|{name}"


def _parts(counter: Counter) -> list[Counter]:
    products = sorted({name.rpartition("|")[0] for name in (*counter.add, *counter.put)})
    if not counter.pk.startswith(("PRODUCT_DAY#", "PRODUCT_MONTH#")) or len(products) <= PRODUCTS_PER_UPDATE:
        return [counter]
    parts = []
    for i in range(0, len(products), PRODUCTS_PER_UPDATE):
        group = set(products[i : i + PRODUCTS_PER_UPDATE])
        part = Counter(counter.pk, counter.sk)
        part.add = {k: v for k, v in counter.add.items() if k.rpartition("|")[0] in group}
        part.put = {k: v for k, v in counter.put.items() if k.rpartition("|")[0] in group}
        parts.append(part)
    return parts


def product_records(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per product a product item holds: ``{productId, units, revenue, orders, sku, title}``."""
    records: dict[str, dict[str, Any]] = {}
    for name, value in item.items():
        product_id, sep, field = name.rpartition("|")
        if sep and product_id and field in (*PRODUCT_MEASURES, *PRODUCT_FIELDS):
            records.setdefault(product_id, {"productId": product_id})[field] = value
    return [records[pid] for pid in sorted(records)]


# -- reading ------------------------------------------------------------------------------------------------------
GRANULARITIES = ("day", "week", "month")
MAX_DAYS = {"day": 366, "week": 5 * 366, "month": 5 * 366}


def period_of(day: date, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return day.isoformat()[:7]
    return day.isoformat()


def days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def periods(first: date, last: date, granularity: str) -> list[str]:
    """Every period touching the range, in order (a range's edge weeks and months count only its own days)."""
    return list(dict.fromkeys(period_of(day, granularity) for day in days(first, last)))


def average(revenue: int, orders: int) -> int:
    return round(revenue / orders) if orders else 0


def month_split(first: date, last: date) -> tuple[list[tuple[date, date]], tuple[str, str] | None]:
    """The range as edge day-spans (read from daily items) and whole months (read from monthly ones)."""
    first_whole = first if first.day == 1 else _next_month(first)
    last_whole_end = last if _next_month(last) - timedelta(days=1) == last else last.replace(day=1) - timedelta(1)
    if first_whole > last_whole_end:
        return [(first, last)], None
    edges = []
    if first < first_whole:
        edges.append((first, first_whole - timedelta(days=1)))
    if last_whole_end < last:
        edges.append((last_whole_end + timedelta(days=1), last))
    return edges, (first_whole.isoformat()[:7], last_whole_end.isoformat()[:7])


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
