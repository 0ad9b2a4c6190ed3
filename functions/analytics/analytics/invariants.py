"""What must hold of the analytics table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **counters**: no counter is negative.
- **rollups**: a product's month counters are the sum of its day counters in that month.
- **units**: a day's units (its sharded totals) are the units of the products sold that day, and its breakdowns by
  category and by country each sum to them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from analytics.domain import product_records
from gears_shared.invariants import Check, Shop

MEASURES = ("units", "revenue", "orders")


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    negative = Check("analytics: no negative counter")
    rollups = Check("analytics: product months are the sum of their days")
    units = Check("analytics: a day's units match its products and breakdowns")
    tally = _Tally()
    for item in items:
        tally.add(item, negative)
    for key in set(tally.months) | set(tally.summed):
        rollups.saw()
        month, days = dict(tally.months.get(key, {})), dict(tally.summed.get(key, {}))
        if month != days:
            rollups.fail(f"{key[1]} in {key[0]}: month {month}, days {days}")
    for day, found in tally.day_units.items():
        units.saw()
        total = found.get("total", 0)
        for name in ("products", "cat", "ctry"):
            if found.get(name, 0) != total:
                units.fail(f"{day}: {total} units, {found.get(name, 0)} by {name}")
    return [negative, rollups, units]


class _Tally:
    def __init__(self) -> None:
        self.months: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.summed: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.day_units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def _products(self, item: dict[str, Any], period: str, *, daily: bool) -> None:
        for record in product_records(item):
            sums = (
                self.summed[(period[:7], record["productId"])] if daily else self.months[(period, record["productId"])]
            )
            for m in MEASURES:
                sums[m] += int(record.get(m) or 0)
            if daily:
                self.day_units[period]["products"] += int(record.get("units") or 0)

    def add(self, item: dict[str, Any], negative: Check) -> None:
        pk, sk = str(item.get("pk", "")), str(item.get("sk", ""))
        counters = {k: v for k, v in item.items() if isinstance(v, int) and not isinstance(v, bool)}
        if not pk.startswith(("SALES#", "PRODUCT_DAY#", "PRODUCT_MONTH#")):
            return
        negative.saw()
        if any(v < 0 for v in counters.values()):
            negative.fail(f"{pk} {sk}: a negative counter")
        if pk.startswith(("PRODUCT_MONTH#", "PRODUCT_DAY#")):
            self._products(item, sk, daily=pk.startswith("PRODUCT_DAY#"))
        else:
            day = sk.removeprefix("DAY#")
            self.day_units[day]["total"] += counters.get("units", 0)
            for name, value in counters.items():
                parts = name.split("|")
                if len(parts) == 3 and parts[2] == "units":
                    self.day_units[day][parts[0]] += value
