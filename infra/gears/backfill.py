"""``gears backfill``: the Online Retail sample's invoices brought into a shop as order history.

Each invoice becomes one history order (``POST /admin/orders/history``; see docs/history.md): ``OR-<invoice
number>``, the dataset's CustomerID as the shop's customer reference, the invoice's time and country; a cancellation
(``C...``, negative quantities) becomes a ``return`` of the same units, counted positive. A line is left out when its
unit price is zero or less, when its code is not merchandise (postage, bank charges, manual adjustments: the catalog's
:data:`~ecommerce.catalog.demo.NOT_MERCHANDISE`), or when it is not a valid SKU; an invoice with no line left is left
out. Product ids are the catalog's (:func:`ecommerce.catalog.domain.product_id_for_sku`), titles the catalog's tidy
form of the line's description.

Orders go in batches of at most 50 orders and 500 lines, as the admin: by default to the running local shop (its
API and admin account from its state folder), or to ``--api URL --token T``. The service imports each order id once,
so running it twice imports nothing the second time. ``--shift-to-today`` moves every date forward by whole weeks so
that the last day falls in the week that ends yesterday (weekdays keep their meaning).

``python -m gears.backfill --demo-file PATH`` writes the orders service's shipped demo history instead
(``make demo-data``; ``tests/unit/orders/test_history_demo.py`` fails when it is stale).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "functions" / "orders", ROOT / "functions" / "ecommerce", ROOT / "shared"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

# The catalog's and the orders service's code is imported where it is used: every `gears` command builds this
# command's parser, and they bring Powertools with them.
from gears.dataset import DEFAULT_CSV, Invoice, read_invoices  # noqa: E402

CURRENCY = "GBP"
ORDER_PREFIX = "OR-"
PATH = "/admin/orders/history"
RETRIES = 3


@dataclass
class Conversion:
    """The history orders of a dataset's invoices, and what was left out and why."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    invoices: int = 0
    skipped_lines: Counter[str] = field(default_factory=Counter)
    skipped_invoices: int = 0

    @property
    def returns(self) -> int:
        return sum(1 for o in self.orders if o["kind"] == "return")

    @property
    def lines(self) -> int:
        return sum(len(o["lines"]) for o in self.orders)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def history_line(sku: str, description: str, quantity: int, pence: int) -> dict[str, Any] | str:
    """The history line of a dataset line, or why it is left out."""
    from ecommerce.catalog.demo import NOT_MERCHANDISE, clean_title
    from ecommerce.catalog.domain import CatalogRuleError, normalise_sku, product_id_for_sku
    from orders.history import MAX_QUANTITY, MAX_TITLE, MAX_UNIT_AMOUNT

    if pence <= 0:
        return "no price"
    if sku.upper() in NOT_MERCHANDISE:
        return "not merchandise"
    try:
        sku = normalise_sku(sku)
    except CatalogRuleError:
        return "not a SKU"
    units = abs(quantity)
    if units > MAX_QUANTITY or pence > MAX_UNIT_AMOUNT:
        return "out of range"
    return {
        "productId": product_id_for_sku(sku),
        "sku": sku,
        "title": (clean_title(description) or sku)[:MAX_TITLE],
        "quantity": units,
        "unitPrice": {"amount": pence, "currency": CURRENCY},
    }


def history_orders(invoices: Iterable[Invoice]) -> Conversion:
    """One history order per invoice (see the module docstring), oldest first."""
    from orders.history import MAX_LINES

    out = Conversion()
    for invoice in invoices:
        out.invoices += 1
        lines = []
        for line in invoice.lines:
            converted = history_line(line.sku, line.description, line.quantity, line.unit_pence)
            if isinstance(converted, str):
                out.skipped_lines[converted] += 1
            else:
                lines.append(converted)
        if not lines or len(lines) > MAX_LINES:
            out.skipped_invoices += 1
            continue
        out.orders.append(
            {
                "orderId": ORDER_PREFIX + invoice.number,
                "customerId": invoice.customer,
                "placedAt": utc_iso(invoice.when),
                "country": invoice.country,
                "kind": "return" if invoice.cancellation else "order",
                "lines": lines,
            }
        )
    return out


def shift(orders: Sequence[dict[str, Any]], weeks: int) -> list[dict[str, Any]]:
    """The orders with every ``placedAt`` moved forward by ``weeks`` weeks."""
    if not weeks:
        return list(orders)
    delta = timedelta(weeks=weeks)
    return [
        {**o, "placedAt": utc_iso(datetime.fromisoformat(o["placedAt"].replace("Z", "+00:00")) + delta)} for o in orders
    ]


def shift_to_today(orders: Sequence[dict[str, Any]], today: date | None = None) -> tuple[list[dict[str, Any]], int]:
    """The orders moved forward by whole weeks so their last day is in the week that ends yesterday; the weeks."""
    from orders.demo import weeks_to_yesterday

    if not orders:
        return [], 0
    last = max(date.fromisoformat(o["placedAt"][:10]) for o in orders)
    weeks = weeks_to_yesterday(last, today or datetime.now(UTC).date())
    return shift(orders, weeks), weeks


