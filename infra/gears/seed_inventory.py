"""Demo stock for the demo catalog: every product of the Online Retail sample gets a stock record.

The local runtime calls, once the inventory table exists::

    from gears.seed_inventory import seed_inventory
    report = seed_inventory(table_name)   # -> InventorySeedReport(skus_written=..., skus_present=..., seconds=...)

``seed_inventory(table_name=None, skus=None) -> InventorySeedReport``

- ``table_name``: the inventory table; ``None`` reads ``INVENTORY_TABLE_NAME``, else ``TABLE_NAME``, from the
  environment.
- ``skus``: the SKUs to stock; ``None`` is every product of :func:`gears.seed.catalog_from_csv`.

Each SKU gets a deterministic quantity on hand derived from the dataset: a tenth of the units it sold in the sample,
at least :data:`MIN_ON_HAND` and at most :data:`MAX_ON_HAND`, and the low-stock threshold :data:`THRESHOLD`. The
product id is the catalog's (derived from the SKU). Every stock record is written with the ledger movement that
explains it (a ``restock`` with the reason ``opening stock``), through the service's own item mapping (the sparse
low-stock key included), in BatchWriteItem calls of 25. It is idempotent: SKUs that already have a record (a
BatchGetItem per 100 tells which) are left as they are, so it never overwrites stock that sales or an administrator
changed. Running it twice writes nothing the second time.
"""

from __future__ import annotations

import csv
import logging
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The seed writes through the service's own code; in the local runtime's own process it is added here.
for _path in (ROOT / "shared", ROOT / "functions" / "inventory"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

from gears.seed import DEFAULT_CSV, catalog_from_csv  # noqa: E402
from inventory.domain import InvalidSku, StockItem, normalise_sku  # noqa: E402

log = logging.getLogger("gears.seed_inventory")

MIN_ON_HAND = 20
MAX_ON_HAND = 500
THRESHOLD = 5
SEED_CORRELATION_ID = "seed"
SEED_REFERENCE = "seed"
# One fixed time for every opening movement, so that a rerun after a crash writes the very same ledger keys.
OPENING_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class InventorySeedReport:
    table_name: str
    skus_written: int
    skus_present: int
    units_written: int
    seconds: float


def sold_quantities(path: Path | str = DEFAULT_CSV) -> dict[str, int]:
    """Units sold per SKU in the dataset (positive quantities only: returns are not sales)."""
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


def seed_inventory(table_name: str | None = None, skus: Sequence[str] | None = None) -> InventorySeedReport:
    """Give every demo SKU (or ``skus``) a stock record, leaving existing ones alone (see the module docstring)."""
    from inventory.store import DynamoStockRepository

    started = time.perf_counter()
    table = table_name or os.environ.get("INVENTORY_TABLE_NAME") or os.environ.get("TABLE_NAME")
    if not table:
        raise ValueError("seed_inventory needs a table name (or INVENTORY_TABLE_NAME / TABLE_NAME in the environment)")
    products = {p.sku: p.product_id for p in catalog_from_csv()}
    wanted = list(dict.fromkeys(normalise_sku(s) for s in (products if skus is None else skus)))
    sold = sold_quantities()

    repo = DynamoStockRepository(table)
    present = repo.existing_skus(wanted)
    opening = []
    units = 0
    for sku in wanted:
        if sku in present:
            continue
        empty = StockItem.new(sku, threshold=THRESHOLD, product_id=products.get(sku))
        item, movement = empty.restock(
            opening_quantity(sold.get(sku, 0)), OPENING_AT, SEED_REFERENCE, "opening stock", actor="seed"
        )
        opening.append((item, movement))
        units += item.on_hand
    written = repo.put_opening_stock(opening, correlation_id=SEED_CORRELATION_ID)
    report = InventorySeedReport(table, written, len(present), units, round(time.perf_counter() - started, 3))
    log.info(
        "seeded %s: %d SKUs stocked (%d units), %d already present (%.1fs)",
        table,
        written,
        units,
        len(present),
        report.seconds,
    )
    return report
