"""An in-memory fake of analytics' port with the table's rules: an event's increments apply once (a marker per
chunk), a product is kept only at a newer version, the day and product counters are items summed on read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from analytics.domain import Counter, days, product_records
from analytics.service import ProductInfo, StoredOrder

CHUNK = 90


class InMemoryAnalytics:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.markers: set[str] = set()
        self.product_items: dict[str, ProductInfo] = {}
        self.orders: dict[str, StoredOrder] = {}
        self.forecasts: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def products(self, product_ids: Sequence[str]) -> dict[str, ProductInfo]:
        return {i: self.product_items[i] for i in product_ids if i in self.product_items}

    def save_product(self, product: ProductInfo) -> bool:
        kept = self.product_items.get(product.product_id)
        if kept is not None and kept.version >= product.version:
            return False
        self.product_items[product.product_id] = product
        return True

    def order(self, order_id: str) -> StoredOrder | None:
        return self.orders.get(order_id)

    def apply(self, event_id: str, counters: list[Counter], orders: Sequence[StoredOrder] = ()) -> bool:
        applied = False
        chunks = [counters[i : i + CHUNK] for i in range(0, len(counters), CHUNK)] or [[]]
        for n, chunk in enumerate(chunks):
            marker = f"{event_id}#{n}"
            if marker in self.markers:
                continue
            self.markers.add(marker)
            self.writes += 1 + len(chunk)
            for c in chunk:
                item = self.items.setdefault((c.pk, c.sk), {"pk": c.pk, "sk": c.sk})
                for name, value in c.add.items():
                    item[name] = item.get(name, 0) + value
                item.update(c.put)
            if n == 0:
                self.orders.update({o.order_id: o for o in orders})
            applied = True
        return applied

    def day_totals(self, first: date, last: date) -> dict[date, dict[str, int]]:
        wanted = {f"DAY#{d.isoformat()}" for d in days(first, last)}
        out: dict[date, dict[str, int]] = {}
        for (pk, sk), item in self.items.items():
            if pk.startswith("SALES#") and sk in wanted:
                counters = out.setdefault(date.fromisoformat(sk[4:]), {})
                for name, value in item.items():
                    if isinstance(value, int):
                        counters[name] = counters.get(name, 0) + value
        return out

    def product_days(self, first: date, last: date) -> list[dict[str, Any]]:
        return [
            record
            for (pk, sk), item in self.items.items()
            if pk.startswith("PRODUCT_DAY#") and first.isoformat() <= sk <= last.isoformat()
            for record in product_records(item)
        ]

    def product_months(self, first: str, last: str) -> list[dict[str, Any]]:
        return [
            record
            for (pk, sk), item in self.items.items()
            if pk.startswith("PRODUCT_MONTH#") and first <= sk <= last
            for record in product_records(item)
        ]

    def cached(self, key: str) -> dict[str, Any] | None:
        return self.forecasts.get(key)

    def cache(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        self.forecasts[key] = value
