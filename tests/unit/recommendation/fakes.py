"""In-memory fakes of the recommendation service's ports, with the same rules as the table and the bucket."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from recommendation import events as ev
from recommendation.domain import Product
from recommendation.model import Basket

Ranked = list[tuple[str, float]]


class FakeStore:
    """:class:`recommendation.service.RecommendationStore` in dicts."""

    def __init__(self) -> None:
        self.catalog: dict[str, Product] = {}
        self.versions: dict[str, int] = {}
        self.stock_at: dict[str, str] = {}
        self.baskets: dict[str, tuple[Basket, str | None, str]] = {}
        self.related: dict[str, Ranked] = {}
        self.lists: dict[str, Ranked] = {}
        self.related_writes = 0

    def save_product(self, data: ev.ProductData) -> bool:
        if self.versions.get(data.productId, -1) >= data.version:
            return False
        old = self.catalog.get(data.productId, Product(data.productId))
        self.catalog[data.productId] = replace(
            old,
            sku=data.sku,
            title=data.title,
            price=data.price.amount,
            currency=data.price.currency,
            image=data.images[0] if data.images else None,
            status=data.status,
            category_path=tuple(data.categoryPath) or ((data.category,) if data.category else ()),
        )
        self.versions[data.productId] = data.version
        return True

    def delete_product(self, product_id: str, version: int) -> bool:
        if self.versions.get(product_id, -1) >= version:
            return False
        self.catalog[product_id] = replace(self.catalog.get(product_id, Product(product_id)), status="deleted")
        self.versions[product_id] = version
        return True

    def set_level(self, product_id: str, level: str, at: str) -> bool:
        if self.stock_at.get(product_id, "") >= at:
            return False
        self.catalog[product_id] = replace(self.catalog.get(product_id, Product(product_id)), level=level)
        self.stock_at[product_id] = at
        return True

    def product(self, product_id: str) -> tuple[Product | None, Ranked]:
        return self.catalog.get(product_id), list(self.related.get(product_id, []))

    def products(self, product_ids: Iterable[str]) -> dict[str, Product]:
        return {p: self.catalog[p] for p in product_ids if p in self.catalog}

    def add_baskets(self, baskets: Sequence[Basket], *, user_id: str | None = None, at: str = "") -> None:
        for basket in baskets:
            self.baskets[basket.basket_id] = (basket, user_id, at)

    def user_baskets(self, user_id: str, limit: int) -> list[Basket]:
        mine = sorted(
            ((at, b) for b, owner, at in self.baskets.values() if owner == user_id),
            key=lambda ab: (ab[0], ab[1].basket_id),
            reverse=True,
        )
        return [b for _, b in mine[:limit]]

    def all_baskets(self) -> Iterator[Basket]:
        for basket, _, _ in self.baskets.values():
            yield basket

    def related_lists(self, product_ids: Iterable[str]) -> dict[str, Ranked]:
        return {p: list(self.related[p]) for p in product_ids if p in self.related}

    def named_list(self, name: str) -> Ranked:
        return list(self.lists.get(name, []))

    def save_related(self, lists: Mapping[str, Ranked], at: str) -> None:
        self.related_writes += len(lists)
        self.related.update({k: list(v) for k, v in lists.items()})

    def save_lists(self, lists: Mapping[str, Ranked], at: str) -> None:
        self.lists.update({k: list(v) for k, v in lists.items()})


class FakeSnapshots:
    """:class:`recommendation.service.SnapshotStore`: the snapshot kept as JSON text, as the bucket keeps it."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.saves = 0

    def load(self) -> dict[str, Any] | None:
        return copy.deepcopy(json.loads(self.text)) if self.text is not None else None

    def save(self, snapshot: dict[str, Any]) -> None:
        self.text = json.dumps(snapshot)
        self.saves += 1


def product_data(
    product_id: str,
    *,
    version: int = 1,
    status: str = "active",
    path: tuple[str, ...] = ("home", "mugs"),
    price: int = 500,
    title: str | None = None,
) -> ev.ProductData:
    return ev.ProductData.model_validate(
        {
            "productId": product_id,
            "sku": f"SKU-{product_id[:8]}",
            "title": title or f"Product {product_id}",
            "price": {"amount": price, "currency": "GBP"},
            "category": path[-1] if path else "",
            "categoryPath": list(path),
            "images": [f"https://img.example/{product_id}.jpg"],
            "status": status,
            "version": version,
        }
    )
