"""Analytics' own errors, each one of the shared kinds (which carry its status)."""

from __future__ import annotations

from gears_shared.consumers import EventNotReady as _NotReady
from gears_shared.errors import BadRequest, BusinessRuleViolation


class InvalidParameter(BadRequest):
    title = "Invalid query parameter"
    code = "invalid-parameter"


class NotEnoughHistory(BusinessRuleViolation):
    title = "Not enough history"
    code = "not-enough-history"


class EventNotReady(_NotReady):
    """An event came before what it needs (a refund before its paid order, a sale before its products): retry."""
