"""Inventory's demo data: opening stock for every product of the demo catalog, and the function that loads it
(``InventoryDemoDataFunction`` in ``template.yaml``).

Two halves:

- **Deriving** (run from a clone, when the dataset or the demo catalog changes): each SKU of the demo catalog gets a
  deterministic quantity on hand from the Online Retail sample: a tenth of the units it sold, at least
  :data:`MIN_ON_HAND` and at most :data:`MAX_ON_HAND`. The SKUs and their product ids come from the catalog's
  published demo file (``functions/ecommerce/ecommerce/catalog/demo_products.csv``, read as data: no catalog code).
  ``python -m inventory.demo SALES_CSV PRODUCTS_CSV`` (``make demo-data``) writes ``demo_stock.csv``, next to this
  file, which ships in the function's bundle; ``tests/unit/inventory/test_demo.py`` fails when it is stale.
- **Loading** (the function, on every start of the local shop, and on AWS when the stack's ``DemoData`` parameter
  is ``true``): :func:`load_opening_stock` writes each SKU's stock record, with the low-stock threshold
  :data:`THRESHOLD`, together with the ledger movement that explains it (a ``restock`` with the reason ``opening
  stock``), through the service's own item mapping (the sparse low-stock key included), in BatchWriteItem calls of
  25. It is idempotent: SKUs that already have a record (a BatchGetItem per 100 tells which) are left as they are,
  so it never overwrites stock that sales or an administrator changed. Running it twice writes nothing the second
  time.

:func:`handler` answers a plain invocation with the summary, and CloudFormation's custom-resource request
(``Custom::DemoData``) through its ``ResponseURL``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from gears_shared.custom_resource import custom_resource_handler
from gears_shared.observability import logger
from inventory.domain import InvalidSku, StockItem, normalise_sku

DEMO_STOCK = Path(__file__).with_name("demo_stock.csv")
MIN_ON_HAND = 20
MAX_ON_HAND = 500
THRESHOLD = 5
LOAD_CORRELATION_ID = "demo-data"
LOAD_REFERENCE = "demo-data"
# One fixed time for every opening movement, so that a rerun after a crash writes the very same ledger keys.
OPENING_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OpeningStock:
    """One line of ``demo_stock.csv``."""

    sku: str
    product_id: str | None
    on_hand: int


# -- the demo stock --------------------------------------------------------------------------------------------------
COLUMNS = ("sku", "productId", "onHand")
ATTRIBUTION = (
    "# Opening stock for the demo catalog, derived by inventory.demo (make demo-data) from the Online Retail\n"
    "# dataset, Daqing Chen, Sai Liang Sain, Kun Guo (2012), UCI Machine Learning Repository dataset 352,\n"
    "# https://archive.ics.uci.edu/dataset/352/online+retail, CC BY 4.0. See data/online-retail/README.md.\n"
)


def write_demo_stock(lines: Iterable[OpeningStock], out: IO[str]) -> None:
    out.write(ATTRIBUTION)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow([line.sku, line.product_id or "", line.on_hand])


def read_demo_stock(path: Path | str = DEMO_STOCK) -> list[OpeningStock]:
    """The lines of a demo stock file (``demo_stock.csv`` unless told)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return [OpeningStock(row["sku"], row["productId"] or None, int(row["onHand"])) for row in rows]


# -- deriving it from the dataset ------------------------------------------------------------------------------------
def sold_quantities(path: Path | str) -> dict[str, int]:
    """Units sold per SKU in an Online Retail CSV (positive quantities only: returns are not sales)."""
    sold: dict[str, int] = defaultdict(int)
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                sku = normalise_sku(row.get("StockCode") or "")
                quantity = int((row.get("Quantity") or "0").strip())
            except (InvalidSku, ValueError):
                continue
            if quantity > 0:
                sold[sku] += quantity
    return dict(sold)


