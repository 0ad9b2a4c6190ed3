"""Analytics' use cases: events into counters (each applied once), and the reports read back from them.

The port is :class:`AnalyticsStore` (``analytics.store.DynamoAnalytics``; ``tests/unit/analytics/fakes.py`` in
memory). A sale whose products analytics has not heard of yet waits (retried) up to :data:`WAIT_FOR_PRODUCTS_S`
after the event was sent; after that its unknown lines count as ``uncategorised``. A refund waits for its paid
order up to :data:`WAIT_FOR_ORDER_S`; after that it counts without a country (``unknown``) or category.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from analytics import events as ev
from analytics.domain import (
    BREAKDOWN,
    TOTALS,
    UNCATEGORISED,
    Counter,
    Increments,
    Refund,
    Sale,
    SaleLine,
    allocate,
    average,
    breakdown_name,
    category_shares,
    days,
    month_split,
    period_of,
    periods,
)
from analytics.errors import EventNotReady, NotEnoughHistory
from gears_shared.clock import utc_now

# A backlog (the demo's history loading, a busy day) can hold a product's event back for minutes; the queue's
# retries last five (gears_shared.consumers.EventNotReady), so both waits end before the event is parked.
WAIT_FOR_PRODUCTS_S = 180
WAIT_FOR_ORDER_S = 240  # longer than a sale may wait for its products
FORECAST_HISTORY_DAYS = 730
MIN_HISTORY_DAYS = 14

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ProductInfo:
    product_id: str
    sku: str
    title: str
    category: str | None
    version: int


@dataclass(frozen=True)
class StoredOrder:
    """A paid order as a refund needs it: its country and its total shared among categories."""

    order_id: str
    country: str
    total: int
    shares: dict[str, int]


@dataclass(frozen=True)
class EventContext:
    event_id: str
    time: str


class AnalyticsStore(Protocol):
    def products(self, product_ids: Sequence[str]) -> dict[str, ProductInfo]: ...

    def save_product(self, product: ProductInfo) -> bool:
        """Keep ``product`` unless a newer version is kept already; whether it was kept."""
        ...

    def order(self, order_id: str) -> StoredOrder | None: ...

    def apply(self, event_id: str, counters: list[Counter], orders: Sequence[StoredOrder] = ()) -> bool:
        """The counters' increments (and the orders to keep), once per event id; ``False`` if applied before."""
        ...

    def day_totals(self, first: date, last: date) -> dict[date, dict[str, int]]:
        """Each day's counters (shards summed) that has any, from ``first`` to ``last`` inclusive."""
        ...

    def product_days(self, first: date, last: date) -> list[dict[str, Any]]:
        """The daily product counter items from ``first`` to ``last``."""
        ...

    def product_months(self, first: str, last: str) -> list[dict[str, Any]]:
        """The monthly product counter items from month ``first`` to ``last`` (``yyyy-mm``)."""
        ...

    def cached(self, key: str) -> dict[str, Any] | None: ...

    def cache(self, key: str, value: dict[str, Any], ttl_s: int) -> None: ...


# -- events -------------------------------------------------------------------------------------------------------
def _day(text: str | None, fallback: str) -> date:
    raw = (text or fallback).replace("Z", "+00:00")
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _age_s(ctx: EventContext, clock: Clock) -> float:
    """How long ago the event was sent."""
    return (clock() - datetime.fromisoformat(ctx.time.replace("Z", "+00:00"))).total_seconds()


def product_changed(data: ev.ProductData, ctx: EventContext, store: AnalyticsStore) -> str:
    sku, title = data.sku, data.title
    if not (sku and title):  # ProductDeleted carries no title: keep what was known
        known = store.products([data.productId]).get(data.productId)
        sku, title = sku or (known.sku if known else ""), title or (known.title if known else "")
    info = ProductInfo(data.productId, sku, title, data.top_category, data.version)
    return "kept" if store.save_product(info) else "stale"


def _categories(
    lines: Sequence[ev.Line], ctx: EventContext, store: AnalyticsStore, clock: Clock
) -> dict[str, ProductInfo]:
    ids = list(dict.fromkeys(line.productId for line in lines))
    known = store.products(ids)
    missing = [i for i in ids if i not in known or not known[i].category]
    if missing and _age_s(ctx, clock) < WAIT_FOR_PRODUCTS_S:
        raise EventNotReady(f"products not known yet: {missing[:5]}")
    return known


def _sale_lines(lines: Sequence[ev.Line], known: dict[str, ProductInfo]) -> list[SaleLine]:
    out = []
    for line in lines:
        info = known.get(line.productId)
        out.append(
            SaleLine(
                line.productId,
                line.sku or (info.sku if info else ""),
                line.title or (info.title if info else ""),
                line.quantity,
                line.total,
                (info.category if info else None) or UNCATEGORISED,
            )
        )
    return out


