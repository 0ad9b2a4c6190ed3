"""In-memory implementations of the catalog's and the cart's ports, for the use-case tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ecommerce.cart.domain import Cart, PlacedOrder
from ecommerce.cart.service import CheckoutRecord, KeyTaken
from ecommerce.catalog.domain import Category, Partition, Product
from ecommerce.errors import CartChanged, InvalidCursor, ProductExists, StaleProduct


class InMemoryProducts:
    """:class:`ecommerce.catalog.service.ProductRepository` over a dict; pages like DynamoDB (a key per full page)."""

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


# -- cart and checkout -----------------------------------------------------------------------------------------------
class InMemoryCarts:
    """:class:`ecommerce.cart.service.CartRepository` over a dict, conditional on the version like the table."""

    def __init__(self) -> None:
        self.items: dict[str, Cart] = {}
        self.saves = 0
        self.interfere: Callable[[], None] | None = None  # runs once before the next save: a concurrent writer

    def get(self, user_id: str, now: datetime) -> Cart:
        return self.items.get(user_id) or Cart(user_id)

    def save(self, cart: Cart, *, expected_version: int) -> Cart:
        if self.interfere is not None:
            interfere, self.interfere = self.interfere, None
            interfere()
        current = self.items.get(cart.user_id)
        if (current.version if current else 0) != expected_version:
            raise CartChanged("changed")
        stored = replace(cart, version=expected_version + 1)
        self.items[cart.user_id] = stored
        self.saves += 1
        return stored

    def delete(self, user_id: str) -> None:
        self.items.pop(user_id, None)


class CatalogLookup:
    """:class:`ecommerce.cart.service.ProductLookup` over :class:`InMemoryProducts`, counting batch reads."""

    def __init__(self, products: InMemoryProducts) -> None:
        self.products = products
        self.reads: list[list[str]] = []

    def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        self.reads.append(list(product_ids))
        return {pid: p for pid in product_ids if (p := self.products.items.get(pid)) is not None}


class InMemoryCheckouts:
    """:class:`ecommerce.cart.service.CheckoutStore` over the in-memory carts: the transaction's three conditions."""

    def __init__(self, carts: InMemoryCarts) -> None:
        self.carts = carts
        self.records: dict[tuple[str, str], CheckoutRecord] = {}
        self.receipts: dict[tuple[str, str], dict[str, Any]] = {}
        self.orders: dict[str, PlacedOrder] = {}
        self.before_place: Callable[[], None] | None = None

    def begin(self, user_id: str, key: str, now: datetime) -> tuple[Cart, CheckoutRecord | None]:
        return self.carts.get(user_id, now), self.records.get((user_id, key))

    def record(self, user_id: str, key: str) -> CheckoutRecord | None:
        return self.records.get((user_id, key))

    def receipt(self, user_id: str, order_id: str) -> dict[str, Any] | None:
        return self.receipts.get((user_id, order_id))

    def place(self, order: PlacedOrder, record: CheckoutRecord, *, key: str, cart: Cart, correlation_id: str) -> None:
        if self.before_place is not None:
            hook, self.before_place = self.before_place, None
            hook()
        if order.order_id in self.orders or (order.user_id, key) in self.records:
            raise KeyTaken(order.order_id)
        stored = self.carts.items.get(cart.user_id)
        if stored is None or stored.version != cart.version:
            raise CartChanged("changed")
        self.orders[order.order_id] = order
        self.records[(order.user_id, key)] = record
        self.receipts[(order.user_id, order.order_id)] = record.receipt
        del self.carts.items[cart.user_id]
