"""The inventory service's own errors, each one of the shared kinds (so it needs no row in the API's table).

The stock rules' errors live in :mod:`inventory.domain` (standard library only); :data:`inventory.api.ERRORS` maps
those.
"""

from __future__ import annotations

from gears_shared.errors import BadRequest, Conflict, NotFound


class SkuNotFound(NotFound):
    title = "SKU not found"
    code = "sku-not-found"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class DuplicateReceipt(Conflict):
    """A restock with this reference was already received for this SKU."""

    title = "Already received"
    code = "duplicate-receipt"


class StaleStock(Conflict):
    """A stock item changed between the read and the write; the use case reads again and retries."""

    title = "Stock changed meanwhile"
    code = "stale-stock"


class ReservationConflict(Conflict):
    """The reservation record exists already, or is no longer in the status the write expected."""

    title = "Reservation changed meanwhile"
    code = "reservation-conflict"
