"""Order management's demo data: a year of past orders and returns from the Online Retail sample, imported as history
(:mod:`orders.history`) by ``OrdersDemoHistoryFunction`` (``template.yaml``), so a new shop's sales figures and
related products already show real patterns.

Two halves:

- **Deriving** (run from a clone when the dataset changes): ``python -m gears.backfill --demo-file
  functions/orders/orders/demo_history.jsonl.gz`` (``make demo-data``) converts every invoice the way ``gears
  backfill`` does and writes them here with :func:`write_demo_history`: gzip'd JSON lines, written deterministically
  (sorted, gzip time 0), so the same dataset gives the same bytes; ``tests/unit/orders/test_history_demo.py`` fails
  when the shipped file is stale. To stay small (some 420 KB) a product's id and title are written once, each line
  naming its SKU: line 1 is ``{"about": ..., "format": 1}``, then ``{"product": [sku, productId, title]}`` lines, then
  one ``[orderId, customerId, placedAt, country, kind, [[sku, quantity, unitPence], ...]]`` per order (GBP).
- **Loading** (at every start of the local shop and on ``gears seed``; on AWS when ``DemoData`` is true): every date
  moves forward by whole weeks so that the last day falls in the week that ends yesterday (a Monday stays a Monday),
  and the orders go through :func:`orders.history.import_history` in batches of 50 orders and 500 lines at most, like
  any import. Idempotent: an order imported before is left as it was, so a second load imports nothing (whatever day
  it runs: the ids do not move with the dates).
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

from gears_shared.custom_resource import custom_resource_handler
from gears_shared.observability import logger
from orders.history import (
    MAX_LINES,
    MAX_ORDERS,
    HistoryLine,
    HistoryOrder,
    HistoryRepository,
    ImportHistory,
    import_history,
    parse_time,
)

DEMO_HISTORY = Path(__file__).with_name("demo_history.jsonl.gz")
FORMAT = 1
CURRENCY = "GBP"
LOAD_CORRELATION_ID = "demo-data"
ABOUT = (
    "Order history for the demo shop, derived by gears.backfill (make demo-data) from the Online Retail dataset, "
    "Daqing Chen, Sai Liang Sain, Kun Guo (2012), UCI Machine Learning Repository dataset 352, "
    "https://archive.ics.uci.edu/dataset/352/online+retail, CC BY 4.0. See data/online-retail/README.md."
)

T = TypeVar("T")


# -- the file --------------------------------------------------------------------------------------------------------
def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def write_demo_history(orders: Iterable[dict[str, Any]], out: IO[bytes]) -> None:
    """Write history orders (the API's shape, in GBP) as the demo file; each SKU's product id and title are those
    of its first line."""
    orders = list(orders)
    products: dict[str, tuple[str, str]] = {}
    for order in orders:
        for line in order["lines"]:
            products.setdefault(line["sku"], (line["productId"], line["title"]))
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(_json({"about": ABOUT, "format": FORMAT}))
        for sku in sorted(products):
            gz.write(_json({"product": [sku, *products[sku]]}))
        for o in orders:
            lines = [[line["sku"], line["quantity"], line["unitPrice"]["amount"]] for line in o["lines"]]
            gz.write(_json([o["orderId"], o["customerId"], o["placedAt"], o["country"], o["kind"], lines]))


def read_demo_history(path: Path | str = DEMO_HISTORY) -> list[HistoryOrder]:
    """The orders of a demo history file, as written (dates unshifted)."""
    products: dict[str, tuple[str, str]] = {}
    orders = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for text in fh:
            row = json.loads(text)
            if isinstance(row, dict):
                if "product" in row:
                    sku, product_id, title = row["product"]
                    products[sku] = (product_id, title)
                continue
            order_id, customer_id, placed_at, country, kind, lines = row
            orders.append(
                HistoryOrder(
                    order_id,
                    customer_id,
                    parse_time(placed_at),
                    country,
                    kind,
                    CURRENCY,
                    tuple(HistoryLine(products[s][0], s, products[s][1], int(q), int(p)) for s, q, p in lines),
                )
            )
    return orders


# -- shifting and batching -------------------------------------------------------------------------------------------
def weeks_to_yesterday(last: date, today: date) -> int:
    """Whole weeks that move ``last`` into the seven days that end yesterday (0 if it is there or later)."""
    return max(0, (today - timedelta(days=1) - last).days // 7)


def shifted(orders: Sequence[HistoryOrder], today: date) -> tuple[list[HistoryOrder], int]:
    """The orders moved forward by whole weeks so their last day is in the week that ends yesterday; the weeks."""
    if not orders:
        return [], 0
    weeks = weeks_to_yesterday(max(o.placed_at for o in orders).date(), today)
    delta = timedelta(weeks=weeks)
    return [replace(o, placed_at=o.placed_at + delta) for o in orders], weeks


def batches(items: Iterable[T], lines_of: Callable[[T], int]) -> Iterator[list[T]]:
    """``items`` in order, in batches of at most :data:`MAX_ORDERS` items and :data:`MAX_LINES` lines."""
    batch: list[T] = []
    lines = 0
    for item in items:
        n = lines_of(item)
        if batch and (len(batch) == MAX_ORDERS or lines + n > MAX_LINES):
            yield batch
            batch, lines = [], 0
        batch.append(item)
        lines += n
    if batch:
        yield batch


# -- loading ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryLoad:
    orders: int
    imported: int
    already_imported: int
    batches: int
    weeks_shifted: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The function's answer (and the custom resource's ``Data``)."""
        return {
            "summary": f"{self.imported} past orders imported, {self.already_imported} imported before "
            f"(dates moved forward {self.weeks_shifted} weeks)",
            "orders": self.orders,
            "imported": self.imported,
            "alreadyImported": self.already_imported,
            "batches": self.batches,
            "weeksShifted": self.weeks_shifted,
            "seconds": self.seconds,
        }


def load_demo_history(
    history: HistoryRepository | None = None,
    *,
    orders: Sequence[HistoryOrder] | None = None,
    today: date | None = None,
) -> HistoryLoad:
    """Import the demo history (or ``orders``) shifted to end by yesterday, through the import use case, into the
    orders table (``TABLE_NAME``) unless a repository is given."""
    started = time.perf_counter()
    if history is None:
        from orders.store import DynamoHistoryRepository

        table = os.environ.get("TABLE_NAME")
        if not table:
            raise ValueError("load_demo_history needs a table name (TABLE_NAME in the environment)")
        history = DynamoHistoryRepository(table)
    moved, weeks = shifted(read_demo_history() if orders is None else orders, today or datetime.now(UTC).date())
    imported = already = count = 0
    for batch in batches(moved, lambda o: len(o.lines)):
        result = import_history(ImportHistory(tuple(batch), LOAD_CORRELATION_ID), history)
        imported += len(result.imported)
        already += len(result.already_imported)
        count += 1
    report = HistoryLoad(len(moved), imported, already, count, weeks, round(time.perf_counter() - started, 3))
    logger.info("demo history loaded", extra=report.summary())
    return report


# ``OrdersDemoHistoryFunction``: load the demo history; answer its summary (and CloudFormation, when it asks).
handler = custom_resource_handler(lambda: load_demo_history().summary())
