"""The order service's errors; :mod:`gears_shared.http` maps each to its status and a problem+json body."""

from __future__ import annotations

from gears_shared.errors import BadRequest, BusinessRuleViolation, Conflict, NotFound


class OrderNotFound(NotFound):
    title = "Order not found"
    code = "order-not-found"


class OrderStateConflict(BusinessRuleViolation):
    """The order's status does not allow this (cancel after shipping, ship before payment, ...)."""

    title = "Not allowed in the order's current state"
    code = "order-state"


class StaleOrder(Conflict):
    """The order changed between the read and the write (optimistic concurrency); read it again."""

    title = "Order was changed"
    code = "stale-order"


class InvalidShipmentDetails(BadRequest):
    title = "Invalid shipment"
    code = "invalid-shipment"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class InvalidRange(BadRequest):
    title = "Invalid date range"
    code = "invalid-range"


class OrderNotReady(RuntimeError):
    """An event arrived before the change it follows (e.g. StockReserved before OrderPlaced): retry it later."""