# -- posting ---------------------------------------------------------------------------------------------------------
@dataclass
class Report:
    conversion: Conversion
    weeks_shifted: int = 0
    batches: int = 0
    imported: int = 0
    already_imported: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def text(self) -> str:
        c = self.conversion
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(c.skipped_lines.items())) or "none"
        lines = [
            f"invoices read: {c.invoices}; history orders: {len(c.orders)} ({c.returns} returns, {c.lines} lines)",
            f"left out: {c.skipped_invoices} invoices with no line to import; lines: {skipped}",
            f"batches posted: {self.batches} in {self.seconds:.1f} s"
            + (f" (dates moved forward {self.weeks_shifted} weeks)" if self.weeks_shifted else ""),
            f"imported: {self.imported}; imported before: {self.already_imported}",
        ]
        if self.errors:
            lines.append(f"errors: {dict(self.errors)}")
        return "\n".join(lines)


class Api:
    """The shop's history route, as an admin."""

    def __init__(self, api: str, token: str) -> None:
        import requests

        self.url = api.rstrip("/") + PATH
        self.token = token
        self.local = threading.local()
        self.requests = requests

    def post(self, orders: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        if not hasattr(self.local, "session"):
            self.local.session = self.requests.Session()
        headers = {"Authorization": f"Bearer {self.token}"}
        for attempt in range(RETRIES):
            try:
                r = self.local.session.post(self.url, json={"orders": orders}, headers=headers, timeout=120)
            except self.requests.RequestException as exc:
                if attempt == RETRIES - 1:
                    return 0, {"detail": repr(exc)}
                continue
            if (r.status_code in (409, 429) or r.status_code >= 500) and attempt < RETRIES - 1:
                time.sleep(0.5 * (attempt + 1))
                continue
            try:
                body = r.json()
            except ValueError:
                body = {"detail": r.text[:200]}
            return r.status_code, body
        return 0, {}


def post_all(api: Api, orders: Sequence[dict[str, Any]], report: Report, *, workers: int = 4) -> None:
    lock = threading.Lock()

    def send(batch: list[dict[str, Any]]) -> None:
        status, body = api.post(batch)
        with lock:
            report.batches += 1
            if status == 200:
                report.imported += int(body.get("imported") or 0)
                report.already_imported += len(body.get("alreadyImported") or [])
            else:
                report.errors[f"{status} {body.get('type', body.get('detail', ''))}"] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(send, _batches(orders)))
    report.seconds = time.monotonic() - started


def _batches(orders: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    from orders.demo import batches

    return batches(orders, lambda o: len(o["lines"]))


def backfill(api: Api, csv: Path = DEFAULT_CSV, *, to_today: bool = False, workers: int = 4) -> Report:
    """Read the CSV, convert, post; the report."""
    conversion = history_orders(read_invoices(csv))
    report = Report(conversion)
    orders = conversion.orders
    if to_today:
        orders, report.weeks_shifted = shift_to_today(orders)
    post_all(api, orders, report, workers=workers)
    return report


def demo_history(csv: Path = DEFAULT_CSV) -> Conversion:
    """The orders service's demo history: every invoice of the dataset, as :func:`history_orders` converts it."""
    return history_orders(read_invoices(csv))


def write_demo_file(path: Path, csv: Path = DEFAULT_CSV) -> Conversion:
    from orders.demo import write_demo_history

    conversion = demo_history(csv)
    with open(path, "wb") as out:
        write_demo_history(conversion.orders, out)
    return conversion


# -- the command -----------------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", help="another Online Retail extract (default: the sample the demo comes from)")
    parser.add_argument("--api", help="the shop's API base URL (default: the running local shop's)")
    parser.add_argument("--token", help="an admin's access token for --api")
    parser.add_argument(
        "--shift-to-today", action="store_true", help="move every date forward by whole weeks to end by yesterday"
    )
    parser.add_argument("--workers", type=int, default=4, help="batches posted side by side")
    parser.add_argument("--demo-file", help="instead of posting: write the orders service's demo history file here")


def run(args: argparse.Namespace) -> int:
    """``gears backfill`` (its options: :func:`add_arguments`)."""
    csv = Path(args.csv) if args.csv else DEFAULT_CSV
    if args.demo_file:
        conversion = write_demo_file(Path(args.demo_file), csv)
        print(f"{args.demo_file}: {len(conversion.orders)} orders, {conversion.lines} lines", file=sys.stderr)
        return 0
    if bool(args.api) != bool(args.token):
        raise SystemExit("gears backfill: --api and --token go together (or neither, for the running local shop)")
    if args.api:
        api = Api(args.api, args.token)
    else:
        from gears.cli import running_shop
        from gears.replay import Shop

        state = running_shop(Path(args.state_dir))
        shop = Shop(state["api"], Path(state["mailbox"]), (state["admin"]["email"], state["admin"]["password"]))
        api = Api(state["api"], shop.admin_token())
    report = backfill(api, csv, to_today=args.shift_to_today, workers=args.workers)
    print(report.text())
    return 1 if report.errors else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m gears.backfill``: as ``gears backfill``."""
    parser = argparse.ArgumentParser(prog="python -m gears.backfill", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--state-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.state_dir is None:
        from gears.cli import _default_state_dir

        args.state_dir = str(_default_state_dir())
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
