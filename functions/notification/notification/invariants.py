"""What must hold of the notification table once the shop is quiet (``gears check``; see
:mod:`gears_shared.invariants`).

- **settled**: no message is left ``sending`` longer than ``in_flight_s`` (a claim whose worker died is taken over
  by the event's redelivery; one left for good means the event is parked in the dead-letter queue).
- **sent with an id**: every message sent, delivered or failed after a send carries the provider's message id (SES
  feedback finds an email by it), and every failed or suppressed one says why.
- **suppressed addresses honoured**: no email was sent to an address after it was suppressed.
- **one per channel**: no two messages share a (source, recipient, channel), campaigns counted per campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from notification.store import NOTIFICATION_ENTITY


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    settled = Check("notification: no message left sending")
    sent = Check("notification: sent messages carry the provider's id, settled ones a reason")
    honoured = Check("notification: no email sent to a suppressed address after it was suppressed")
    unique = Check("notification: at most one message per source, recipient and channel")
    notes: list[dict[str, Any]] = []
    suppressed: dict[str, tuple[str, str]] = {}  # address -> (when, the message whose feedback suppressed it)
    for item in items:
        if item.get("entity") == NOTIFICATION_ENTITY:
            notes.append(item)
        elif item.get("entity") == "SuppressedAddress":
            suppressed[str(item.get("email"))] = (str(item.get("at") or ""), str(item.get("notificationId") or ""))
    seen: dict[tuple[str, str, str], str] = {}
    for item in notes:
        _settled(item, settled, shop)
        _accounted(item, sent)
        _honoured(item, honoured, suppressed)
        unique.saw()
        source = str((item.get("campaignId") and f"campaign#{item['campaignId']}") or item.get("sourceEventId"))
        key = (source, str(item.get("userId")), str(item.get("channel")))
        if key in seen:
            unique.fail(f"{item.get('notificationId')} and {seen[key]} are both {key}")
        seen[key] = str(item.get("notificationId"))
    return [settled, sent, honoured, unique]


def _settled(item: dict[str, Any], check: Check, shop: Shop) -> None:
    check.saw()
    if item.get("state") == "sending" and shop.age_s(item.get("updatedAt")) > shop.in_flight_s:
        check.fail(f"{item.get('notificationId')} sending since {item.get('updatedAt')}")


def _accounted(item: dict[str, Any], check: Check) -> None:
    check.saw()
    note_id, state = item.get("notificationId"), item.get("state")
    if (state in ("sent", "delivered") or item.get("sentAt")) and not item.get("messageId"):
        check.fail(f"{note_id} is {state} without a provider message id")
    if state in ("failed", "suppressed") and not item.get("reason"):
        check.fail(f"{note_id} is {state} without a reason")


def _honoured(item: dict[str, Any], check: Check, suppressed: dict[str, tuple[str, str]]) -> None:
    if item.get("channel") != "email" or not item.get("sentAt"):
        return
    check.saw()
    address = str(item.get("address") or "").lower()
    since, by = suppressed.get(address, ("", ""))
    if since and str(item["sentAt"]) > since and item.get("notificationId") != by:
        check.fail(f"{item.get('notificationId')} went to {address} after it was suppressed at {since}")
