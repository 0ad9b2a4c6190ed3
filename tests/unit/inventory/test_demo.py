"""Demo stock for the demo catalog: derived from what each product sold, shipped in the function's bundle as
``demo_stock.csv``, and what that file must stay."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from inventory.demo import (
    DEMO_STOCK,
    MAX_ON_HAND,
    MIN_ON_HAND,
    derive_opening_stock,
    opening_quantity,
    read_demo_stock,
    sold_quantities,
    write_demo_stock,
)
from tests.conftest import ROOT

DATA_CSV = ROOT / "data" / "online-retail" / "online-retail-sample.csv"
# The catalog's published demo products: which SKUs get stock, and their product ids.
CATALOG_PRODUCTS = ROOT / "functions" / "ecommerce" / "ecommerce" / "catalog" / "demo_products.csv"
needs_dataset = pytest.mark.skipif(not DATA_CSV.exists(), reason=f"the Online Retail sample is not at {DATA_CSV}")


@needs_dataset
def test_opening_quantities_come_from_what_sold() -> None:
    sold = sold_quantities(DATA_CSV)
    assert sold["85123A"] > 1000  # the sample's best seller
    assert opening_quantity(sold["85123A"]) == min(500, sold["85123A"] // 10)
    assert opening_quantity(0) == MIN_ON_HAND
    assert sold == sold_quantities(DATA_CSV)


@needs_dataset
def test_the_shipped_file_is_what_the_dataset_gives() -> None:
    """The function's bundle carries demo_stock.csv; when the dataset or the demo catalog changes, regenerate it
    with `make demo-data`."""
    rendered = io.StringIO()
    write_demo_stock(derive_opening_stock(DATA_CSV, CATALOG_PRODUCTS), rendered)
    assert DEMO_STOCK.read_text(encoding="utf-8") == rendered.getvalue(), "stale: run `make demo-data`"


def test_every_demo_product_has_opening_stock_linked_to_it() -> None:
    from ecommerce.catalog.demo import read_demo_products

    stock = read_demo_stock()
    assert len(stock) == len({line.sku for line in stock}) == 3_131
    assert {(line.sku, line.product_id) for line in stock} == {(p.sku, p.product_id) for p in read_demo_products()}
    assert all(MIN_ON_HAND <= line.on_hand <= MAX_ON_HAND for line in stock)
    assert "CC BY 4.0" in DEMO_STOCK.read_text(encoding="utf-8").split("\n", 4)[2]


def test_a_demo_stock_file_reads_back_as_written(tmp_path: Path) -> None:
    lines = read_demo_stock()[:50]
    path = tmp_path / "stock.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_demo_stock(lines, out)
    assert read_demo_stock(path) == lines
