"""The order service's own errors, each one of the shared kinds (which carry its status). The order's rule errors
(:class:`orders.domain.IllegalTransition`, :class:`orders.domain.InvalidShipment`) live in the domain; the API's
``ERRORS`` table gives their status."""

from __future__ import annotations

from gears_shared.consumers import EventNotReady
from gears_shared.errors import BadRequest, Conflict, NotFound


class OrderNotFound(NotFound):
    title = "Order not found"
    code = "order-not-found"


class StaleOrder(Conflict):
    """The order changed between the read and the write (optimistic concurrency); read it again."""

    title = "Order was changed"
    code = "stale-order"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class InvalidRange(BadRequest):
    title = "Invalid date range"
    code = "invalid-range"


class OrderNotReady(EventNotReady):
    """An event arrived before the change it follows (e.g. StockReserved before OrderPlaced): retry it later."""
