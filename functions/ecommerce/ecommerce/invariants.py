"""What must hold of the e-commerce table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **discount shards**: every usage shard of a code exists, counts no negative uses and, for a code with a limit,
  no more than its allowance; the allowances of a code add up to its limit (so the limit holds exactly).
- **discounted orders counted**: each code counts at least as many uses as there are placed orders that used it
  and did not give the use back (fewer would be an order placed without its use; more is possible once placed
  orders' records expire, after 90 days).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from ecommerce.cart.store import ORDER_PLACED
from ecommerce.discounts.store import DISCOUNT, DISCOUNT_USAGE
from gears_shared.invariants import Check, Shop


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    shards_check = Check("e-commerce: discount usage shards within their allowances, adding up to each limit")
    orders_check = Check("e-commerce: every discounted order's use counted on its code")
    codes: dict[str, dict[str, Any]] = {}
    shards: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    orders: Counter[str] = Counter()
    for item in items:
        entity = item.get("entity")
        if entity == DISCOUNT:
            codes[str(item["code"])] = item
        elif entity == DISCOUNT_USAGE:
            shards[str(item["code"])][int(item["shard"])] = item
        elif entity == ORDER_PLACED and item.get("discountCode") and not item.get("discountReleasedAt"):
            orders[str(item["discountCode"])] += 1
    for code, item in codes.items():
        shards_check.saw()
        _shards(code, item, shards.get(code, {}), shards_check)
    for code, count in orders.items():
        orders_check.saw()
        used = sum(int(s.get("used") or 0) for s in shards.get(code, {}).values())
        if used < count:
            orders_check.fail(f"{code}: {count} orders used it, its shards count {used}")
    return [shards_check, orders_check]


def _shards(code: str, item: dict[str, Any], found: dict[int, dict[str, Any]], check: Check) -> None:
    count, limit = int(item.get("shards") or 0), item.get("usageLimit")
    if sorted(found) != list(range(count)):
        check.fail(f"{code}: shards {sorted(found)}, expected 0..{count - 1}")
    allowances = 0
    for n, shard in sorted(found.items()):
        used, allowance = int(shard.get("used") or 0), shard.get("allowance")
        if used < 0:
            check.fail(f"{code}#{n}: {used} uses")
        if limit is not None and (allowance is None or used > int(allowance)):
            check.fail(f"{code}#{n}: {used} uses of an allowance of {allowance}")
        allowances += int(allowance or 0)
    if limit is not None and allowances != int(limit):
        check.fail(f"{code}: allowances add up to {allowances}, its limit is {limit}")
