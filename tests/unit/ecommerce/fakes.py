"""In-memory implementations of the catalog's ports, for the use-case tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ecommerce.domain import Category, Partition, Product
from ecommerce.errors import InvalidCursor, ProductExists, StaleProduct


class InMemoryProducts:
    """:class:`ecommerce.service.ProductRepository` over a dict; pages like DynamoDB (a key whenever a page is full)."""

    def __init__(self) -> None:
        self.items: dict[str, Product] = {}
        self.correlation: dict[str, str] = {}
        self.queries: list[tuple[Partition, int, dict[str, Any] | None]] = []

    def get(self, product_id: str) -> Product | None:
        return self.items.get(product_id)

    def add(self, product: Product, *, correlation_id: str = "") -> Product:
        if product.product_id in self.items:
            raise ProductExists("taken")
        stored = replace(product, version=1)
        self.items[product.product_id] = stored
        self.correlation[product.product_id] = correlation_id
        return stored

    def save(self, product: Product, *, expected_version: int, correlation_id: str = "") -> Product:
        current = self.items.get(product.product_id)
        if current is None or current.version != expected_version:
            raise StaleProduct("stale", currentVersion=current.version if current else None)
        stored = replace(product, version=expected_version + 1)
        self.items[product.product_id] = stored
        self.correlation[product.product_id] = correlation_id
        return stored

    def query_active(
        self, partition: Partition, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Product], dict[str, Any] | None]:
        self.queries.append((partition, limit, start))
        if start is not None and (set(start) != {"after"} or not isinstance(start["after"], str)):
            raise InvalidCursor("bad key")
        members = sorted(
            (
                p
                for p in self.items.values()
                if p.is_active
                and p.shard == partition.shard
                and (partition.category is None or p.details.category == partition.category)
            ),
            key=lambda p: p.product_id,
        )
        after = start["after"] if start else None
        rest = [p for p in members if after is None or p.product_id > after]
        page = rest[:limit]
        return page, ({"after": page[-1].product_id} if page and len(page) == limit else None)


class InMemoryCategories:
    def __init__(self, categories: list[Category]) -> None:
        self.categories = list(categories)
        self.loads = 0

    def all(self) -> list[Category]:
        self.loads += 1
        return list(self.categories)


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Monotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


TREE = [
    Category("home", "Home", None, 1),
    Category("mugs", "Mugs", "home", 1),
    Category("plates", "Plates", "home", 2),
    Category("toys", "Toys", None, 2),
    Category("other", "Other", None, 3),
]
