"""What must hold of the inventory table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **ledger**: each SKU's stock equals the sum of its ledger (on hand and reserved), and agrees with its last entry;
  nothing is negative and no more is reserved than is on hand.
- **reservations**: what a SKU has reserved is what its held reservations (``RESERVED``) hold; a reservation is not
  held longer than ``in_flight_s`` (its order is paid or cancelled by then, and commits or releases it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from inventory.domain import ReservationStatus
from inventory.store import MOVEMENT, RESERVATION, STOCK


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    stock: dict[str, dict[str, Any]] = {}
    moves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    held: dict[str, int] = defaultdict(int)
    reservations = Check("inventory: reservations held match stock reserved, none held too long")
    for item in items:
        entity = item.get("entity")
        if entity == STOCK:
            stock[str(item["sku"])] = item
        elif entity == MOVEMENT:
            moves[str(item["sku"])].append(item)
        elif entity == RESERVATION:
            reservations.saw()
            _held(item, held, reservations, shop)
    ledger = Check("inventory: stock equals its ledger")
    for sku, item in stock.items():
        ledger.saw()
        _ledger(sku, item, sorted(moves.get(sku, []), key=lambda m: str(m.get("sk"))), ledger)
        if held.get(sku, 0) != int(item.get("reserved", 0)):
            reservations.fail(f"{sku}: {item.get('reserved')} reserved, held reservations hold {held.get(sku, 0)}")
    for sku in set(held) - set(stock):
        reservations.fail(f"{sku}: reservations hold {held[sku]} of a SKU with no stock item")
    return [ledger, reservations]


def _held(item: dict[str, Any], held: dict[str, int], check: Check, shop: Shop) -> None:
    if item.get("status") != ReservationStatus.RESERVED.value:
        return
    for line in item.get("lines") or []:
        held[str(line["sku"])] += int(line["quantity"])
    if shop.age_s(item.get("updatedAt") or item.get("createdAt")) > shop.in_flight_s:
        check.fail(f"order {item.get('orderId')}: reservation held since {item.get('updatedAt')}")


def _ledger(sku: str, item: dict[str, Any], entries: list[dict[str, Any]], check: Check) -> None:
    on_hand, reserved = int(item.get("onHand", 0)), int(item.get("reserved", 0))
    summed = (sum(int(m["onHandDelta"]) for m in entries), sum(int(m["reservedDelta"]) for m in entries))
    if summed != (on_hand, reserved):
        check.fail(f"{sku}: stock {on_hand} on hand / {reserved} reserved, ledger sums to {summed[0]} / {summed[1]}")
    if entries and (int(entries[-1]["onHandAfter"]), int(entries[-1]["reservedAfter"])) != (on_hand, reserved):
        check.fail(f"{sku}: the last ledger entry says {entries[-1]['onHandAfter']} / {entries[-1]['reservedAfter']}")
    if on_hand < 0 or reserved < 0 or reserved > on_hand:
        check.fail(f"{sku}: {on_hand} on hand, {reserved} reserved")
