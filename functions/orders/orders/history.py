"""Order history brought in from before Gears: past orders and returns, imported once each, never placed.

A shop that moves to Gears brings its past sales (``POST /admin/orders/history``, ``gears backfill``, the demo
data). They are facts, not orders to run: nothing is reserved, charged or notified. Each imported order is announced
once, in an ``OrderHistoryImported.v1`` batch on the orders topic, for analytics (by its own day) and
recommendations (co-purchases).

The rules, decided here without I/O:

- a request holds 1 to :data:`MAX_ORDERS` orders with at most :data:`MAX_LINES` lines in all, one currency, each
  order id once (1 to 64 of ``[A-Za-z0-9._:-]``), none placed in the future (a few minutes' clock skew allowed) or
  before :data:`EARLIEST`; quantities 1 to 100,000 and unit prices 0 to 10^9 minor units; and the batch it makes
  must fit an event (:data:`MAX_EVENT_BYTES` of JSON), else it is refused whole;
- an order id imported before is never imported again: :func:`import_history` asks the repository which ids it
  knows, drops them, and writes the rest as one batch whose every order has a marker written with the condition
  that it is new (a concurrent import of the same id makes the write fail whole: it reads again and retries once);
- the batch id derives from the ids it imports, and its total per order is computed here (quantity x unit price).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from gears_shared.clock import utc_now
from gears_shared.errors import BadRequest, Conflict, PayloadTooLarge

MAX_ORDERS = 50
MAX_LINES = 500
MAX_QUANTITY = 100_000
MAX_UNIT_AMOUNT = 1_000_000_000
MAX_TITLE = 200
MAX_SKU = 64
MAX_CUSTOMER_ID = 64
# What one batch may weigh as JSON: an SNS message holds 256 KB with its envelope, a DynamoDB item 400 KB.
MAX_EVENT_BYTES = 200_000
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)

ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CUSTOMER_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:@+-]{0,64}$")
COUNTRY_PATTERN = re.compile(r"^(?:[A-Z]{2})?$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BATCH_ID_NAMESPACE = uuid.UUID("0f7a2f7e-4c1b-4d8e-9a3c-6b2d1e5f8a90")

Kind = Literal["order", "return"]
KINDS = ("order", "return")


# -- errors ----------------------------------------------------------------------------------------------------------
class InvalidHistory(BadRequest):
    title = "Invalid order history"
    code = "invalid-history"


class HistoryTooLarge(PayloadTooLarge):
    title = "Order history too large"
    code = "history-too-large"


class HistoryImportRace(Conflict):
    """The same orders were being imported by someone else at the same moment, twice running: try again."""

    title = "Import raced another"
    code = "history-import-race"


class HistoryRaced(Exception):
    """Raised by :meth:`HistoryRepository.add_batch` when an order of the batch was imported meanwhile."""


# -- the history -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryLine:
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_amount: int  # minor units of the order's currency

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class HistoryOrder:
    order_id: str
    customer_id: str
    placed_at: datetime  # UTC
    country: str
    kind: Kind
    currency: str
    lines: tuple[HistoryLine, ...]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """The order as ``OrderHistoryImported.v1`` carries it (and the batch item stores it)."""
        return {
            "orderId": self.order_id,
            "customerId": self.customer_id,
            "placedAt": utc_iso(self.placed_at),
            "country": self.country,
            "kind": self.kind,
            "lines": [
                {
                    "productId": line.product_id,
                    "sku": line.sku,
                    "title": line.title,
                    "quantity": line.quantity,
                    "unitPrice": {"amount": line.unit_amount, "currency": self.currency},
                }
                for line in self.lines
            ],
            "total": {"amount": self.total, "currency": self.currency},
        }


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (seconds, and milliseconds only when there are any)."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with its zone (``Z`` or an offset) as UTC; :class:`InvalidHistory` otherwise."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            raise InvalidHistory(f"placedAt {text[:40]!r} has no time zone; say Z for UTC.")
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # year 1 at +14:00 is before the first representable moment
        raise InvalidHistory(f"placedAt {text[:40]!r} is not an ISO 8601 time.") from exc


@dataclass(frozen=True)
class HistoryBatch:
    batch_id: str
    imported_at: datetime
    orders: tuple[HistoryOrder, ...]

    @property
    def order_ids(self) -> list[str]:
        return [o.order_id for o in self.orders]

    def event_data(self) -> dict[str, Any]:
        """``OrderHistoryImported.v1``'s data."""
        return {
            "batchId": self.batch_id,
            "importedAt": utc_iso(self.imported_at),
            "orders": [o.to_dict() for o in self.orders],
        }


def batch_id_for(order_ids: Sequence[str]) -> str:
    """The batch id of a set of newly imported orders: the same ids always give the same batch."""
    return str(uuid.uuid5(BATCH_ID_NAMESPACE, "\n".join(sorted(order_ids))))


