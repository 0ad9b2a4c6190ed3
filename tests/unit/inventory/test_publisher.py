"""Which stream records become which events: reservation outcomes by order id, stock levels, StockLow once."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from inventory.domain import OrderLine, Reservation, ReservationStatus, Shortage, StockItem
from inventory.publisher import events_for_record, reservation_event_id
from inventory.store import movement_item, reservation_item, stock_item

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
counter = iter(range(1, 1_000_000))


def record(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
    ddb: dict[str, Any] = {"SequenceNumber": str(next(counter)), "ApproximateCreationDateTime": 1764072000}
    if old is not None:
        ddb["OldImage"] = old
    if new is not None:
        ddb["NewImage"] = new
    return {"eventID": f"ev-{ddb['SequenceNumber']}", "eventName": name, "dynamodb": ddb}


def stock(on_hand: int, reserved: int = 0, threshold: int = 5, version: int = 1) -> StockItem:
    return StockItem("85123A", on_hand, reserved, threshold, "prod-1", version, NOW)


def image(item: StockItem) -> dict[str, Any]:
    return stock_item(item, item.version, "corr-1")


def types_of(old: StockItem | None, new: StockItem) -> list[str]:
    return [e.type for e in events_for_record(record(image(old) if old else None, image(new)))]


def test_every_change_of_a_stock_item_tells_its_level() -> None:
    events = events_for_record(record(image(stock(10, 1)), image(stock(10, 3, version=2))))
    assert [e.type for e in events] == ["StockLevelChanged.v1"]
    event = events[0]
    assert event.subject == "85123A"
    assert event.correlationid == "corr-1"
    assert event.source == "gears.inventory"
    assert event.data == {
        "sku": "85123A",
        "productId": "prod-1",
        "onHand": 10,
        "reserved": 3,
        "available": 7,
        "threshold": 5,
        "level": "in_stock",
        "version": 2,
        "changedAt": "2026-11-25T12:00:00.000000Z",
    }
    assert types_of(stock(10), stock(10, version=2)) == []  # nothing a consumer would see changed
    assert events_for_record(record(image(stock(10)), None)) == []


def test_stock_low_fires_once_per_crossing() -> None:
    sequence = [stock(10), stock(6), stock(5), stock(3), stock(0), stock(8), stock(4)]
    told = [types_of(old, new) for old, new in itertools.pairwise(sequence)]
    assert told == [
        ["StockLevelChanged.v1"],  # 10 -> 6: still above 5
        ["StockLevelChanged.v1", "StockLow.v1"],  # 6 -> 5: at the threshold
        ["StockLevelChanged.v1"],  # 5 -> 3: still low, no second alert
        ["StockLevelChanged.v1"],  # 3 -> 0: out, still no second alert
        ["StockLevelChanged.v1"],  # 0 -> 8: restocked above
        ["StockLevelChanged.v1", "StockLow.v1"],  # 8 -> 4: a new crossing
    ]
    low = events_for_record(record(image(stock(6)), image(stock(5))))[1]
    assert low.data == {"sku": "85123A", "productId": "prod-1", "available": 5, "threshold": 5}
    assert types_of(None, stock(0)) == ["StockLevelChanged.v1", "StockLow.v1"]
    assert types_of(stock(10), replace(stock(10), threshold=12)) == ["StockLevelChanged.v1", "StockLow.v1"]


def test_reservation_outcomes_become_events_with_ids_from_the_order() -> None:
    lines = (OrderLine("85123A", 2, "prod-1"),)
    reserved = Reservation("o-1", ReservationStatus.RESERVED, lines, created_at=NOW, updated_at=NOW)
    events = events_for_record(record(None, reservation_item(reserved, "corr-o1")))
    assert [e.type for e in events] == ["StockReserved.v1"]
    assert events[0].data == {"orderId": "o-1", "lines": [{"sku": "85123A", "productId": "prod-1", "quantity": 2}]}
    assert events[0].id == reservation_event_id("o-1", "StockReserved.v1")
    assert (events[0].subject, events[0].correlationid) == ("o-1", "corr-o1")
    again = events_for_record(record(None, reservation_item(reserved, "corr-o1")))
    assert again[0].id == events[0].id  # a second stream record of the same outcome dedupes downstream

    failed = Reservation("o-2", ReservationStatus.FAILED, lines, (Shortage("85123A", 2, 1),), "out_of_stock", NOW, NOW)
    events = events_for_record(record(None, reservation_item(failed)))
    assert [e.type for e in events] == ["StockReservationFailed.v1"]
    assert events[0].data == {
        "orderId": "o-2",
        "reason": "out_of_stock",
        "unavailable": [{"sku": "85123A", "requested": 2, "available": 1}],
    }
    assert events[0].id != reservation_event_id("o-2", "StockReserved.v1")


def test_later_reservation_states_movements_and_inbox_items_publish_nothing() -> None:
    lines = (OrderLine("85123A", 2, "prod-1"),)
    reserved = Reservation("o-1", ReservationStatus.RESERVED, lines, created_at=NOW, updated_at=NOW)
    committed = reserved.moved_to(ReservationStatus.COMMITTED, NOW)
    assert events_for_record(record(reservation_item(reserved), reservation_item(committed))) == []
    _, movement = stock(10).reserve(2, NOW, "o-1")
    assert events_for_record(record(None, movement_item(movement))) == []
    inbox = {"pk": {"S": "INBOX#inventory-orders#e1"}, "sk": {"S": "INBOX"}, "status": {"S": "COMPLETED"}}
    assert events_for_record(record(None, inbox)) == []


def test_a_stock_event_carries_the_time_of_the_change() -> None:
    changed = replace(stock(10, 1, version=2), updated_at=datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC))
    event = events_for_record(record(image(stock(10)), image(changed)))[0]
    assert event.time == "2026-11-25T12:00:00.123Z"
