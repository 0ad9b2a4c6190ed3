"""The orders table's stream, published as CloudEvents on the orders topic (``OrderConfirmed.v1``, ...).

Each status change of an order is a :class:`Transition` appended to its history in the same write; this function
compares a record's old and new history and publishes one event per new transition (PENDING, AWAITING_PAYMENT and
REFUNDED publish nothing: checkout already announced the order, and the payment service the wait for the buyer's
approval and the refund). Event ids derive from the transition (order id + position in the history), so a retried
record, or a replayed stream, publishes the same ids and consumers drop the repeats. A new batch of imported history
(:mod:`orders.history`) publishes one ``OrderHistoryImported.v1``, its id derived from the batch id. Other items (the
inbox, history markers) publish nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from gears_shared.events import CloudEvent, new_event, stream_images
from gears_shared.streams import stream_handler
from orders import bootstrap
from orders.domain import Order, OrderStatus, Transition
from orders.events import (
    ORDER_CANCELLED,
    ORDER_CONFIRMED,
    ORDER_DELIVERED,
    ORDER_HISTORY_IMPORTED,
    ORDER_PAID,
    ORDER_SHIPPED,
    PUBLISHED,
    SOURCE,
)
from orders.store import HISTORY_BATCH, history_batch_orders, order_from_image

EVENT_ID_NAMESPACE = uuid.UUID("5b0d1c3e-7a48-4f0e-9d2c-1e6f3a8b4c77")


def event_id(order_id: str, transition: Transition) -> str:
    """The CloudEvent id of a transition: the same change always gives the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{order_id}#{transition.seq}#{transition.to_status.value}"))


def _lines(order: Order) -> list[dict[str, Any]]:
    return [line.to_dict() for line in order.lines]


def event_for(order: Order, transition: Transition) -> tuple[str, dict[str, Any]] | None:
    """The event type and ``data`` a transition publishes, or ``None``."""
    to = transition.to_status
    if to is OrderStatus.CONFIRMED:
        data = {
            "orderId": order.order_id,
            "userId": order.user_id,
            "total": order.total.to_dict(),
            "paymentMethod": order.payment.method,
        }
        return ORDER_CONFIRMED, data
    if to is OrderStatus.PAID:
        return ORDER_PAID, {
            "orderId": order.order_id,
            "userId": order.user_id,
            "lines": _lines(order),
            "subtotal": order.subtotal.to_dict(),
            "discount": order.discount.to_dict() if order.discount else None,
            "shipping": order.shipping.to_dict(),
            "total": order.total.to_dict(),
            "country": str(order.shipping_address.get("country") or ""),
            "placedAt": order.placed_at,
            "paidAt": transition.at,
        }
    if to is OrderStatus.CANCELLED:
        previous = transition.from_status
        return ORDER_CANCELLED, {
            "orderId": order.order_id,
            "userId": order.user_id,
            "reason": transition.reason or order.cancel_reason or "",
            "lines": _lines(order),
            "previousStatus": previous.value if previous else "",
            "paid": previous is OrderStatus.PAID or order.payment.was_charged,
        }
    if to is OrderStatus.SHIPPED:
        return ORDER_SHIPPED, {
            "orderId": order.order_id,
            "userId": order.user_id,
            "carrier": order.shipment.carrier or "",
            "trackingNumber": order.shipment.tracking_number or "",
            "shippedAt": transition.at,
        }
    if to is OrderStatus.DELIVERED:
        return ORDER_DELIVERED, {
            "orderId": order.order_id,
            "userId": order.user_id,
            "carrier": order.shipment.carrier,
            "trackingNumber": order.shipment.tracking_number,
            "deliveredAt": transition.at,
        }
    return None


def history_event_id(batch_id: str) -> str:
    """The CloudEvent id of an imported batch: the same batch always gives the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"history#{batch_id}"))


def history_event(image: dict[str, Any]) -> CloudEvent:
    """``OrderHistoryImported.v1`` from a new batch item's image."""
    data = {"batchId": image["batchId"], "importedAt": image["importedAt"], "orders": history_batch_orders(image)}
    PUBLISHED[ORDER_HISTORY_IMPORTED].model_validate(data)
    return new_event(
        ORDER_HISTORY_IMPORTED,
        SOURCE,
        data,
        correlation_id=str(image.get("correlationId") or ""),
        subject=str(image["batchId"]),
        event_id=history_event_id(str(image["batchId"])),
        time=str(image["importedAt"]),
    )


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one stream record stands for: one per transition it added (or the batch it imported)."""
    _name, old_image, new_image = stream_images(record)
    if new_image and new_image.get("entity") == HISTORY_BATCH:
        return [] if old_image else [history_event(new_image)]
    new = order_from_image(new_image)
    if new is None:
        return []
    order, correlation = new
    old = order_from_image(old_image)
    seen = len(old[0].history) if old else 0
    out = []
    for transition in order.history[seen:]:
        mapped = event_for(order, transition)
        if mapped is None:
            continue
        type_, data = mapped
        PUBLISHED[type_].model_validate(data)  # the published contract, checked before it leaves
        out.append(
            new_event(
                type_,
                SOURCE,
                data,
                correlation_id=correlation,
                subject=order.order_id,
                event_id=event_id(order.order_id, transition),
                time=transition.at,
            )
        )
    return out


handler = stream_handler(bootstrap.stream_publisher)
