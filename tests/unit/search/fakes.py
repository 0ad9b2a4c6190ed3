"""In-memory implementations of search's ports (the table; the bucket is ``DirectorySnapshots`` in a tmp dir), and
builders of the events' data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from search import events as ev
from search.domain import Level
from search.store import PRODUCT


class FakeSearchStore:
    """The table's rules in memory: a product's version and a level's time only move forward."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def _item(self, product_id: str) -> dict[str, Any]:
        return self.items.setdefault(product_id, {"entity": PRODUCT, "productId": product_id})

    def put_product(self, product_id: str, sku: str, product: dict[str, Any], version: int) -> bool:
        item = self.items.get(product_id, {})
        if "version" in item and item["version"] >= version:
            return False
        self._item(product_id).update(product=product, version=version, deleted=False, sku=sku)
        return True

    def delete_product(self, product_id: str, sku: str, version: int) -> bool:
        item = self.items.get(product_id, {})
        if "version" in item and item["version"] > version:
            return False
        stored = self._item(product_id)
        stored.update(version=version, deleted=True, sku=sku)
        stored.pop("product", None)
        return True

    def put_level(self, product_id: str, level: Level, as_of: str) -> bool:
        item = self.items.get(product_id, {})
        if "levelAsOf" in item and item["levelAsOf"] >= as_of:
            return False
        self._item(product_id).update(level=level, levelAsOf=as_of)
        return True

    def product_id_for_sku(self, sku: str) -> str | None:
        return next((pid for pid, item in self.items.items() if item.get("sku") == sku), None)

    def products(self) -> Iterator[dict[str, Any]]:
        yield from (dict(item) for item in self.items.values() if "version" in item)


def product_data(
    product_id: str | None = None,
    *,
    title: str = "Enamel mug",
    description: str = "A sturdy enamel mug for the garden",
    amount: int = 850,
    category: str = "mugs-cups",
    path: tuple[str, ...] = ("home-kitchen", "mugs-cups"),
    status: str = "active",
    version: int = 1,
    created_at: str = "2026-01-01T00:00:00Z",
    sku: str | None = None,
) -> ev.ProductChanged:
    product_id = product_id or str(uuid.uuid4())
    return ev.ProductChanged.model_validate(
        {
            "productId": product_id,
            "sku": sku or f"SKU-{product_id[:8]}",
            "title": title,
            "description": description,
            "price": {"amount": amount, "currency": "GBP"},
            "category": category,
            "categoryPath": list(path),
            "brand": None,
            "images": [f"https://img.example/{product_id}.jpg"],
            "attributes": {},
            "status": status,
            "createdAt": created_at,
            "updatedAt": created_at,
            "version": version,
        }
    )


def stock(product_id: str | None, level: str, sku: str = "SKU-X") -> ev.StockLevelChanged:
    return ev.StockLevelChanged.model_validate({"sku": sku, "productId": product_id, "level": level})
