"""Seeding the demo catalog into the table built from template.yaml: complete, listable and idempotent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecommerce.catalog.domain import Partition
from ecommerce.catalog.store import DynamoCategorySource, DynamoProductRepository
from gears.seed import CATEGORIES, DEFAULT_CSV, catalog_from_csv, seed_catalog

pytestmark = pytest.mark.skipif(not DEFAULT_CSV.exists(), reason=f"{DEFAULT_CSV} is missing")


def test_the_whole_catalog_seeds_once(table_name: str) -> None:
    products = catalog_from_csv()
    first = seed_catalog(table_name)
    assert (first.products_written, first.products_present) == (len(products), 0)
    assert first.categories_written == len(CATEGORIES)

    again = seed_catalog(table_name)
    assert (again.products_written, again.products_present, again.categories_written) == (0, len(products), 0)

    repo = DynamoProductRepository(table_name)
    sample = products[123]
    assert repo.get(sample.product_id) == replace(sample, version=1)
    listed = 0
    for shard in range(8):
        start = None
        while True:
            items, start = repo.query_active(Partition(None, shard), 100, start)
            listed += len(items)
            if start is None:
                break
    assert listed == len(products)
    assert len(DynamoCategorySource(table_name).all()) == len(CATEGORIES)


def test_an_existing_product_is_left_alone(table_name: str) -> None:
    products = catalog_from_csv()[:30]
    edited = replace(products[0], details=replace(products[0].details, title="Edited by an admin"), version=5)
    seed_catalog(table_name, [edited], CATEGORIES)
    report = seed_catalog(table_name, products, CATEGORIES)
    assert (report.products_written, report.products_present) == (29, 1)
    assert DynamoProductRepository(table_name).get(edited.product_id).details.title == "Edited by an admin"


def test_products_of_unknown_categories_are_refused(table_name: str) -> None:
    product = catalog_from_csv()[0]
    stray = replace(product, details=replace(product.details, category="nowhere"))
    with pytest.raises(ValueError, match="nowhere"):
        seed_catalog(table_name, [stray], CATEGORIES)
