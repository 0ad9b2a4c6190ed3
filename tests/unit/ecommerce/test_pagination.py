"""Listing pages through the shard partitions in order: every active product exactly once, whatever the page size."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ecommerce.catalog import service
from ecommerce.catalog.domain import SHARDS, Money, Product, ProductDetails, ProductStatus
from ecommerce.catalog.service import CategoryCatalog, ListProducts
from ecommerce.errors import InvalidCursor, UnknownCategoryFilter
from tests.unit.ecommerce.fakes import TREE, InMemoryCategories, InMemoryProducts

NOW = datetime(2024, 5, 1, tzinfo=UTC)
LEAVES = ["mugs", "plates", "toys", "other"]


def stock(products: InMemoryProducts, n: int) -> dict[str, Product]:
    """``n`` products over the leaf categories; every fifth is a draft and every seventh archived."""
    active = {}
    for i in range(n):
        status = ProductStatus.ACTIVE
        if i % 5 == 0:
            status = ProductStatus.DRAFT
        elif i % 7 == 0:
            status = ProductStatus.ARCHIVED
        details = ProductDetails(f"P{i}", Money(100 + i, "GBP"), LEAVES[i % len(LEAVES)], status=status)
        product = replace(Product.new(f"SKU-{i}", details, NOW), version=1)
        products.items[product.product_id] = product
        if product.is_active:
            active[product.product_id] = product
    return active


def walk(
    products: InMemoryProducts, categories: CategoryCatalog, *, limit: int | None, category: str | None = None
) -> tuple[list[str], list[int]]:
    seen: list[str] = []
    sizes: list[int] = []
    position = None
    for _ in range(10_000):
        page = service.list_active_products(
            ListProducts(category=category, limit=limit, position=position), products, categories
        )
        seen.extend(p.product_id for p in page.items)
        sizes.append(len(page.items))
        position = page.next_position
        if position is None:
            return seen, sizes
    raise AssertionError("the listing never ended")


@pytest.fixture
def products() -> InMemoryProducts:
    return InMemoryProducts()


@pytest.fixture
def categories() -> CategoryCatalog:
    return CategoryCatalog(InMemoryCategories(TREE))


@pytest.mark.parametrize("limit", [1, 3, 7, 20, 100])
def test_every_active_product_exactly_once(products, categories, limit: int) -> None:
    active = stock(products, 157)
    seen, sizes = walk(products, categories, limit=limit)
    assert Counter(seen) == Counter(list(active))
    assert all(size == limit for size in sizes[:-1])
    assert sizes[-1] <= limit


def test_partitions_are_read_in_shard_order(products, categories) -> None:
    stock(products, 60)
    walk(products, categories, limit=5)
    shards = [partition.shard for partition, _, _ in products.queries]
    assert shards == sorted(shards)
    assert set(shards) == set(range(SHARDS))


def test_a_category_lists_its_subcategories_too(products, categories) -> None:
    active = stock(products, 120)
    seen, _ = walk(products, categories, limit=4, category="home")
    assert Counter(seen) == Counter(pid for pid, p in active.items() if p.details.category in ("mugs", "plates"))
    leaf, _ = walk(products, categories, limit=4, category="toys")
    assert {active[pid].details.category for pid in leaf} == {"toys"}


def test_limits_default_to_20_and_are_capped_at_100(products, categories) -> None:
    stock(products, 400)
    assert len(service.list_active_products(ListProducts(), products, categories).items) == service.DEFAULT_LIMIT == 20
    assert (
        len(service.list_active_products(ListProducts(limit=5000), products, categories).items)
        == service.MAX_LIMIT
        == 100
    )


def test_an_empty_catalog_is_one_empty_page(products, categories) -> None:
    page = service.list_active_products(ListProducts(limit=10), products, categories)
    assert (page.items, page.next_position) == ([], None)


def test_a_cursor_belongs_to_its_listing(products, categories) -> None:
    stock(products, 80)
    page = service.list_active_products(ListProducts(limit=3, category="mugs"), products, categories)
    assert page.next_position is not None
    with pytest.raises(InvalidCursor):
        service.list_active_products(
            ListProducts(limit=3, category="toys", position=page.next_position), products, categories
        )
    with pytest.raises(InvalidCursor):
        service.list_active_products(ListProducts(limit=3, position=page.next_position), products, categories)


@pytest.mark.parametrize(
    "position",
    [{"c": None, "s": 99, "k": None}, {"c": None, "s": "0", "k": None}, {"c": None, "s": 0, "k": "x"}, {"x": 1}],
)
def test_forged_cursors_are_refused(products, categories, position) -> None:
    with pytest.raises(InvalidCursor):
        service.list_active_products(ListProducts(position=position), products, categories)


def test_an_unknown_category_filter_is_refused(products, categories) -> None:
    with pytest.raises(UnknownCategoryFilter):
        service.list_active_products(ListProducts(category="nope"), products, categories)
