"""An in-memory stock repository with the real one's guarantees: each write all or nothing, conditioned on the
versions and reservation status it names (thread-safe, so racing use cases can be tested)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from inventory.domain import Movement, Reservation, ReservationStatus, StockChange, StockItem
from inventory.errors import DuplicateReceipt, InvalidCursor, ReservationConflict, StaleStock


class InMemoryStock:
    def __init__(self) -> None:
        self.items: dict[str, StockItem] = {}
        self.ledger: dict[str, list[Movement]] = {}
        self.reservations: dict[str, Reservation] = {}
        self.receipts: set[tuple[str, str]] = set()
        self.writes = 0
        self.refusals = 0
        self.lock = threading.Lock()

    # -- reads ---------------------------------------------------------------------------------------------------
    def get(self, sku: str) -> StockItem | None:
        return self.items.get(sku)

    def get_many(self, skus: Iterable[str]) -> dict[str, StockItem]:
        return {sku: self.items[sku] for sku in skus if sku in self.items}

    def get_reservation(self, order_id: str) -> Reservation | None:
        return self.reservations.get(order_id)

    def movements(
        self, sku: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Movement], dict[str, Any] | None]:
        newest_first = list(reversed(self.ledger.get(sku, [])))
        offset = 0
        if start is not None:
            if set(start) != {"i"} or not isinstance(start["i"], int):
                raise InvalidCursor("bad key")
            offset = start["i"]
        page = newest_first[offset : offset + limit]
        more = offset + limit < len(newest_first)
        return page, ({"i": offset + limit} if more else None)

    def low_stock(
        self, shard: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[StockItem], dict[str, Any] | None]:
        members = sorted((i for i in self.items.values() if i.is_low and i.shard == shard), key=lambda i: i.sku)
        after = start["after"] if start else None
        rest = [i for i in members if after is None or i.sku > after]
        page = rest[:limit]
        return page, ({"after": page[-1].sku} if page and len(page) == limit else None)

    # -- the write -----------------------------------------------------------------------------------------------
    def write(
        self,
        changes: Sequence[StockChange],
        *,
        reservation: Reservation | None = None,
        expected_status: ReservationStatus | None = None,
        receipt: str | None = None,
        correlation_id: str = "",
    ) -> None:
        with self.lock:
            self._check_stock(changes)
            if receipt is not None and changes and (changes[0].after.sku, receipt) in self.receipts:
                raise DuplicateReceipt("again")
            self._check_reservation(reservation, expected_status)
            for change in changes:
                version = (change.before.version if change.before else 0) + 1
                self.items[change.after.sku] = replace(change.after, version=version)
                if change.movement is not None:
                    self.ledger.setdefault(change.after.sku, []).append(change.movement)
            if receipt is not None and changes:
                self.receipts.add((changes[0].after.sku, receipt))
            if reservation is not None:
                self.reservations[reservation.order_id] = reservation
            self.writes += 1

    def _check_stock(self, changes: Sequence[StockChange]) -> None:
        """Each change's condition: absent when it creates, else still at the version it read, with enough left."""
        for change in changes:
            current = self.items.get(change.after.sku)
            if change.before is None:
                if current is not None:
                    self.refusals += 1
                    raise StaleStock("exists")
            elif current is None or current.version != change.before.version:
                self.refusals += 1
                raise StaleStock("stale")
            elif current.available < change.needs_available:
                raise StaleStock("not enough")

    def _check_reservation(self, reservation: Reservation | None, expected_status: ReservationStatus | None) -> None:
        if reservation is None:
            return
        stored = self.reservations.get(reservation.order_id)
        if expected_status is None and stored is not None:
            raise ReservationConflict("exists")
        if expected_status is not None and (stored is None or stored.status is not expected_status):
            raise ReservationConflict("moved on")

    # -- for tests -----------------------------------------------------------------------------------------------
    def stock(self, sku: str, on_hand: int, threshold: int = 5, reserved: int = 0) -> StockItem:
        item = StockItem(sku, on_hand=on_hand, reserved=reserved, threshold=threshold, product_id=f"p-{sku}", version=1)
        self.items[sku] = item
        return item