def order_paid(data: ev.OrderPaid, ctx: EventContext, store: AnalyticsStore, clock: Clock = utc_now) -> str:
    lines = _sale_lines(data.lines, _categories(data.lines, ctx, store, clock))
    sale = Sale(data.orderId, _day(data.paidAt, ctx.time), data.total.amount, data.country or "", lines)
    inc = Increments(ctx.event_id)
    inc.sale(sale)
    kept = StoredOrder(data.orderId, sale.country, sale.total, category_shares(sale.total, lines))
    return "applied" if store.apply(ctx.event_id, inc.counters(), [kept]) else "duplicate"


def payment_refunded(data: ev.PaymentRefunded, ctx: EventContext, store: AnalyticsStore, clock: Clock = utc_now) -> str:
    order = store.order(data.orderId)
    if order is None:
        if _age_s(ctx, clock) < WAIT_FOR_ORDER_S:
            raise EventNotReady(f"order {data.orderId} not paid yet")
        # A paid order analytics never saw (paid before it counted, or lost): the refund still counts.
        order = StoredOrder(data.orderId, "", 0, {UNCATEGORISED: 1})
    names = sorted(order.shares)
    parts = allocate(data.amount.amount, [order.shares[n] for n in names])
    inc = Increments(ctx.event_id)
    inc.refund(Refund(_day(None, ctx.time), data.amount.amount, order.country, dict(zip(names, parts, strict=True))))
    return "applied" if store.apply(ctx.event_id, inc.counters()) else "duplicate"


def history_imported(
    data: ev.OrderHistoryImported, ctx: EventContext, store: AnalyticsStore, clock: Clock = utc_now
) -> str:
    """Past orders and returns, each on its own day, aggregated in memory first (a batch is a few writes)."""
    known = _categories([line for order in data.orders for line in order.lines], ctx, store, clock)
    inc = Increments(ctx.event_id)
    for order in data.orders:
        lines = _sale_lines(order.lines, known)
        day = _day(order.placedAt, ctx.time)
        if order.kind == "return":
            shares = category_shares(order.total.amount, lines)
            inc.refund(Refund(day, order.total.amount, order.country, shares))
        else:
            inc.sale(Sale(order.orderId, day, order.total.amount, order.country, lines))
    return "applied" if store.apply(ctx.event_id, inc.counters()) else "duplicate"


def cart_started(data: ev.CartStarted, ctx: EventContext, store: AnalyticsStore) -> str:
    inc = Increments(ctx.event_id)
    inc.cart_started(_day(data.startedAt, ctx.time))
    return "applied" if store.apply(ctx.event_id, inc.counters()) else "duplicate"


def order_placed(data: ev.OrderPlaced, ctx: EventContext, store: AnalyticsStore) -> str:
    inc = Increments(ctx.event_id)
    inc.order_placed(_day(data.placedAt, ctx.time))
    return "applied" if store.apply(ctx.event_id, inc.counters()) else "duplicate"


# -- reports ------------------------------------------------------------------------------------------------------
def money(amount: int) -> dict[str, Any]:
    return {"amount": int(amount), "currency": "GBP"}


@dataclass(frozen=True)
class SalesQuery:
    first: date
    last: date
    granularity: str = "day"
    by: str | None = None


def _figures(c: dict[str, int]) -> dict[str, Any]:
    revenue, orders = c.get("revenue", 0), c.get("orders", 0)
    return {
        "revenue": money(revenue),
        "orders": orders,
        "averageOrderValue": money(average(revenue, orders)),
        "units": c.get("units", 0),
        "refunds": money(c.get("refunds", 0)),
        "refundCount": c.get("refundCount", 0),
    }


def sales(q: SalesQuery, store: AnalyticsStore) -> dict[str, Any]:
    found = store.day_totals(q.first, q.last)
    buckets: dict[str, dict[str, int]] = {p: {} for p in periods(q.first, q.last, q.granularity)}
    totals: dict[str, int] = {}
    breakdown: dict[str, dict[str, int]] = {}
    for day, counters in found.items():
        bucket = buckets[period_of(day, q.granularity)]
        for name in TOTALS:
            bucket[name] = bucket.get(name, 0) + counters.get(name, 0)
            totals[name] = totals.get(name, 0) + counters.get(name, 0)
        if q.by:
            prefix = breakdown_name(q.by, "", "").split("|")[0] + "|"
            for name, value in counters.items():
                if name.startswith(prefix):
                    _, key, measure = name.split("|", 2)
                    entry = breakdown.setdefault(key, {})
                    entry[measure] = entry.get(measure, 0) + value
    answer: dict[str, Any] = {
        "from": q.first.isoformat(),
        "to": q.last.isoformat(),
        "granularity": q.granularity,
        "currency": "GBP",
        "buckets": [{"period": p, **_figures(c)} for p, c in buckets.items()],
        "totals": {
            **_figures(totals),
            "cartsStarted": totals.get("cartsStarted", 0),
            "ordersPlaced": totals.get("ordersPlaced", 0),
            "conversionRate": (
                round(totals.get("ordersPlaced", 0) / totals["cartsStarted"], 4) if totals.get("cartsStarted") else None
            ),
        },
    }
    if q.by:
        ranked = sorted(
            ((key, e) for key, e in breakdown.items() if any(e.get(m, 0) for m in BREAKDOWN)),
            key=lambda pair: (-pair[1].get("revenue", 0), pair[0]),
        )
        answer["breakdown"] = [
            {
                "key": key,
                "revenue": money(e.get("revenue", 0)),
                "orders": e.get("orders", 0),
                "units": e.get("units", 0),
                "refunds": money(e.get("refunds", 0)),
            }
            for key, e in ranked
        ]
    return answer


