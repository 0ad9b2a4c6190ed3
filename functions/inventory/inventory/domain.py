"""The inventory's domain: stock per SKU, the ledger of movements that explains it, and reservations for orders.

Standard library only: no storage, no HTTP, no framework.

- A :class:`StockItem` holds ``on_hand`` (units on the shelf), ``reserved`` (units promised to orders not yet paid)
  and a low-stock ``threshold``; ``available = on_hand - reserved`` never goes below zero, and neither figure does.
- Every change of the figures is a :class:`Movement` of the ledger (reserve, commit, release, restock, adjust) with
  its deltas and the figures after it, so that ``on_hand`` is always the sum of the ledger's ``on_hand_delta`` and
  ``reserved`` the sum of its ``reserved_delta``.
- A :class:`Reservation` is what the inventory did for one order: all of its lines reserved (``RESERVED``) or none
  (``FAILED``, with the lines it could not reserve), then ``COMMITTED`` when paid, ``RELEASED`` when cancelled
  before payment, ``RESTOCKED`` when cancelled after it. ``CANCELLED`` marks an order cancelled before its
  reservation was even attempted, so that a late ``OrderPlaced`` reserves nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

# Low-stock listings are spread over this many index partitions so that no single one takes every write.
SHARDS = 8
DEFAULT_THRESHOLD = 5
MAX_QUANTITY = 1_000_000
# A reservation is one TransactWrite of at most 100 items: per SKU its stock item and a movement, plus the
# reservation record itself.
MAX_RESERVATION_SKUS = 49
# The catalog's rule too (ecommerce's catalog domain): a SKU is one path segment of /inventory/{sku}, so no '/'.
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,63}$")
SKU_RULE = "A SKU is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit."

OUT_OF_STOCK = "out_of_stock"
TOO_MANY_LINES = "too_many_lines"


# Rule errors carry the problem ``title`` and ``code`` (and ``extra`` fields) a client sees; which status each
# answers is the API's table (inventory.api.ERRORS), not the domain's business.
class StockRuleError(ValueError):
    """A change would break a rule of the inventory."""

    title = "Stock rule violated"
    code = "stock-rule"


class InvalidSku(StockRuleError):
    """Not a SKU (:data:`SKU_RULE`)."""

    title = "Invalid SKU"
    code = "invalid-sku"


class InsufficientStock(StockRuleError):
    """The change would take ``available`` (or ``on_hand``) below zero."""

    title = "Insufficient stock"
    code = "insufficient-stock"

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"SKU {sku} has {available} available; {requested} requested.")
        self.sku = sku
        self.requested = requested
        self.available = available

    @property
    def extra(self) -> dict[str, object]:
        return {"sku": self.sku, "requested": self.requested, "available": self.available}


class InconsistentStock(StockRuleError):
    """The figures do not allow what a reservation says happened (a bug or a hand edit of the table)."""


class Level(StrEnum):
    IN_STOCK = "in_stock"
    LOW = "low"
    OUT = "out"


class MovementKind(StrEnum):
    RESERVE = "reserve"  # an order took units out of ``available`` (reserved += qty)
    COMMIT = "commit"  # the order was paid: the units leave (on_hand -= qty, reserved -= qty)
    RELEASE = "release"  # the order was cancelled before payment (reserved -= qty)
    RESTOCK = "restock"  # units came in: received from a supplier, or back from an order cancelled after payment
    ADJUST = "adjust"  # an administrator's correction (count, damage, loss), with a reason


class ReservationStatus(StrEnum):
    RESERVED = "RESERVED"
    FAILED = "FAILED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    RESTOCKED = "RESTOCKED"
    CANCELLED = "CANCELLED"


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: sorts as text in time order (ledger keys rely on it)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def normalise_sku(sku: str) -> str:
    """SKUs are case-insensitive codes, stored trimmed and upper-cased, as the catalog stores them."""
    value = sku.strip().upper()
    if not SKU_PATTERN.match(value):
        raise InvalidSku(SKU_RULE)
    return value


def shard_of(sku: str, shards: int = SHARDS) -> int:
    """A stable shard for a SKU (not Python's ``hash``, which changes from process to process)."""
    return int.from_bytes(hashlib.sha256(sku.encode()).digest()[:4], "big") % shards


@dataclass(frozen=True)
class Movement:
    """One entry of a SKU's ledger."""

    sku: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    at: datetime
    reference: str  # the order id, the delivery's reference, or the adjustment's id
    reason: str = ""
    actor: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "onHandDelta": self.on_hand_delta,
            "reservedDelta": self.reserved_delta,
            "onHandAfter": self.on_hand_after,
            "reservedAfter": self.reserved_after,
            "availableAfter": self.on_hand_after - self.reserved_after,
            "reference": self.reference,
            "reason": self.reason,
            "actor": self.actor,
            "at": utc_iso(self.at),
        }


