"""Listing through the sparse, sharded indexes: every product once, category filters, and never a Scan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from ecommerce import bootstrap
from ecommerce.catalog.demo import load_catalog
from ecommerce.catalog.domain import Money, Product, ProductDetails, ProductStatus
from tests.functional.ecommerce.conftest import CATEGORIES, Call

NOW = datetime(2024, 5, 1, tzinfo=UTC)
LEAVES = ["mugs", "plates", "toys"]


def stock(table_name: str, n: int) -> dict[str, Product]:
    """``n`` products written through the demo data loader (batch writes); every sixth a draft, every ninth archived."""
    products = []
    for i in range(n):
        status = ProductStatus.DRAFT if i % 6 == 0 else ProductStatus.ARCHIVED if i % 9 == 0 else ProductStatus.ACTIVE
        details = ProductDetails(f"Item {i}", Money(100 + i, "GBP"), LEAVES[i % 3], status=status)
        products.append(replace(Product.new(f"L-{i}", details, NOW), version=1))
    load_catalog(table_name, products, CATEGORIES)
    return {p.product_id: p for p in products if p.is_active}


def walk(call: Call, **query: str) -> tuple[list[str], list[int]]:
    seen: list[str] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(1000):
        params = dict(query, **({"cursor": cursor} if cursor else {}))
        page = call("GET", "/products", query=params)
        assert page.status == 200, page
        seen.extend(p["productId"] for p in page.body["items"])
        sizes.append(len(page.body["items"]))
        cursor = page.body["nextCursor"]
        if cursor is None:
            return seen, sizes
    raise AssertionError("the listing never ended")


@pytest.fixture
def no_scan(api: ModuleType, table_name: str) -> Iterator[list[str]]:
    """Every DynamoDB call the catalog's clients make, recorded; a Scan fails the request it is part of."""
    operations: list[str] = []

    def before_call(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        operations.append(operation)
        if operation == "Scan":
            raise AssertionError("the catalog scanned the table")

    clients = [
        bootstrap.product_repository().model._get_connection().connection.client,
        bootstrap.category_catalog()._source.model._get_connection().connection.client,
    ]
    for client in clients:
        client.meta.events.register("before-call.dynamodb.*", before_call, unique_id="no-scan")
    with pytest.raises(AssertionError, match="scanned"):  # the hook is live on the very clients in use
        clients[0].scan(TableName=table_name)
    operations.clear()
    yield operations
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id="no-scan")


def test_paging_reaches_every_active_product_exactly_once(call: Call, table_name: str, no_scan: list[str]) -> None:
    active = stock(table_name, 230)
    seen, sizes = walk(call, limit="7")
    assert Counter(seen) == Counter(list(active))
    assert all(size == 7 for size in sizes[:-1])
    assert "Query" in no_scan
    assert "Scan" not in no_scan


def test_default_and_capped_page_sizes(call: Call, table_name: str) -> None:
    stock(table_name, 260)
    assert len(call("GET", "/products").body["items"]) == 20
    assert len(call("GET", "/products", query={"limit": "1000"}).body["items"]) == 100
    assert call("GET", "/products", query={"limit": "0"}).status == 400
    assert call("GET", "/products", query={"limit": "many"}).status == 400


def test_category_filter_includes_subcategories(call: Call, table_name: str, no_scan: list[str]) -> None:
    active = stock(table_name, 120)
    home, _ = walk(call, category="home", limit="9")
    assert Counter(home) == Counter(pid for pid, p in active.items() if p.details.category in ("mugs", "plates"))
    toys, _ = walk(call, category="toys", limit="50")
    assert Counter(toys) == Counter(pid for pid, p in active.items() if p.details.category == "toys")
    assert "Scan" not in no_scan


def test_unknown_categories_and_foreign_cursors_are_400(call: Call, table_name: str) -> None:
    stock(table_name, 40)
    assert call("GET", "/products", query={"category": "nope"}).status == 400
    cursor = call("GET", "/products", query={"category": "mugs", "limit": "2"}).body["nextCursor"]
    assert cursor
    assert call("GET", "/products", query={"category": "toys", "cursor": cursor}).status == 400
    assert call("GET", "/products", query={"cursor": "bm90LWEtY3Vyc29y"}).status == 400
    assert call("GET", "/products", query={"cursor": "%%%"}).status == 400


def test_a_forged_storage_key_is_400_not_500(call: Call, table_name: str) -> None:
    from gears_shared.http import encode_cursor

    stock(table_name, 10)
    forged = encode_cursor({"c": None, "s": 0, "k": {"pk": {"S": "x"}, "sk": {"S": "y"}}})
    assert call("GET", "/products", query={"cursor": forged}).status == 400