@dataclass(frozen=True)
class TopProductsQuery:
    first: date
    last: date
    by: str = "revenue"
    limit: int = 10


def top_products(q: TopProductsQuery, store: AnalyticsStore) -> dict[str, Any]:
    edges, months = month_split(q.first, q.last)
    items: list[dict[str, Any]] = []
    for first, last in edges:
        items.extend(store.product_days(first, last))
    if months:
        items.extend(store.product_months(*months))
    summed: dict[str, dict[str, Any]] = {}
    for item in items:
        pid = str(item["productId"])
        entry = summed.setdefault(
            pid, {"productId": pid, "sku": "", "title": "", "units": 0, "revenue": 0, "orders": 0}
        )
        for name in ("units", "revenue", "orders"):
            entry[name] += int(item.get(name) or 0)
        entry["sku"] = entry["sku"] or str(item.get("sku") or "")
        entry["title"] = entry["title"] or str(item.get("title") or "")
    other = "units" if q.by == "revenue" else "revenue"
    ranked = sorted(summed.values(), key=lambda e: (-e[q.by], -e[other], e["productId"]))[: q.limit]
    return {
        "from": q.first.isoformat(),
        "to": q.last.isoformat(),
        "by": q.by,
        "items": [{**e, "revenue": money(e["revenue"])} for e in ranked],
    }


# -- forecast -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForecastQuery:
    days: int = 14
    level: float = 0.9


Forecaster = Callable[..., Any]


def _default_forecaster() -> Forecaster:
    from analytics.forecast import forecast

    return forecast


def daily_series(store: AnalyticsStore, today: date) -> tuple[date, list[int], list[int]]:
    """Daily revenue and orders from the first day with a sale (at most two years back) to yesterday, zeros
    for empty days."""
    last = today - timedelta(days=1)
    found = store.day_totals(last - timedelta(days=FORECAST_HISTORY_DAYS - 1), last)
    active = sorted(d for d, c in found.items() if c.get("revenue") or c.get("orders"))
    if not active:
        return today, [], []
    first = active[0]
    revenue = [found.get(d, {}).get("revenue", 0) for d in days(first, last)]
    orders = [found.get(d, {}).get("orders", 0) for d in days(first, last)]
    return first, revenue, orders


def forecast(
    q: ForecastQuery,
    store: AnalyticsStore,
    *,
    clock: Clock = utc_now,
    forecaster: Forecaster | None = None,
) -> dict[str, Any]:
    """The next ``q.days`` days of revenue and orders from the daily series (cached for the day per series)."""
    now = clock()
    today = now.date()
    _, revenue, orders = daily_series(store, today)
    if len(revenue) < MIN_HISTORY_DAYS:
        raise NotEnoughHistory(
            f"A forecast needs at least {MIN_HISTORY_DAYS} days of sales history; there are {len(revenue)}.",
            historyDays=len(revenue),
        )
    digest = hashlib.sha256(json.dumps([revenue, orders]).encode()).hexdigest()[:16]
    key = f"{today.isoformat()}#{q.days}#{q.level}#{digest}"
    hit = store.cached(key)
    if hit is not None:
        return hit
    run = forecaster or _default_forecaster()
    r = run([float(v) for v in revenue], q.days, level=q.level, start=today)
    o = run([float(v) for v in orders], q.days, level=q.level, start=today)
    dates = [(today + timedelta(days=i)).isoformat() for i in range(q.days)]
    answer = {
        "days": q.days,
        "level": q.level,
        "generatedAt": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "historyDays": len(revenue),
        "revenue": {
            "model": r.model,
            "points": [
                {"date": d, "mean": money(round(m)), "lower": money(round(lo)), "upper": money(round(hi))}
                for d, m, lo, hi in zip(dates, r.mean, r.lower, r.upper, strict=True)
            ],
        },
        "orders": {
            "model": o.model,
            "points": [
                {"date": d, "mean": round(m, 2), "lower": round(lo, 2), "upper": round(hi, 2)}
                for d, m, lo, hi in zip(dates, o.mean, o.lower, o.upper, strict=True)
            ],
        },
    }
    store.cache(key, answer, ttl_s=2 * 86400)
    return answer
