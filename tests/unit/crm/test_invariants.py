"""``gears check`` over the CRM table's items: ticket message counts, campaign outcomes within what was targeted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crm.domain import Author, Campaign, CampaignStatus, Customer, Ticket, TicketMessage, TicketStatus, utc_iso
from crm.invariants import checks
from crm.store import campaign_item, customer_item, message_item, ticket_item
from gears_shared.dynamo import plain_item
from gears_shared.invariants import Shop
from tests.unit.crm.fakes import NOW

AT = utc_iso(NOW)


def ticket(count: int, messages: int) -> list[dict[str, Any]]:
    t = Ticket("t-1", "u-1", "Help", TicketStatus.OPEN, AT, AT, message_count=count)
    items = [plain_item(ticket_item(t))]
    for n in range(messages):
        m = TicketMessage("t-1", f"m-{n}", "u-1", "Help", Author.CUSTOMER, "u-1", "text", f"{AT}{n}")
        items.append(plain_item(message_item(m)))
    return items


def campaign(status: CampaignStatus, targeted: int, **counts: int) -> list[dict[str, Any]]:
    c = Campaign("c-1", "Spring", "champions", "S", "B", ("email",), AT, "admin-1")
    item = plain_item(campaign_item(c))
    item.update(status=status.value, targeted=targeted)
    return [item, {"entity": "CampaignCount", "campaignId": "c-1", **counts}]


def problems(items: list[dict[str, Any]], shop: Shop | None = None) -> dict[str, int]:
    return {c.name: c.problem_count for c in checks(items, shop or Shop(now=NOW))}


def test_a_quiet_table_passes() -> None:
    items = [
        *ticket(2, 2),
        *campaign(CampaignStatus.LAUNCHED, 10, sent=8, suppressed=2, delivered=7, failed=1),
        plain_item(customer_item(Customer("u-1", AT, orders_placed=2, orders_paid=1, spent=100))),
    ]
    assert set(problems(items).values()) == {0}


def test_each_broken_rule_is_reported() -> None:
    broken = problems(
        [
            *ticket(3, 2),
            *campaign(CampaignStatus.LAUNCHED, 5, sent=5, suppressed=1, delivered=6),
            plain_item(customer_item(Customer("u-1", AT, orders_placed=0, orders_paid=1))),
        ]
    )
    assert broken == {
        "crm: ticket message counts match their messages": 1,
        "crm: campaign outcomes within what was targeted": 2,
        "crm: customer order counters consistent": 1,
    }
    stuck = problems(campaign(CampaignStatus.LAUNCHING, 0), Shop(now=NOW + timedelta(hours=1)))
    assert stuck["crm: campaign outcomes within what was targeted"] == 1