def opening_quantity(units_sold: int) -> int:
    """What a SKU starts with: a tenth of what it sold, within [MIN_ON_HAND, MAX_ON_HAND]."""
    return max(MIN_ON_HAND, min(MAX_ON_HAND, units_sold // 10))


def catalog_products(path: Path | str) -> dict[str, str]:
    """SKU -> product id of a catalog's demo products file (its ``sku`` and ``productId`` columns)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {normalise_sku(row["sku"]): row["productId"] for row in rows}


def derive_opening_stock(sales_csv: Path | str, products_csv: Path | str) -> list[OpeningStock]:
    """Opening stock for each product of ``products_csv``, from what it sold in ``sales_csv``."""
    sold = sold_quantities(sales_csv)
    return [
        OpeningStock(sku, product_id, opening_quantity(sold.get(sku, 0)))
        for sku, product_id in catalog_products(products_csv).items()
    ]


# -- loading ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockLoad:
    table_name: str
    skus_written: int
    skus_present: int
    units_written: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The function's answer (and the custom resource's ``Data``)."""
        return {
            "summary": f"{self.skus_written} SKUs ({self.units_written} units) written, {self.skus_present} there",
            "skusWritten": self.skus_written,
            "skusPresent": self.skus_present,
            "unitsWritten": self.units_written,
            "seconds": self.seconds,
        }


def load_opening_stock(table_name: str | None = None, skus: Sequence[str] | None = None) -> StockLoad:
    """Give every demo SKU (or ``skus``) its opening stock in the inventory table (``TABLE_NAME`` unless told),
    leaving existing records alone (see the module docstring). A SKU the demo stock does not list opens with
    :data:`MIN_ON_HAND` and no product."""
    from inventory.store import DynamoStockRepository

    started = time.perf_counter()
    table = table_name or os.environ.get("TABLE_NAME")
    if not table:
        raise ValueError("load_opening_stock needs a table name (or TABLE_NAME in the environment)")
    demo = {line.sku: line for line in read_demo_stock()}
    wanted = list(dict.fromkeys(normalise_sku(s) for s in (demo if skus is None else skus)))

    repo = DynamoStockRepository(table)
    present = repo.existing_skus(wanted)
    opening = []
    units = 0
    for sku in wanted:
        if sku in present:
            continue
        line = demo.get(sku) or OpeningStock(sku, None, MIN_ON_HAND)
        empty = StockItem.new(sku, threshold=THRESHOLD, product_id=line.product_id)
        item, movement = empty.restock(line.on_hand, OPENING_AT, LOAD_REFERENCE, "opening stock", actor="demo-data")
        opening.append((item, movement))
        units += item.on_hand
    written = repo.put_opening_stock(opening, correlation_id=LOAD_CORRELATION_ID)
    report = StockLoad(table, written, len(present), units, round(time.perf_counter() - started, 3))
    logger.info("demo stock loaded", extra=report.summary())
    return report


# ``InventoryDemoDataFunction``: load the opening stock; answer its summary (and CloudFormation, when it asks).
handler = custom_resource_handler(lambda: load_opening_stock().summary())


def main(argv: list[str] | None = None) -> int:
    """``python -m inventory.demo SALES_CSV PRODUCTS_CSV``: derive ``demo_stock.csv``."""
    parser = argparse.ArgumentParser(prog="python -m inventory.demo", description=main.__doc__)
    parser.add_argument("sales", help="the Online Retail CSV (data/online-retail/online-retail-sample.csv)")
    parser.add_argument("products", help="the catalog's demo products (ecommerce/catalog/demo_products.csv)")
    parser.add_argument("--out", default=str(DEMO_STOCK), help="where to write (default: the shipped file)")
    args = parser.parse_args(argv)
    lines = derive_opening_stock(args.sales, args.products)
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        write_demo_stock(lines, out)
    print(f"{args.out}: {len(lines)} SKUs, {sum(line.on_hand for line in lines)} units", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
