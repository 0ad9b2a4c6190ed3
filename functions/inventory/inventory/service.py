"""The inventory's use cases: plain functions over one port (the stock repository), a clock and a sleep.

Every write is read, decide (``inventory.domain``), then one all-or-nothing write conditioned on what was read
(each stock item's ``version``, a reservation's status). When another writer got there first the write is refused
with :class:`StaleStock` and the use case reads again and decides again, a bounded number of times: so two orders
racing for the last unit cannot both get it, whatever the interleaving.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from inventory.domain import (
    SHARDS,
    InsufficientStock,
    Movement,
    OrderLine,
    Plan,
    Reservation,
    ReservationStatus,
    StockChange,
    StockItem,
    StockRuleError,
    normalise_sku,
    plan_commit,
    plan_release,
    plan_reservation,
    plan_return,
)
from inventory.errors import InvalidCursor, ReservationConflict, SkuNotFound, StaleStock

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ATTEMPTS = 25

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- the port --------------------------------------------------------------------------------------------------------
class StockRepository(Protocol):
    def get(self, sku: str) -> StockItem | None: ...

    def get_many(self, skus: Iterable[str]) -> dict[str, StockItem]:
        """The stored items of these SKUs (strongly consistent); unknown SKUs are absent."""
        ...

    def get_reservation(self, order_id: str) -> Reservation | None: ...

    def movements(
        self, sku: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Movement], dict[str, Any] | None]:
        """A SKU's ledger, newest first, and where to go on (``None``: done); :class:`InvalidCursor` for a ``start``
        the repository did not make for this SKU."""
        ...

    def low_stock(
        self, shard: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[StockItem], dict[str, Any] | None]:
        """The SKUs of one shard that are at or under their threshold, by SKU."""
        ...

    def write(
        self,
        changes: Sequence[StockChange],
        *,
        reservation: Reservation | None = None,
        expected_status: ReservationStatus | None = None,
        receipt: str | None = None,
        correlation_id: str = "",
    ) -> None:
        """Write all of it or nothing.

        Each change is conditioned on its ``before`` (absent, or still at its version, with ``needs_available``
        units available): :class:`StaleStock` otherwise. ``reservation`` is created (``expected_status`` ``None``:
        :class:`ReservationConflict` if it exists) or replaced if it is still at ``expected_status``. ``receipt``
        (a restock's reference) is recorded once per SKU: :class:`DuplicateReceipt` the second time.
        """
        ...


# -- retries ---------------------------------------------------------------------------------------------------------
def _backoff(attempt: int) -> float:
    return random.uniform(0, min(0.2, 0.005 * 2**attempt))


def retrying(attempt_once: Callable[[], T], sleep: Sleep = time.sleep, attempts: int = MAX_ATTEMPTS) -> T:
    """Run a read-decide-write until its write is not refused as stale (the last refusal propagates: 409)."""
    for attempt in range(attempts):
        try:
            return attempt_once()
        except StaleStock:
            if attempt == attempts - 1:
                raise
            sleep(_backoff(attempt))
    raise AssertionError("unreachable")


# -- the order saga --------------------------------------------------------------------------------------------------
def reserve_for_order(
    order_id: str,
    lines: Sequence[OrderLine],
    *,
    repo: StockRepository,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    correlation_id: str = "",
) -> Reservation:
    """Reserve every line of a placed order in one write, or record why not (``FAILED``). Idempotent: an order
    that already has a reservation record (any status) gets that record back and nothing changes."""
    valid: list[OrderLine] = []
    invalid: list[OrderLine] = []
    for line in lines:
        try:
            valid.append(replace(line, sku=normalise_sku(line.sku)))
        except StockRuleError:
            invalid.append(line)

    def attempt() -> Reservation:
        existing = repo.get_reservation(order_id)
        if existing is not None:
            return existing
        stock = repo.get_many({line.sku for line in valid})
        plan = plan_reservation(order_id, [*valid, *invalid], stock, clock())
        return _apply(plan, repo, correlation_id, expected=None)

    return retrying(attempt, sleep)


def commit_order(
    order_id: str,
    *,
    repo: StockRepository,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    correlation_id: str = "",
) -> Reservation | None:
    """The order was paid: commit its reservation (``RESERVED`` → ``COMMITTED``). Anything else (no reservation,
    already committed, released) is left as it is and returned: applying a payment twice changes nothing."""

    def attempt() -> Reservation | None:
        reservation = repo.get_reservation(order_id)
        if reservation is None or reservation.status is not ReservationStatus.RESERVED:
            return reservation
        plan = plan_commit(reservation, repo.get_many(_skus(reservation)), clock())
        return _apply(plan, repo, correlation_id, expected=ReservationStatus.RESERVED)

    return retrying(attempt, sleep)


def cancel_order(
    order_id: str,
    *,
    repo: StockRepository,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    correlation_id: str = "",
) -> Reservation:
    """The order was cancelled: release what it reserved, or put back on the shelf what it took when it was paid.

    ``FAILED``, ``RELEASED``, ``RESTOCKED`` and ``CANCELLED`` change nothing (a repeat, or nothing was reserved).
    An order with no reservation yet gets a ``CANCELLED`` record, so that its ``OrderPlaced``, if it arrives
    late, reserves nothing that nobody would ever release.
    """

    def attempt() -> Reservation:
        reservation = repo.get_reservation(order_id)
        now = clock()
        if reservation is None:
            tombstone = Reservation(
                order_id,
                ReservationStatus.CANCELLED,
                reason="cancelled before reservation",
                created_at=now,
                updated_at=now,
            )
            return _apply(Plan(tombstone), repo, correlation_id, expected=None)
        if reservation.status is ReservationStatus.RESERVED:
            plan = plan_release(reservation, repo.get_many(_skus(reservation)), now)
        elif reservation.status is ReservationStatus.COMMITTED:
            plan = plan_return(reservation, repo.get_many(_skus(reservation)), now)
        else:
            return reservation
        return _apply(plan, repo, correlation_id, expected=reservation.status)

    return retrying(attempt, sleep)


def _skus(reservation: Reservation) -> set[str]:
    return {line.sku for line in reservation.lines}


def _apply(
    plan: Plan, repo: StockRepository, correlation_id: str, *, expected: ReservationStatus | None
) -> Reservation:
    try:
        repo.write(plan.changes, reservation=plan.reservation, expected_status=expected, correlation_id=correlation_id)
    except ReservationConflict as exc:
        # Another worker wrote this reservation meanwhile: read it again and decide again.
        raise StaleStock("The reservation changed meanwhile.") from exc
    return plan.reservation


# -- administration --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockView:
    item: StockItem
    movements: list[Movement]
    next_position: dict[str, Any] | None


@dataclass(frozen=True)
class StockPage:
    items: list[StockItem]
    next_position: dict[str, Any] | None


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def stock_view(
    sku: str, *, repo: StockRepository, limit: int | None = None, position: dict[str, Any] | None = None
) -> StockView:
    """A SKU's figures and one page of its ledger, newest first."""
    sku = normalise_sku(sku)
    item = repo.get(sku)
    if item is None:
        raise SkuNotFound(f"There is no stock record for SKU {sku}.")
    if position is not None and set(position) != {"k"}:
        raise InvalidCursor("The cursor does not belong to this ledger; start again without it.")
    movements, last = repo.movements(sku, clamp_limit(limit), position["k"] if position else None)
    return StockView(item, movements, {"k": last} if last else None)


def update_stock(
    sku: str,
    *,
    repo: StockRepository,
    threshold: int | None = None,
    delta: int | None = None,
    reason: str | None = None,
    product_id: str | None = None,
    actor: str | None = None,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    correlation_id: str = "",
) -> tuple[StockItem, bool]:
    """Set a SKU's threshold and/or adjust its stock by a signed ``delta`` with a ``reason``; create the record if
    it is missing. Returns the item and whether it was created. :class:`InsufficientStock` (nothing written) when
    the adjustment would take ``available`` below zero."""
    sku = normalise_sku(sku)
    if threshold is None and delta is None and product_id is None:
        raise StockRuleError("Send a threshold, an adjustment (delta with a reason), or both.")
    if delta is not None and not (reason or "").strip():
        raise StockRuleError("An adjustment needs a reason.")
    reference = f"adjust-{uuid.uuid4()}"

    def attempt() -> tuple[StockItem, bool]:
        before = repo.get(sku)
        now = clock()
        item = before or StockItem.new(sku, product_id=product_id)
        if product_id and item.product_id != product_id:
            item = replace(item, product_id=product_id)
        if threshold is not None:
            item = item.with_threshold(threshold, now)
        movement = None
        if delta is not None:
            item, movement = item.adjust(delta, reason or "", now, reference, actor)
        item = replace(item, updated_at=now)
        repo.write([StockChange(before, item, movement)], correlation_id=correlation_id)
        return replace(item, version=(before.version if before else 0) + 1), before is None

    return retrying(attempt, sleep)


def receive_stock(
    sku: str,
    quantity: int,
    *,
    repo: StockRepository,
    reference: str | None = None,
    actor: str | None = None,
    clock: Clock = utc_now,
    sleep: Sleep = time.sleep,
    correlation_id: str = "",
) -> StockItem:
    """Receive ``quantity`` units of a SKU that has a stock record (404 otherwise: create it with PUT first).

    A ``reference`` (a delivery note) is received once: the same reference again is :class:`DuplicateReceipt`.
    """
    sku = normalise_sku(sku)
    ref = reference or f"restock-{uuid.uuid4()}"

    def attempt() -> StockItem:
        before = repo.get(sku)
        if before is None:
            raise SkuNotFound(f"There is no stock record for SKU {sku}; create it with PUT /inventory/{sku}.")
        after, movement = before.restock(quantity, clock(), ref, "received", actor)
        repo.write([StockChange(before, after, movement)], receipt=reference, correlation_id=correlation_id)
        return replace(after, version=before.version + 1)

    return retrying(attempt, sleep)


def list_low_stock(
    *, repo: StockRepository, limit: int | None = None, position: dict[str, Any] | None = None
) -> StockPage:
    """One page of the SKUs at or under their threshold. The listing reads the shards one after the other; a
    position names the shard to go on with and the storage key inside it."""
    size = clamp_limit(limit)
    shard, key = _resume(position)
    items: list[StockItem] = []
    while shard < SHARDS:
        got, last = repo.low_stock(shard, size - len(items), key)
        items.extend(got)
        if len(items) >= size:
            if last is not None:
                return StockPage(items, {"s": shard, "k": last})
            return StockPage(items, {"s": shard + 1, "k": None} if shard + 1 < SHARDS else None)
        shard, key = shard + 1, None
    return StockPage(items, None)


def _resume(position: Mapping[str, Any] | None) -> tuple[int, dict[str, Any] | None]:
    if not position:
        return 0, None
    shard, key = position.get("s"), position.get("k")
    if set(position) != {"s", "k"} or not isinstance(shard, int) or isinstance(shard, bool) or not 0 <= shard < SHARDS:
        raise InvalidCursor("The cursor does not belong to this listing; start again without it.")
    if key is not None and not isinstance(key, dict):
        raise InvalidCursor("The cursor does not belong to this listing; start again without it.")
    return shard, key


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "InsufficientStock",
    "StockPage",
    "StockRepository",
    "StockView",
    "cancel_order",
    "clamp_limit",
    "commit_order",
    "list_low_stock",
    "receive_stock",
    "reserve_for_order",
    "stock_view",
    "update_stock",
]
