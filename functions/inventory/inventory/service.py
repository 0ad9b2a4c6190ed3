"""The inventory's use cases: plain functions, each taking one command (a frozen dataclass named for the use case)
and the port it needs (the stock repository), plus a clock and a sleep that tests replace.

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
from datetime import datetime
from typing import Any, Protocol, TypeVar

from gears_shared.clock import utc_now
from inventory.domain import (
    SHARDS,
    Movement,
    OrderLine,
    Plan,
    Reservation,
    ReservationStatus,
    StockChange,
    StockItem,
    StockRuleError,
    normalise_sku,
    opened_for_product,
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
Position = dict[str, Any]


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


# -- the commands ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReserveForOrder:
    """An order was placed (``OrderPlaced.v1``): reserve every line of it."""

    order_id: str
    lines: tuple[OrderLine, ...]
    correlation_id: str = ""


@dataclass(frozen=True)
class CommitOrder:
    """An order was paid (``OrderPaid.v1``): its reserved units leave the shelf."""

    order_id: str
    correlation_id: str = ""


@dataclass(frozen=True)
class CancelOrder:
    """An order was cancelled (``OrderCancelled.v1``): what it reserved or took comes back."""

    order_id: str
    correlation_id: str = ""


@dataclass(frozen=True)
class OpenStock:
    """A product was created in the catalog (``ProductCreated.v1``): its SKU needs a stock record."""

    sku: str
    product_id: str
    correlation_id: str = ""


@dataclass(frozen=True)
class ViewStock:
    """A SKU's figures and one page of its ledger."""

    sku: str
    limit: int | None = None
    position: Position | None = None


@dataclass(frozen=True)
class ListLowStock:
    """One page of the SKUs at or under their threshold."""

    limit: int | None = None
    position: Position | None = None


@dataclass(frozen=True)
class UpdateStock:
    """An administrator sets a SKU's threshold and/or adjusts its stock by a signed ``delta`` with a ``reason``;
    ``product_id`` links the record to its product (and may open it)."""

    sku: str
    threshold: int | None = None
    delta: int | None = None
    reason: str | None = None
    product_id: str | None = None
    actor: str | None = None
    correlation_id: str = ""


@dataclass(frozen=True)
class ReceiveStock:
    """Units of a SKU came in; a ``reference`` (a delivery note) is received once."""

    sku: str
    quantity: int
    reference: str | None = None
    actor: str | None = None
    correlation_id: str = ""


# -- the order saga --------------------------------------------------------------------------------------------------
def reserve_for_order(
    cmd: ReserveForOrder, repo: StockRepository, *, clock: Clock = utc_now, sleep: Sleep = time.sleep
) -> Reservation:
    """Reserve every line of a placed order in one write, or record why not (``FAILED``). Idempotent: an order
    that already has a reservation record (any status) gets that record back and nothing changes."""
    valid: list[OrderLine] = []
    invalid: list[OrderLine] = []
    for line in cmd.lines:
        try:
            valid.append(replace(line, sku=normalise_sku(line.sku)))
        except StockRuleError:
            invalid.append(line)

    def attempt() -> Reservation:
        existing = repo.get_reservation(cmd.order_id)
        if existing is not None:
            return existing
        stock = repo.get_many({line.sku for line in valid})
        plan = plan_reservation(cmd.order_id, [*valid, *invalid], stock, clock())
        return _apply(plan, repo, cmd.correlation_id, expected=None)

    return retrying(attempt, sleep)


def commit_order(
    cmd: CommitOrder, repo: StockRepository, *, clock: Clock = utc_now, sleep: Sleep = time.sleep
) -> Reservation | None:
    """The order was paid: commit its reservation (``RESERVED`` → ``COMMITTED``). Anything else (no reservation,
    already committed, released) is left as it is and returned: applying a payment twice changes nothing."""

    def attempt() -> Reservation | None:
        reservation = repo.get_reservation(cmd.order_id)
        if reservation is None or reservation.status is not ReservationStatus.RESERVED:
            return reservation
        plan = plan_commit(reservation, repo.get_many(_skus(reservation)), clock())
        return _apply(plan, repo, cmd.correlation_id, expected=ReservationStatus.RESERVED)

    return retrying(attempt, sleep)


def cancel_order(
    cmd: CancelOrder, repo: StockRepository, *, clock: Clock = utc_now, sleep: Sleep = time.sleep
) -> Reservation:
    """The order was cancelled: release what it reserved, or put back on the shelf what it took when it was paid.

    ``FAILED``, ``RELEASED``, ``RESTOCKED`` and ``CANCELLED`` change nothing (a repeat, or nothing was reserved).
    An order with no reservation yet gets a ``CANCELLED`` record, so that its ``OrderPlaced``, if it arrives
    late, reserves nothing that nobody would ever release.
    """

    def attempt() -> Reservation:
        reservation = repo.get_reservation(cmd.order_id)
        now = clock()
        if reservation is None:
            tombstone = Reservation(
                cmd.order_id,
                ReservationStatus.CANCELLED,
                reason="cancelled before reservation",
                created_at=now,
                updated_at=now,
            )
            return _apply(Plan(tombstone), repo, cmd.correlation_id, expected=None)
        if reservation.status is ReservationStatus.RESERVED:
            plan = plan_release(reservation, repo.get_many(_skus(reservation)), now)
        elif reservation.status is ReservationStatus.COMMITTED:
            plan = plan_return(reservation, repo.get_many(_skus(reservation)), now)
        else:
            return reservation
        return _apply(plan, repo, cmd.correlation_id, expected=reservation.status)

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