def check_orders(orders: Sequence[HistoryOrder], now: datetime) -> None:
    """Every rule of a request (see the module docstring); :class:`InvalidHistory` naming the first broken one."""
    if not 1 <= len(orders) <= MAX_ORDERS:
        raise InvalidHistory(f"orders: send 1 to {MAX_ORDERS} orders a request (got {len(orders)}).")
    lines = sum(len(o.lines) for o in orders)
    if lines > MAX_LINES:
        raise InvalidHistory(f"orders: at most {MAX_LINES} lines a request in all (got {lines}).")
    currencies = sorted({o.currency for o in orders})
    if len(currencies) > 1:
        raise InvalidHistory(f"orders: one currency a request (got {', '.join(currencies)}).")
    seen: set[str] = set()
    for i, order in enumerate(orders):
        _check_order(order, f"orders[{i}]", now)
        if order.order_id in seen:
            raise InvalidHistory(f"orders[{i}].orderId: {order.order_id} is in the request twice.")
        seen.add(order.order_id)


def _check_order(order: HistoryOrder, where: str, now: datetime) -> None:  # noqa: C901 - one check a field
    if not ORDER_ID_PATTERN.fullmatch(order.order_id):
        raise InvalidHistory(f"{where}.orderId: 1 to 64 of letters, digits and . _ : -")
    if not CUSTOMER_ID_PATTERN.fullmatch(order.customer_id):
        raise InvalidHistory(f"{where}.customerId: up to {MAX_CUSTOMER_ID} of letters, digits and . _ : @ + -")
    if not COUNTRY_PATTERN.fullmatch(order.country):
        raise InvalidHistory(f"{where}.country: an ISO 3166-1 alpha-2 code (GB), or empty.")
    if order.kind not in KINDS:
        raise InvalidHistory(f"{where}.kind: order or return.")
    if not CURRENCY_PATTERN.fullmatch(order.currency):
        raise InvalidHistory(f"{where}: the currency is an ISO 4217 code (GBP).")
    if order.placed_at > now + CLOCK_SKEW:
        raise InvalidHistory(f"{where}.placedAt: {utc_iso(order.placed_at)} is in the future.")
    if order.placed_at < EARLIEST:
        raise InvalidHistory(f"{where}.placedAt: {utc_iso(order.placed_at)} is before {EARLIEST.year}.")
    if not order.lines:
        raise InvalidHistory(f"{where}.lines: an order has at least one line.")
    for j, line in enumerate(order.lines):
        at = f"{where}.lines[{j}]"
        if not UUID_PATTERN.fullmatch(line.product_id):
            raise InvalidHistory(f"{at}.productId: the product's id (a lower-case UUID).")
        if not line.sku or len(line.sku) > MAX_SKU or not line.sku.isprintable():
            raise InvalidHistory(f"{at}.sku: 1 to {MAX_SKU} printable characters.")
        if len(line.title) > MAX_TITLE or not line.title.isprintable():
            raise InvalidHistory(f"{at}.title: up to {MAX_TITLE} printable characters.")
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InvalidHistory(f"{at}.quantity: 1 to {MAX_QUANTITY} (a return's units are positive too).")
        if not 0 <= line.unit_amount <= MAX_UNIT_AMOUNT:
            raise InvalidHistory(f"{at}.unitPrice.amount: 0 to {MAX_UNIT_AMOUNT} minor units.")


# -- the use case ----------------------------------------------------------------------------------------------------
class HistoryRepository(Protocol):
    def imported(self, order_ids: Sequence[str]) -> set[str]:
        """Which of ``order_ids`` were imported before (a consistent read)."""
        ...

    def add_batch(self, batch: HistoryBatch, *, correlation_id: str = "") -> None:
        """Write the batch and a marker per order, all or nothing; :class:`HistoryRaced` if any marker exists."""
        ...


@dataclass(frozen=True)
class ImportHistory:
    orders: tuple[HistoryOrder, ...]
    correlation_id: str = ""


@dataclass(frozen=True)
class HistoryImport:
    received: int
    imported: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    batch_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "imported": len(self.imported),
            "alreadyImported": self.already_imported,
            "batchId": self.batch_id,
        }


def import_history(cmd: ImportHistory, history: HistoryRepository, *, clock: Any = utc_now) -> HistoryImport:
    """Import the orders not imported before, as one batch (see the module docstring)."""
    now: datetime = clock()
    check_orders(cmd.orders, now)
    ids = [o.order_id for o in cmd.orders]
    for attempt in range(2):
        known = history.imported(ids)
        new = tuple(o for o in cmd.orders if o.order_id not in known)
        already = [i for i in ids if i in known]
        if not new:
            return HistoryImport(len(ids), [], already, None)
        batch = HistoryBatch(batch_id_for([o.order_id for o in new]), now, new)
        size = len(json.dumps(batch.event_data(), separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_EVENT_BYTES:
            raise HistoryTooLarge(
                f"These orders come to {size} bytes; a batch holds {MAX_EVENT_BYTES}. Send fewer orders a request."
            )
        try:
            history.add_batch(batch, correlation_id=cmd.correlation_id)
        except HistoryRaced:
            if attempt:
                break
            continue
        return HistoryImport(len(ids), batch.order_ids, already, batch.batch_id)
    raise HistoryImportRace("Some of these orders were being imported at the same moment; send the request again.")
