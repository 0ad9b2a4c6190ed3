"""The inventory table's stream, published as CloudEvents on the inventory topic.

A reservation record becoming ``RESERVED`` or ``FAILED`` is ``StockReserved.v1`` or ``StockReservationFailed.v1``
(ids derived from the order id); a stock item whose figures changed is ``StockLevelChanged.v1``, and also
``StockLow.v1`` when the change took it from above its threshold to at or under it (told apart by the record's old
and new images, so a sale that keeps a low SKU low announces nothing new). Movements, receipts and inbox items
publish nothing. The change and its event cannot part: the stream is the only way out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from gears_shared.events import CloudEvent, new_event, stream_images
from gears_shared.streams import stream_handler
from inventory import bootstrap
from inventory.domain import ReservationStatus, StockItem, crossed_into_low, utc_iso
from inventory.events import (
    SCHEMAS,
    SOURCE,
    STOCK_LEVEL_CHANGED,
    STOCK_LOW,
    STOCK_RESERVATION_FAILED,
    STOCK_RESERVED,
)
from inventory.store import RESERVATION, STOCK, reservation_from_plain, stock_from_plain

EVENT_ID_NAMESPACE = uuid.UUID("8a3f1d2e-6c7b-4e59-9b0a-2f4d6e8c1a37")


def reservation_event_id(order_id: str, type_: str) -> str:
    """The id of an order's reservation outcome: the same order always gives the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{type_}/{order_id}"))


def stock_event_id(stream_event_id: str, type_: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{type_}/{stream_event_id}"))


def _event(type_: str, data: dict[str, Any], *, subject: str, event_id: str, when: str, correlation: str) -> CloudEvent:
    SCHEMAS[type_].model_validate(data)  # the published contract, checked before it leaves
    return new_event(type_, SOURCE, data, correlation_id=correlation, subject=subject, event_id=event_id, time=when)


def _stock_events(
    old: dict[str, Any] | None, new: dict[str, Any] | None, stream_id: str, when: str
) -> list[CloudEvent]:
    if new is None:
        return []
    before = stock_from_plain(old) if old else None
    after = stock_from_plain(new)
    correlation = str(new.get("correlationId") or "")
    if after.updated_at is not None:
        # The change's own time, finer than the stream's (whole seconds): consumers that keep the latest level by
        # event time then order two changes of one second correctly. ``version`` orders them exactly.
        when = after.updated_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    events: list[CloudEvent] = []
    if before is None or before.figures() != after.figures():
        events.append(
            _event(
                STOCK_LEVEL_CHANGED,
                _level_data(after),
                subject=after.sku,
                event_id=stock_event_id(stream_id, STOCK_LEVEL_CHANGED),
                when=when,
                correlation=correlation,
            )
        )
    if crossed_into_low(before, after):
        data = {
            "sku": after.sku,
            "productId": after.product_id,
            "available": after.available,
            "threshold": after.threshold,
        }
        events.append(
            _event(
                STOCK_LOW,
                data,
                subject=after.sku,
                event_id=stock_event_id(stream_id, STOCK_LOW),
                when=when,
                correlation=correlation,
            )
        )
    return events


def _level_data(item: StockItem) -> dict[str, Any]:
    """The item's figures as the API shows them, its time of change named for the event (``changedAt``)."""
    data = item.to_dict()
    data["changedAt"] = data.pop("updatedAt")
    return data


def _reservation_events(old: dict[str, Any] | None, new: dict[str, Any] | None, when: str) -> list[CloudEvent]:
    if new is None:
        return []
    after = reservation_from_plain(new)
    if old is not None and reservation_from_plain(old).status is after.status:
        return []
    correlation = str(new.get("correlationId") or "")
    if after.status is ReservationStatus.RESERVED:
        data: dict[str, Any] = {"orderId": after.order_id, "lines": [line.to_dict() for line in after.lines]}
        type_ = STOCK_RESERVED
    elif after.status is ReservationStatus.FAILED:
        data = {
            "orderId": after.order_id,
            "reason": after.reason or "out_of_stock",
            "unavailable": [s.to_dict() for s in after.unavailable],
        }
        type_ = STOCK_RESERVATION_FAILED
    else:
        return []  # committed, released, restocked, cancelled: the stock items tell those changes
    return [
        _event(
            type_,
            data,
            subject=after.order_id,
            event_id=reservation_event_id(after.order_id, type_),
            when=when,
            correlation=correlation,
        )
    ]


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one DynamoDB stream record (the raw Lambda event record) stands for."""
    name, old, new = stream_images(record)
    if name == "REMOVE":
        return []
    ddb = record.get("dynamodb") or {}
    created = ddb.get("ApproximateCreationDateTime")
    # The stream's own time keeps a retried record's envelope identical; "now" only if a record lacks it.
    when = utc_iso(datetime.fromtimestamp(float(created), UTC) if created is not None else datetime.now(UTC))
    entity = (new or old or {}).get("entity")
    if entity == STOCK:
        stream_id = str(record.get("eventID") or ddb.get("SequenceNumber") or "")
        return _stock_events(old, new, stream_id, when)
    if entity == RESERVATION:
        return _reservation_events(old, new, when)
    return []


handler = stream_handler(bootstrap.stream_publisher)
