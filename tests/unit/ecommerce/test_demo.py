"""The demo catalog: derived from the Online Retail sample (the copy in data/, else ../shared/datasets), shipped in
the function's bundle as ``demo_products.csv``, and what that file must stay."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ecommerce.catalog.demo import (
    CATEGORIES,
    DEMO_PRODUCTS,
    catalog_from_csv,
    clean_title,
    demo_catalog,
    read_catalog_csv,
    read_demo_products,
    write_demo_products,
)
from ecommerce.catalog.domain import CategoryTree, ProductStatus, product_id_for_sku
from tests.conftest import ROOT

DATA_CSV = ROOT / "data" / "online-retail" / "online-retail-sample.csv"
SHARED_CSV = ROOT.parent / "shared" / "datasets" / "online-retail-sample.csv"
CSV = next((p for p in (DATA_CSV, SHARED_CSV) if p.exists()), None)
needs_dataset = pytest.mark.skipif(
    CSV is None, reason=f"the Online Retail sample is in neither {DATA_CSV} nor {SHARED_CSV}"
)


@pytest.fixture(scope="module")
def report():
    return read_catalog_csv(CSV)  # type: ignore[arg-type]


@needs_dataset
def test_one_product_per_stock_code_with_the_counts_of_what_was_skipped(report) -> None:
    assert report.rows == 40_000
    assert report.stock_codes == 3_227
    assert report.skipped_no_description == 105
    assert report.skipped_price == 75  # zero or negative prices, and 0.001 which is no whole penny
    assert report.skipped_not_merchandise == 199  # postage, carriage, fees, manual lines, discounts, samples
    # 3,227 codes, less the 45 with no usable line, the 9 that are not merchandise and the 41 that differ from
    # another only in case (85123a is 85123A)
    assert len(report.products) == 3_131
    assert len({p.sku for p in report.products}) == len(report.products)


@needs_dataset
def test_products_are_priced_in_pence_titled_and_active(report) -> None:
    by_sku = {p.sku: p for p in report.products}
    heart = by_sku["85123A"]
    assert heart.product_id == product_id_for_sku("85123a")
    assert heart.details.title == "White Hanging Heart T-Light Holder"
    assert heart.details.price.amount == 295
    assert heart.details.price.currency == "GBP"
    assert heart.details.category == "candles"
    assert all(p.status is ProductStatus.ACTIVE and p.details.price.amount > 0 for p in report.products)
    assert "POST" not in by_sku


@needs_dataset
def test_every_category_is_in_the_tree_and_other_is_a_minority(report) -> None:
    tree = CategoryTree(CATEGORIES)
    assert all(p.details.category in tree for p in report.products)
    assert report.by_category["other"] < len(report.products) * 0.15


@needs_dataset
def test_it_is_deterministic() -> None:
    first, second = catalog_from_csv(CSV), catalog_from_csv(CSV)  # type: ignore[arg-type]
    assert first == second


@needs_dataset
def test_the_shipped_file_is_what_the_dataset_gives(report) -> None:
    """The function's bundle carries demo_products.csv; when the dataset or the derivation changes, regenerate it
    with `make demo-data`."""
    rendered = io.StringIO()
    write_demo_products(report.lines, rendered)
    assert DEMO_PRODUCTS.read_text(encoding="utf-8") == rendered.getvalue(), "stale: run `make demo-data`"


def test_the_shipped_file_is_the_whole_demo_catalog_and_credits_the_dataset() -> None:
    products = demo_catalog()
    assert len(products) == 3_131
    heart = next(p for p in products if p.sku == "85123A")
    assert (heart.details.title, heart.details.price.amount, heart.details.category) == (
        "White Hanging Heart T-Light Holder",
        295,
        "candles",
    )
    assert "CC BY 4.0" in DEMO_PRODUCTS.read_text(encoding="utf-8").split("\n", 4)[2]


def test_a_demo_products_file_reads_back_as_written(tmp_path: Path) -> None:
    lines = read_demo_products()[:50]
    path = tmp_path / "products.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        write_demo_products(lines, out)
    assert read_demo_products(path) == lines


@pytest.mark.parametrize(
    ("description", "title"),
    [
        ("SET OF 3 CAKE TINS PANTRY DESIGN ", "Set of 3 Cake Tins Pantry Design"),
        ("CHILD'S GARDEN RAKE", "Child's Garden Rake"),
        ("LED TEA LIGHTS", "LED Tea Lights"),
        ("3D  SHEET OF DOG STICKERS", "3D Sheet of Dog Stickers"),
    ],
)
def test_titles_are_cleaned(description: str, title: str) -> None:
    assert clean_title(description) == title
