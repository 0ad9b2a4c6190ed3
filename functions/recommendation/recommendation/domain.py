"""What may be recommended, and the baskets the model learns from: standard library only.

A product is known from the catalog's events (kept at its newest ``version``) and inventory's stock level (kept at
its newest event time). Only an **active** product **in stock** (level ``in_stock`` or ``low``) is ever
recommended; a product the service heard of only through stock events is not known (no title, no price).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recommendation.model import Basket

CURRENCY = "GBP"
BASKET_SHARDS = 16  # baskets are written across this many partitions: no key takes every paid order
RECOMMENDABLE_LEVELS = frozenset({"in_stock", "low"})

# The bases an answer names.
CO_PURCHASE = "co-purchase"
POPULAR_IN_CATEGORY = "popular-in-category"
POPULAR = "popular"
TRENDING = "trending"
HISTORY = "history"


@dataclass(frozen=True)
class Product:
    product_id: str
    sku: str = ""
    title: str = ""
    price: int = 0
    currency: str = CURRENCY
    image: str | None = None
    status: str = ""
    category_path: tuple[str, ...] = ()
    level: str | None = None

    @property
    def known(self) -> bool:
        """Heard of from the catalog (not only from a stock event)."""
        return bool(self.sku)

    @property
    def recommendable(self) -> bool:
        return self.known and self.status == "active" and self.level in RECOMMENDABLE_LEVELS

    def to_dict(self, score: float) -> dict[str, Any]:
        """The product as an answer's item."""
        return {
            "productId": self.product_id,
            "sku": self.sku,
            "title": self.title,
            "price": {"amount": self.price, "currency": self.currency},
            "image": self.image,
            "score": round(float(score), 6),
        }


@dataclass(frozen=True)
class Recommendations:
    basis: str
    items: list[tuple[Product, float]] = field(default_factory=list)


def shard_of(key: str, shards: int = BASKET_SHARDS) -> int:
    return zlib.crc32(key.encode()) % shards


def user_unit(user_id: str) -> str:
    return f"user:{user_id}"


def customer_unit(customer_ref: str) -> str:
    """A past order's customer (the shop's own reference, not a Gears user); "" when the order names none."""
    return f"customer:{customer_ref}" if customer_ref else ""


def paid_basket(order_id: str, user_id: str, paid_at: str, product_ids: Iterable[str]) -> Basket:
    return Basket(f"order:{order_id}", user_unit(user_id), paid_at[:10], tuple(dict.fromkeys(product_ids)))


def history_basket(order_id: str, customer_ref: str, placed_at: str, product_ids: Iterable[str]) -> Basket:
    return Basket(f"history:{order_id}", customer_unit(customer_ref), placed_at[:10], tuple(dict.fromkeys(product_ids)))


def pick(
    candidates: Sequence[tuple[str, float]],
    products: Mapping[str, Product],
    *,
    limit: int,
    exclude: Iterable[str] = (),
) -> list[tuple[Product, float]]:
    """The first ``limit`` recommendable candidates, in order, none of ``exclude`` and none twice."""
    banned = set(exclude)
    out: list[tuple[Product, float]] = []
    for product_id, score in candidates:
        product = products.get(product_id)
        if product is None or product_id in banned or not product.recommendable:
            continue
        banned.add(product_id)
        out.append((product, score))
        if len(out) >= limit:
            break
    return out
