"""What must hold of the search table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **products**: every product the catalog told of is listed in its shard (``gsi1pk``, what a full rebuild reads)
  with a version, and holds either the product or the mark that it was deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from search.store import PRODUCT, SHARDS, shard_of


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    listed = Check("search: products listed in their shard, each with a version and its product or a deletion")
    for item in items:
        if item.get("entity") != PRODUCT or "version" not in item:
            continue  # a stock level whose product has not come yet
        listed.saw()
        product_id = str(item.get("productId"))
        if item.get("gsi1pk") != f"PRODUCTS#{shard_of(product_id):02d}" or shard_of(product_id) >= SHARDS:
            listed.fail(f"{product_id}: not listed in its shard ({item.get('gsi1pk')})")
        if not item.get("deleted") and not isinstance(item.get("product"), dict):
            listed.fail(f"{product_id}: version {item.get('version')} holds no product and no deletion")
    return [listed]
