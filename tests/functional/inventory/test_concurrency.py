"""Many customers reserve the last units of one SKU at the same moment, through the service code and moto."""

from __future__ import annotations

import threading
import uuid

import pytest

from inventory import service
from inventory.domain import OrderLine, ReservationStatus
from inventory.store import DynamoStockRepository

UNITS = 3
BUYERS = 12


@pytest.mark.usefixtures("atomic_moto")
def test_exactly_as_many_orders_as_units_are_reserved(table_name: str) -> None:
    repo = DynamoStockRepository(table_name)
    sku = "LAST-" + uuid.uuid4().hex[:6].upper()
    service.update_stock(
        service.UpdateStock(sku, delta=UNITS, reason="last units", threshold=0, product_id="prod-last"), repo
    )
    results: dict[str, ReservationStatus] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(BUYERS)

    def buy(order_id: str) -> None:
        try:
            start.wait()
            cmd = service.ReserveForOrder(order_id, (OrderLine(sku, 1),))
            results[order_id] = service.reserve_for_order(cmd, repo).status
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=buy, args=(f"o-{n}",)) for n in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    statuses = list(results.values())
    assert statuses.count(ReservationStatus.RESERVED) == UNITS
    assert statuses.count(ReservationStatus.FAILED) == BUYERS - UNITS
    item = repo.get(sku)
    assert item is not None
    assert (item.on_hand, item.reserved, item.available) == (UNITS, UNITS, 0)
    ledger, _ = repo.movements(sku, 100, None)
    assert sum(m.reserved_delta for m in ledger) == UNITS
    assert sorted(m.reference for m in ledger if m.kind.value == "reserve") == sorted(
        o for o, s in results.items() if s is ReservationStatus.RESERVED
    )
