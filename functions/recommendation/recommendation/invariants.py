"""What must hold of the recommendation table once the shop is quiet (``gears check``; see
:mod:`gears_shared.invariants`).

- **lists**: every related, popular or trending list names each product once, best first, and a related list
  never names its own product.
- **baskets**: every basket lies in the partition its id shards to and holds at least one product.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from recommendation.domain import shard_of
from recommendation.store import BASKET, LIST, RELATED, basket_partition


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    lists, baskets = (
        Check("recommendation: lists name each product once, best first, never themselves"),
        Check("recommendation: baskets in their shard, never empty"),
    )
    for item in items:
        entity = item.get("entity")
        if entity in (RELATED, LIST):
            lists.saw()
            _list(item, lists)
        elif entity == BASKET:
            baskets.saw()
            if item.get("pk") != basket_partition(shard_of(str(item.get("basketId")))):
                baskets.fail(f"{item.get('basketId')}: in {item.get('pk')}")
            if not item.get("items"):
                baskets.fail(f"{item.get('basketId')}: no products")
    return [lists, baskets]


def _list(item: dict[str, Any], check: Check) -> None:
    name = str(item.get("pk"))
    ranked = json.loads(item.get("items") or "[]")
    ids = [str(i) for i, _ in ranked]
    scores = [float(s) for _, s in ranked]
    if len(set(ids)) != len(ids):
        check.fail(f"{name}: a product twice")
    if scores != sorted(scores, reverse=True):
        check.fail(f"{name}: not best first")
    if item.get("entity") == RELATED and name.removeprefix("PRODUCT#") in ids:
        check.fail(f"{name}: names itself")
