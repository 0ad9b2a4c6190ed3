"""The CRM's own errors, each one of the shared kinds (which carry its status). Its rule errors
(:class:`crm.domain.CrmRuleError`) live in the domain; the API's ``ERRORS`` table gives their status."""

from __future__ import annotations

from gears_shared.consumers import EventNotReady as _NotReady
from gears_shared.errors import BadRequest, Conflict, NotFound


class CustomerNotFound(NotFound):
    title = "Customer not found"
    code = "customer-not-found"


class TicketNotFound(NotFound):
    title = "Ticket not found"
    code = "ticket-not-found"


class CampaignNotFound(NotFound):
    title = "Campaign not found"
    code = "campaign-not-found"


class InvalidTemplate(BadRequest):
    title = "Invalid template"
    code = "invalid-template"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class StaleItem(Conflict):
    """The item changed between the read and the write (optimistic concurrency); read it again."""

    title = "Changed meanwhile"
    code = "stale-item"


class DuplicateEvent(Exception):
    """The event was applied before: its timeline entry (or counted marker) is already written."""


class EventNotReady(_NotReady):
    """An event arrived before the one it follows (a payment before its order): retry it later."""