# -- the catalog -----------------------------------------------------------------------------------------------------
def open_stock(
    cmd: OpenStock, repo: StockRepository, *, clock: Clock = utc_now, sleep: Sleep = time.sleep
) -> StockItem | None:
    """A new product's SKU gets its stock record: nothing on hand, linked to the product, so that it can be
    restocked at once. A record that exists already is left as it is, except that one linked to no product gets
    this one. Idempotent: the record written, or ``None`` when there was nothing to change.
    :class:`~inventory.domain.InvalidSku` for a SKU the inventory cannot hold."""
    sku = normalise_sku(cmd.sku)

    def attempt() -> StockItem | None:
        before = repo.get(sku)
        after = opened_for_product(before, sku, cmd.product_id, clock())
        if after is None:
            return None
        repo.write([StockChange(before, after)], correlation_id=cmd.correlation_id)
        return replace(after, version=(before.version if before else 0) + 1)

    return retrying(attempt, sleep)


# -- administration --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockView:
    item: StockItem
    movements: list[Movement]
    next_position: Position | None


@dataclass(frozen=True)
class StockPage:
    items: list[StockItem]
    next_position: Position | None


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def view_stock(query: ViewStock, repo: StockRepository) -> StockView:
    """A SKU's figures and one page of its ledger, newest first."""
    sku = normalise_sku(query.sku)
    item = repo.get(sku)
    if item is None:
        raise SkuNotFound(f"There is no stock record for SKU {sku}.")
    position = query.position
    if position is not None and set(position) != {"k"}:
        raise InvalidCursor("The cursor does not belong to this ledger; start again without it.")
    movements, last = repo.movements(sku, clamp_limit(query.limit), position["k"] if position else None)
    return StockView(item, movements, {"k": last} if last else None)


def update_stock(
    cmd: UpdateStock, repo: StockRepository, *, clock: Clock = utc_now, sleep: Sleep = time.sleep
) -> tuple[StockItem, bool]:
    """Set a SKU's threshold and/or adjust its stock by a signed ``delta`` with a ``reason``. Returns the item and
    whether it was created: a SKU with no record gets one only when the command names its product
    (:class:`SkuNotFound` otherwise: a record is opened when its product is created in the catalog).
    :class:`~inventory.domain.InsufficientStock` (nothing written) when the adjustment would take ``available``
    below zero."""
    sku = normalise_sku(cmd.sku)
    if cmd.threshold is None and cmd.delta is None and cmd.product_id is None:
        raise StockRuleError("Send a threshold, an adjustment (delta with a reason), or both.")
    if cmd.delta is not None and not (cmd.reason or "").strip():
        raise StockRuleError("An adjustment needs a reason.")
    reference = f"adjust-{uuid.uuid4()}"

    def attempt() -> tuple[StockItem, bool]:
        before = repo.get(sku)
        now = clock()
        item = _record_to_update(before, sku, cmd.product_id)
        if cmd.threshold is not None:
            item = item.with_threshold(cmd.threshold, now)
        movement = None
        if cmd.delta is not None:
            item, movement = item.adjust(cmd.delta, cmd.reason or "", now, reference, cmd.actor)
        item = replace(item, updated_at=now)
        repo.write([StockChange(before, item, movement)], correlation_id=cmd.correlation_id)
        return replace(item, version=(before.version if before else 0) + 1), before is None

    return retrying(attempt, sleep)


def _record_to_update(before: StockItem | None, sku: str, product_id: str | None) -> StockItem:
    """The record an administrator's change starts from: the stored one (linked to ``product_id`` when given), or
    a new one for that product. Without a product there is nothing to create: a record linked to no product
    would never be sold."""
    if before is None:
        if not product_id:
            raise SkuNotFound(
                f"There is no stock record for SKU {sku}: it is opened when its product is created in the catalog "
                "(or send the product's productId to open it)."
            )
        return StockItem.new(sku, product_id=product_id)
    if product_id and before.product_id != product_id:
        return replace(before, product_id=product_id)
    return before


def receive_stock(
    cmd: ReceiveStock, repo: StockRepository, *, clock: Clock = utc_now, sleep: Sleep = time.sleep
) -> StockItem:
    """Receive units of a SKU that has a stock record (:class:`SkuNotFound` otherwise).

    A ``reference`` (a delivery note) is received once: the same reference again is :class:`DuplicateReceipt`.
    """
    sku = normalise_sku(cmd.sku)
    ref = cmd.reference or f"restock-{uuid.uuid4()}"

    def attempt() -> StockItem:
        before = repo.get(sku)
        if before is None:
            raise SkuNotFound(
                f"There is no stock record for SKU {sku}: it is opened when its product is created in the catalog."
            )
        after, movement = before.restock(cmd.quantity, clock(), ref, "received", cmd.actor)
        repo.write([StockChange(before, after, movement)], receipt=cmd.reference, correlation_id=cmd.correlation_id)
        return replace(after, version=before.version + 1)

    return retrying(attempt, sleep)


def list_low_stock(query: ListLowStock, repo: StockRepository) -> StockPage:
    """One page of the SKUs at or under their threshold. The listing reads the shards one after the other; a
    position names the shard to go on with and the storage key inside it."""
    size = clamp_limit(query.limit)
    shard, key = _resume(query.position)
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