def _positive(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
        raise StockRuleError(f"A quantity is a whole number from 1 to {MAX_QUANTITY}.")
    return quantity


@dataclass(frozen=True)
class StockItem:
    """The stock of one SKU. ``version`` counts stored revisions (0: never stored)."""

    sku: str
    on_hand: int = 0
    reserved: int = 0
    threshold: int = DEFAULT_THRESHOLD
    product_id: str | None = None
    version: int = 0
    updated_at: datetime | None = None

    @classmethod
    def new(cls, sku: str, *, threshold: int = DEFAULT_THRESHOLD, product_id: str | None = None) -> StockItem:
        return cls(sku=normalise_sku(sku), threshold=_threshold(threshold), product_id=product_id)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def is_low(self) -> bool:
        """At or under the threshold: what the low-stock listing shows and ``StockLow`` announces."""
        return self.available <= self.threshold

    @property
    def level(self) -> Level:
        if self.available <= 0:
            return Level.OUT
        return Level.LOW if self.is_low else Level.IN_STOCK

    @property
    def shard(self) -> int:
        return shard_of(self.sku)

    def figures(self) -> tuple[int, int, int, str | None]:
        """What a stock-level event tells: a change of these is a change of the stock."""
        return self.on_hand, self.reserved, self.threshold, self.product_id

    def to_dict(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "productId": self.product_id,
            "onHand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "threshold": self.threshold,
            "level": self.level.value,
            "version": self.version,
            "updatedAt": utc_iso(self.updated_at) if self.updated_at else None,
        }

    # -- changes: each returns the item after it and the ledger entry that explains it ---------------------------
    def _move(
        self,
        kind: MovementKind,
        on_hand_delta: int,
        reserved_delta: int,
        at: datetime,
        reference: str,
        reason: str = "",
        actor: str | None = None,
    ) -> tuple[StockItem, Movement]:
        on_hand, reserved = self.on_hand + on_hand_delta, self.reserved + reserved_delta
        if reserved < 0:
            raise InconsistentStock(f"SKU {self.sku} has {self.reserved} reserved; cannot take {-reserved_delta}.")
        if on_hand - reserved < 0 or on_hand < 0:
            requested = max(reserved_delta, -on_hand_delta)
            raise InsufficientStock(self.sku, requested, self.available)
        after = replace(self, on_hand=on_hand, reserved=reserved, updated_at=at)
        return after, Movement(
            self.sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, at, reference, reason, actor
        )

    def reserve(self, quantity: int, at: datetime, order_id: str) -> tuple[StockItem, Movement]:
        return self._move(MovementKind.RESERVE, 0, _positive(quantity), at, order_id, "order placed")

    def commit(self, quantity: int, at: datetime, order_id: str) -> tuple[StockItem, Movement]:
        q = _positive(quantity)
        return self._move(MovementKind.COMMIT, -q, -q, at, order_id, "order paid")

    def release(self, quantity: int, at: datetime, order_id: str) -> tuple[StockItem, Movement]:
        return self._move(MovementKind.RELEASE, 0, -_positive(quantity), at, order_id, "order cancelled")

    def restock(
        self, quantity: int, at: datetime, reference: str, reason: str, actor: str | None = None
    ) -> tuple[StockItem, Movement]:
        return self._move(MovementKind.RESTOCK, _positive(quantity), 0, at, reference, reason, actor)

    def adjust(
        self, delta: int, reason: str, at: datetime, reference: str, actor: str | None = None
    ) -> tuple[StockItem, Movement]:
        """Correct ``on_hand`` by ``delta`` (signed). Never below what is reserved: :class:`InsufficientStock`."""
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_QUANTITY:
            raise StockRuleError(f"An adjustment is a non-zero whole number from -{MAX_QUANTITY} to {MAX_QUANTITY}.")
        if not reason.strip():
            raise StockRuleError("An adjustment needs a reason.")
        return self._move(MovementKind.ADJUST, delta, 0, at, reference, reason.strip(), actor)

    def with_threshold(self, threshold: int, at: datetime) -> StockItem:
        return replace(self, threshold=_threshold(threshold), updated_at=at)


def opened_for_product(existing: StockItem | None, sku: str, product_id: str, at: datetime) -> StockItem | None:
    """The stock record a new product of the catalog needs: an empty one linked to it when the SKU has none, the
    existing one linked to it when it was linked to no product; ``None`` when there is nothing to change (a repeat,
    or a record that already names its product)."""
    if existing is None:
        return replace(StockItem.new(sku, product_id=product_id), updated_at=at)
    if existing.product_id is None:
        return replace(existing, product_id=product_id, updated_at=at)
    return None


def _threshold(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise StockRuleError(f"A low-stock threshold is a whole number from 0 to {MAX_QUANTITY}.")
    return value


def crossed_into_low(old: StockItem | None, new: StockItem | None) -> bool:
    """Whether a change takes a SKU from above its threshold to at or under it (a new record counts as above).

    ``StockLow`` is announced on this, once per crossing: a sale that keeps a low SKU low is no crossing, and the
    next one happens only after the SKU went back above its threshold.
    """
    return new is not None and new.is_low and (old is None or not old.is_low)


# -- reservations ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    product_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"sku": self.sku, "productId": self.product_id, "quantity": self.quantity}


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int

    def to_dict(self) -> dict[str, object]:
        return {"sku": self.sku, "requested": self.requested, "available": self.available}


@dataclass(frozen=True)
class Reservation:
    order_id: str
    status: ReservationStatus
    lines: tuple[OrderLine, ...] = ()
    unavailable: tuple[Shortage, ...] = ()
    reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def moved_to(self, status: ReservationStatus, at: datetime) -> Reservation:
        return replace(self, status=status, updated_at=at)


def merge_lines(lines: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    """One line per SKU (quantities added up; a transaction may touch an item once), in SKU order."""
    merged: dict[str, OrderLine] = {}
    for line in lines:
        seen = merged.get(line.sku)
        if seen is None:
            merged[line.sku] = line
        else:
            merged[line.sku] = replace(
                seen, quantity=seen.quantity + line.quantity, product_id=seen.product_id or line.product_id
            )
    return tuple(merged[sku] for sku in sorted(merged))


@dataclass(frozen=True)
class StockChange:
    """A stock item before and after one change, with the movement that explains it.

    ``before`` is ``None`` for a record that does not exist yet. ``needs_available`` is how many units the write
    must still find available (a reservation's quantity): stored as a condition next to the version check.
    """

    before: StockItem | None
    after: StockItem
    movement: Movement | None = None
    needs_available: int = 0


@dataclass(frozen=True)
class Plan:
    """What one use case writes, all or nothing: the reservation as it will be, and the stock changes."""

    reservation: Reservation
    changes: tuple[StockChange, ...] = ()


def plan_reservation(order_id: str, lines: Iterable[OrderLine], stock: Mapping[str, StockItem], at: datetime) -> Plan:
    """Reserve every line of an order, or none of them.

    ``stock`` holds the current items of the order's SKUs (an unknown SKU is absent). If any line cannot be
    reserved, the plan is a ``FAILED`` reservation listing each unavailable line, and changes no stock.
    """
    merged = merge_lines(lines)
    if len(merged) > MAX_RESERVATION_SKUS:
        failed = Reservation(order_id, ReservationStatus.FAILED, merged, (), TOO_MANY_LINES, at, at)
        return Plan(failed)
    shortages = []
    for line in merged:
        item = stock.get(line.sku)
        available = max(item.available, 0) if item else 0
        if item is None or available < line.quantity:
            shortages.append(Shortage(line.sku, line.quantity, available))
    if shortages:
        failed = Reservation(order_id, ReservationStatus.FAILED, merged, tuple(shortages), OUT_OF_STOCK, at, at)
        return Plan(failed)
    changes = []
    for line in merged:
        item = stock[line.sku]
        after, movement = item.reserve(line.quantity, at, order_id)
        if after.product_id is None and line.product_id:
            after = replace(after, product_id=line.product_id)
        changes.append(StockChange(item, after, movement, line.quantity))
    return Plan(Reservation(order_id, ReservationStatus.RESERVED, merged, (), None, at, at), tuple(changes))


def _settle(
    reservation: Reservation,
    stock: Mapping[str, StockItem],
    at: datetime,
    expected: ReservationStatus,
    status: ReservationStatus,
    move: str,
) -> Plan:
    if reservation.status is not expected:
        raise InconsistentStock(f"Reservation of order {reservation.order_id} is {reservation.status}, not {expected}.")
    changes = []
    for line in reservation.lines:
        item = stock.get(line.sku)
        if item is None:
            raise InconsistentStock(f"SKU {line.sku} of order {reservation.order_id} has no stock record.")
        if move == "commit":
            after, movement = item.commit(line.quantity, at, reservation.order_id)
        elif move == "release":
            after, movement = item.release(line.quantity, at, reservation.order_id)
        else:
            after, movement = item.restock(line.quantity, at, reservation.order_id, "order cancelled after payment")
        changes.append(StockChange(item, after, movement))
    return Plan(reservation.moved_to(status, at), tuple(changes))


def plan_commit(reservation: Reservation, stock: Mapping[str, StockItem], at: datetime) -> Plan:
    """The order was paid: its reserved units leave the shelf."""
    return _settle(reservation, stock, at, ReservationStatus.RESERVED, ReservationStatus.COMMITTED, "commit")


def plan_release(reservation: Reservation, stock: Mapping[str, StockItem], at: datetime) -> Plan:
    """The order was cancelled before payment: its reserved units are available again."""
    return _settle(reservation, stock, at, ReservationStatus.RESERVED, ReservationStatus.RELEASED, "release")


def plan_return(reservation: Reservation, stock: Mapping[str, StockItem], at: datetime) -> Plan:
    """The order was cancelled after payment (not shipped): its units go back on the shelf."""
    return _settle(reservation, stock, at, ReservationStatus.COMMITTED, ReservationStatus.RESTOCKED, "restock")
