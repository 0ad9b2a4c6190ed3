"""What must hold of the orders table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **settled**: every order is terminal (paid, shipped, delivered, cancelled, refunded), or still moving (its last
  step less than ``in_flight_s`` ago; one AWAITING_PAYMENT, its buyer's wait not over more than ``in_flight_s``
  ago: the payment service ends it then); a cancelled one says why.
- **history**: each order's history is whole (steps 0, 1, 2 ...), every step a legal move, and the last step is the
  order's status, on the item and in the document alike.
- **imported history**: every imported order's marker names a batch that holds it, and every order of a batch has
  its marker naming that batch (an import is one transaction: neither is ever written without the other).
  Reported when the table holds imported history.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from orders.domain import TRANSITIONS, OrderStatus
from orders.store import ENTITY, HISTORY_BATCH, HISTORY_MARKER, history_batch_orders

MOVING = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.AWAITING_PAYMENT})


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    settled, history = Check("orders: every order settled or explained"), Check("orders: histories whole and legal")
    imported = Check("orders: every imported order in its batch, with its marker")
    markers: dict[str, str] = {}  # order id -> the batch its marker names
    batches: dict[str, set[str]] = {}  # batch id -> the order ids it holds
    for item in items:
        if item.get("entity") == HISTORY_MARKER:
            markers[str(item.get("orderId"))] = str(item.get("batchId"))
        elif item.get("entity") == HISTORY_BATCH:
            batches[str(item.get("batchId"))] = {str(o.get("orderId")) for o in history_batch_orders(item)}
        if item.get("entity") != ENTITY:
            continue
        settled.saw()
        history.saw()
        _settled(item, settled, shop)
        _history(item, history)
    _imported(markers, batches, imported)
    return [settled, history, imported]


def _imported(markers: dict[str, str], batches: dict[str, set[str]], check: Check) -> None:
    check.saw(len(markers))
    for order_id, batch_id in markers.items():
        if order_id not in batches.get(batch_id, set()):
            check.fail(f"imported order {order_id}: its batch {batch_id} does not hold it")
    for batch_id, order_ids in batches.items():
        for order_id in order_ids:
            if markers.get(order_id) != batch_id:
                check.fail(f"batch {batch_id}: order {order_id} has no marker naming it")


def _settled(item: dict[str, Any], check: Check, shop: Shop) -> None:
    steps = list((item.get("order") or {}).get("history") or [])
    last = steps[-1] if steps else {}
    status = OrderStatus(str(item.get("status")))
    if status is OrderStatus.AWAITING_PAYMENT:
        # A buyer may take the whole approval window at the provider's page; only past its end is the order stuck.
        ends = ((item.get("order") or {}).get("payment") or {}).get("approvalExpiresAt")
        if shop.age_s(ends) > shop.in_flight_s:
            check.fail(f"{item.get('orderId')} still {status.value} {shop.age_s(ends):.0f} s after the buyer's wait")
    elif status in MOVING and shop.age_s(last.get("at")) > shop.in_flight_s:
        check.fail(f"{item.get('orderId')} still {status.value} {shop.age_s(last.get('at')):.0f} s after its last step")
    if status is OrderStatus.CANCELLED and not (last.get("reason") or last.get("cause")):
        check.fail(f"{item.get('orderId')} cancelled without a reason")


def _history(item: dict[str, Any], check: Check) -> None:
    order = item.get("order") or {}
    steps = list(order.get("history") or [])
    order_id, status = item.get("orderId"), str(item.get("status"))
    if [s.get("seq") for s in steps] != list(range(len(steps))):
        check.fail(f"{order_id}: steps {[s.get('seq') for s in steps]}")
    for before, after in itertools.pairwise(steps):
        if OrderStatus(after["to"]) not in TRANSITIONS[OrderStatus(before["to"])]:
            check.fail(f"{order_id}: {before['to']} -> {after['to']} is not a legal move")
    last = steps[-1] if steps else {}
    if last.get("to") != status or order.get("status") != status:
        check.fail(f"{order_id}: item says {status}, document {order.get('status')}, last step {last.get('to')}")
