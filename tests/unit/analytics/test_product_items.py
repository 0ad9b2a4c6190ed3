"""Products' counters live in one item per shard and period: what a sale writes, how a big batch splits, and that the
parts of one item never share a transaction (DynamoDB refuses a transaction naming an item twice)."""

from __future__ import annotations

from datetime import date

from analytics.domain import PRODUCTS_PER_UPDATE, Increments, Sale, SaleLine, product_records
from analytics.store import CHUNK, _chunks


def sale(n_products: int, day: date = date(2026, 11, 2)) -> Sale:
    lines = [SaleLine(f"p-{i:04d}", f"SKU{i}", f"Thing {i}", 2, 300, "home") for i in range(n_products)]
    return Sale("o-1", day, 300 * n_products, "GB", lines)


def test_a_sale_writes_one_item_per_product_shard_and_period_holding_each_products_counters() -> None:
    inc = Increments("event-1")
    inc.sale(sale(3))
    product_items = [c for c in inc.counters() if c.pk.startswith(("PRODUCT_DAY#", "PRODUCT_MONTH#"))]
    assert {c.sk for c in product_items} == {"2026-11-02", "2026-11"}
    records = [r for c in product_items if c.sk == "2026-11" for r in product_records({**c.add, **c.put})]
    assert sorted((r["productId"], r["units"], r["revenue"], r["orders"], r["sku"]) for r in records) == [
        ("p-0000", 2, 300, 1, "SKU0"),
        ("p-0001", 2, 300, 1, "SKU1"),
        ("p-0002", 2, 300, 1, "SKU2"),
    ]


def test_an_item_with_more_products_than_an_update_carries_splits_and_no_transaction_names_it_twice() -> None:
    inc = Increments("event-2")
    inc.sale(sale(4000))  # every shard's items hold more than one update's worth
    counters = inc.counters()
    for counter in counters:
        products = {name.rpartition("|")[0] for name in counter.add if "|" in name and counter.pk.startswith("PRODUCT")}
        assert len(products) <= PRODUCTS_PER_UPDATE
    chunks = _chunks(counters)
    assert sum(len(c) for c in chunks) == len(counters)
    for chunk in chunks:
        assert len(chunk) <= CHUNK
        keys = [(c.pk, c.sk) for c in chunk]
        assert len(keys) == len(set(keys))
    assert _chunks(counters) == chunks  # a retry chunks the same
    units = sum(
        v for c in counters if c.pk.startswith("PRODUCT_MONTH#") for k, v in c.add.items() if k.endswith("|units")
    )
    assert units == 8000
