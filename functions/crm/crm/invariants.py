"""What must hold of the CRM table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **tickets**: each ticket's message count is the number of its messages.
- **campaigns**: a launched campaign's outcome counts stay within what it targeted (sent and suppressed at most
  targeted times its channels; delivered at most sent), and no campaign is left launching.
- **customers**: a customer's counters are never negative and its paid orders never exceed those placed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from crm.domain import CampaignCounts
from crm.store import CAMPAIGN, COUNT, CUSTOMER, MESSAGE, TICKET
from gears_shared.invariants import Check, Shop


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    tickets, campaigns, customers = (
        Check("crm: ticket message counts match their messages"),
        Check("crm: campaign outcomes within what was targeted"),
        Check("crm: customer order counters consistent"),
    )
    declared: dict[str, int] = {}
    found: Counter[str] = Counter()
    launched: dict[str, dict[str, Any]] = {}
    counts: dict[str, CampaignCounts] = {}
    for item in items:
        entity = item.get("entity")
        if entity == TICKET:
            declared[str(item["pk"])] = int((item.get("ticket") or {}).get("messageCount") or 0)
        elif entity == MESSAGE:
            found[str(item["pk"])] += 1
        elif entity == CAMPAIGN:
            launched[str(item["pk"]).removeprefix("CAMPAIGN#")] = item
        elif entity == COUNT:
            counts.setdefault(str(item.get("campaignId")), CampaignCounts()).add(item)
        elif entity == CUSTOMER:
            customers.saw()
            _customer(item, customers)
    for pk, count in declared.items():
        tickets.saw()
        if found[pk] != count:
            tickets.fail(f"{pk}: says {count} messages, has {found[pk]}")
    for campaign_id, item in launched.items():
        campaigns.saw()
        _campaign(campaign_id, item, counts.get(campaign_id) or CampaignCounts(), campaigns, shop)
    return [tickets, campaigns, customers]


def _campaign(campaign_id: str, item: dict[str, Any], c: CampaignCounts, check: Check, shop: Shop) -> None:
    document = item.get("campaign") or {}
    if item.get("status") != "launched":
        if shop.age_s(document.get("createdAt")) > shop.in_flight_s:
            check.fail(f"{campaign_id} still launching")
        return
    most = int(item.get("targeted") or 0) * max(len(document.get("channels") or []), 1)
    if c.sent + c.suppressed > most or c.failed > most:
        check.fail(f"{campaign_id}: sent {c.sent} + suppressed {c.suppressed} (failed {c.failed}) over {most}")
    if c.delivered > c.sent:
        check.fail(f"{campaign_id}: delivered {c.delivered} over sent {c.sent}")


def _customer(item: dict[str, Any], check: Check) -> None:
    c = item.get("customer") or {}
    numbers = ("ordersPlaced", "ordersPaid", "ordersCancelled", "spent", "refunded")
    if any(int(c.get(n) or 0) < 0 for n in numbers):
        check.fail(f"{item.get('userId')}: a negative counter")
    if int(c.get("ordersPaid") or 0) > int(c.get("ordersPlaced") or 0):
        check.fail(f"{item.get('userId')}: {c.get('ordersPaid')} paid of {c.get('ordersPlaced')} placed")
