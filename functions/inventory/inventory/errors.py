"""The inventory service's errors; :mod:`gears_shared.http` maps each to its status and a problem+json body."""

from __future__ import annotations

from gears_shared.errors import BadRequest, BusinessRuleViolation, Conflict, NotFound


class SkuNotFound(NotFound):
    title = "SKU not found"
    code = "sku-not-found"


class BadSku(BadRequest):
    title = "Invalid SKU"
    code = "invalid-sku"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class StockRuleViolation(BusinessRuleViolation):
    """The change would break a stock rule: available below zero, a quantity out of range."""

    title = "Stock rule violated"
    code = "stock-rule"


class InsufficientStockError(BusinessRuleViolation):
    title = "Insufficient stock"
    code = "insufficient-stock"


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
