"""In-memory implementations of the catalog's and the cart's ports, for the use-case tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ecommerce.cart.domain import Cart, PlacedOrder
from ecommerce.cart.service import CheckoutRecord, KeyTaken, ShardBusy, ShardExhausted, UsageClaim
from ecommerce.catalog.domain import Category, Partition, Product
from ecommerce.discounts.domain import DiscountCode, Usage, split_allowance
from ecommerce.discounts.service import Reallocation, UsageMoved
from ecommerce.errors import (
    CartChanged,
    DiscountExists,
    InvalidCursor,
    ProductExists,
    StaleDiscount,
    StaleProduct,
)


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
    """:class:`ecommerce.cart.service.CheckoutStore` over the in-memory carts (and discount codes): the
    transaction's conditions."""

    def __init__(self, carts: InMemoryCarts, discounts: InMemoryDiscounts | None = None) -> None:
        self.carts = carts
        self.discounts = discounts
        self.records: dict[tuple[str, str], CheckoutRecord] = {}
        self.receipts: dict[tuple[str, str], dict[str, Any]] = {}
        self.orders: dict[str, PlacedOrder] = {}
        self.claims: list[UsageClaim] = []  # every claim tried, in order
        self.claimed: dict[str, UsageClaim] = {}  # order id -> the claim its transaction counted
        self.before_place: Callable[[], None] | None = None

    def begin(self, user_id: str, key: str, now: datetime) -> tuple[Cart, CheckoutRecord | None]:
        return self.carts.get(user_id, now), self.records.get((user_id, key))

    def record(self, user_id: str, key: str) -> CheckoutRecord | None:
        return self.records.get((user_id, key))

    def receipt(self, user_id: str, order_id: str) -> dict[str, Any] | None:
        return self.receipts.get((user_id, order_id))

    def place(
        self,
        order: PlacedOrder,
        record: CheckoutRecord,
        *,
        key: str,
        cart: Cart,
        correlation_id: str,
        usage: UsageClaim | None = None,
    ) -> None:
        if self.before_place is not None:
            hook, self.before_place = self.before_place, None
            hook()
        if order.order_id in self.orders or (order.user_id, key) in self.records:
            raise KeyTaken(order.order_id)
        stored = self.carts.items.get(cart.user_id)
        if stored is None or stored.version != cart.version:
            raise CartChanged("changed")
        if usage is not None:
            self.claims.append(usage)
            assert self.discounts is not None
            self.discounts.claim(usage)
            self.claimed[order.order_id] = usage
        self.orders[order.order_id] = order
        self.records[(order.user_id, key)] = record
        self.receipts[(order.user_id, order.order_id)] = record.receipt
        del self.carts.items[cart.user_id]


# -- discount codes --------------------------------------------------------------------------------------------------
class InMemoryDiscounts:
    """:class:`ecommerce.discounts.service.DiscountRepository` over dicts: a code, and per shard its uses and
    allowance (``None``: no limit), with the store's conditions."""

    def __init__(self) -> None:
        self.codes: dict[str, DiscountCode] = {}
        self.used: dict[tuple[str, int], int] = {}
        self.allowance: dict[tuple[str, int], int | None] = {}
        self.busy: set[tuple[str, int]] = set()  # shards another transaction holds (ShardBusy)
        self.before_save: Callable[[], None] | None = None  # runs once before the next save: a racing writer

    def get(self, code: str) -> DiscountCode | None:
        return self.codes.get(code)

    def usage(self, discount: DiscountCode) -> Usage:
        return Usage(tuple(self.used.get((discount.code, n), 0) for n in range(discount.shards)))

    def usages(self, discounts: list[DiscountCode]) -> dict[str, Usage]:
        return {d.code: self.usage(d) for d in discounts}

    def add(self, discount: DiscountCode) -> DiscountCode:
        if discount.code in self.codes:
            raise DiscountExists("taken")
        stored = replace(discount, version=1)
        self.codes[discount.code] = stored
        limit = discount.terms.usage_limit
        allowances = split_allowance(limit, [0] * discount.shards) if limit is not None else None
        for n in range(discount.shards):
            self.used[(discount.code, n)] = 0
            self.allowance[(discount.code, n)] = allowances[n] if allowances else None
        return stored

    def save(self, discount: DiscountCode, *, expected_version: int, reallocation: Reallocation | None) -> DiscountCode:
        if self.before_save is not None:
            hook, self.before_save = self.before_save, None
            hook()
        current = self.codes.get(discount.code)
        if current is None or current.version != expected_version:
            raise StaleDiscount("stale")
        if reallocation is not None:
            counted = reallocation.counted
            if any(self.used[(discount.code, n)] != c for n, c in enumerate(counted)):
                raise UsageMoved(discount.code)
            for n in range(discount.shards):
                self.used.setdefault((discount.code, n), 0)
                allowances = reallocation.allowances
                self.allowance[(discount.code, n)] = allowances[n] if allowances is not None else None
        stored = replace(discount, version=expected_version + 1)
        self.codes[discount.code] = stored
        return stored

    def page(self, limit: int, after: str | None) -> tuple[list[DiscountCode], str | None]:
        codes = sorted(c for c in self.codes if after is None or c > after)
        page = [self.codes[c] for c in codes[:limit]]
        return page, (page[-1].code if len(codes) > limit else None)

    def claim(self, usage: UsageClaim) -> None:
        """One use on a shard, as the checkout's transaction counts it."""
        shard = (usage.code, usage.shard)
        if shard in self.busy:
            raise ShardBusy(usage)
        allowance = self.allowance[shard]
        if allowance is not None and self.used[shard] >= allowance:
            raise ShardExhausted(usage)
        self.used[shard] += 1

    def allowances(self, code: str) -> list[int | None]:
        return [self.allowance[(code, n)] for n in range(self.codes[code].shards)]


class InMemoryUsageReleases:
    """:class:`ecommerce.discounts.service.UsageReleases` over the in-memory checkouts' claims and codes."""

    def __init__(self, checkouts: InMemoryCheckouts, discounts: InMemoryDiscounts) -> None:
        self.checkouts = checkouts
        self.discounts = discounts
        self.released: dict[str, datetime] = {}

    def release(self, order_id: str, now: datetime) -> bool:
        claim = self.checkouts.claimed.get(order_id)
        if claim is None or order_id in self.released:
            return False
        self.released[order_id] = now
        self.discounts.used[(claim.code, claim.shard)] -= 1
        return True
