"""In-memory fakes of the CRM's ports (customers, tickets, campaigns), with the table's rules: an event's entry is
written once, customers, orders and tickets are saved at the version read, a batch id is taken once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from crm.domain import (
    LISTING_SHARDS,
    Campaign,
    CampaignBatch,
    CampaignCounts,
    CampaignStatus,
    Customer,
    Interaction,
    OrderLink,
    Receipt,
    ShardProgress,
    Ticket,
    TicketMessage,
    TicketStatus,
    TimelineEntry,
    shard_of,
)
from crm.errors import DuplicateEvent, StaleItem
from crm.rfm import Boundaries
from crm.service import Change
from gears_shared.auth import Caller

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADMIN = Caller("admin-1", frozenset({"admin", "customer"}))
SUPPORT = Caller("support-1", frozenset({"support"}))


def customer_caller(user_id: str) -> Caller:
    return Caller(user_id, frozenset({"customer"}))


class FakeCrm:
    """:class:`crm.service.CustomerStore`, ``TicketStore`` and ``CampaignStore`` in dicts."""

    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.orders: dict[str, OrderLink] = {}
        self.entries: dict[tuple[str, str], TimelineEntry] = {}
        self.interactions_: list[Interaction] = []
        self.receipts_: dict[tuple[str, str], Receipt] = {}
        self.codes: dict[str, list[tuple[str, str]]] = {}
        self.counters: dict[tuple[str, int], dict[str, int]] = {}
        self.counted: set[str] = set()
        self.summary: dict[str, Any] | None = None
        self.tickets: dict[str, Ticket] = {}
        self.messages_: dict[str, list[TicketMessage]] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.progress_: dict[str, dict[int, ShardProgress]] = {}
        self.batches: dict[str, CampaignBatch] = {}
        self.fail_batch_after: int | None = None  # a crash after this many batches were written

    # -- customers -------------------------------------------------------------------------------------------
    def customer(self, user_id: str) -> Customer | None:
        return self.customers.get(user_id)

    def order(self, order_id: str) -> OrderLink | None:
        return self.orders.get(order_id)

    def record(self, change: Change) -> None:
        key = (change.entry.user_id, f"{change.entry.at}#{change.entry.event_id}")
        if key in self.entries:
            raise DuplicateEvent("applied before")
        current = self.customers.get(change.customer.user_id)
        if (current.version if current else 0) != change.customer.version:
            raise StaleItem("customer changed")
        if change.order is not None:
            link = self.orders.get(change.order.order_id)
            if (link.version if link else 0) != change.order.version:
                raise StaleItem("order changed")
            self.orders[change.order.order_id] = replace(change.order, version=change.order.version + 1)
        self.entries[key] = change.entry
        self.customers[change.customer.user_id] = replace(change.customer, version=change.customer.version + 1)
        for a in change.attributions:
            counter = self.counters.setdefault((a.campaign_id, 0), {})
            counter["attributedOrders"] = counter.get("attributedOrders", 0) + 1
            counter["attributedRevenue"] = counter.get("attributedRevenue", 0) + a.amount

    def receipts(self, user_id: str) -> list[Receipt]:
        return [r for (uid, _), r in sorted(self.receipts_.items()) if uid == user_id]

    def coded_campaigns(self, code: str) -> list[tuple[str, str]]:
        return list(self.codes.get(code, []))

    def boundaries(self) -> Boundaries | None:
        raw = (self.summary or {}).get("boundaries")
        return Boundaries.from_dict(raw) if raw else None

    def list_customers(
        self, *, segment: str | None, limit: int, position: str | None
    ) -> tuple[list[Customer], str | None]:
        if segment:
            keyed = sorted((c.user_id, c) for c in self.customers.values() if c.segment == segment)
            keyed = [(k, c) for k, c in keyed if position is None or k > position]
        else:
            keyed = sorted(((f"{c.first_seen_at}#{c.user_id}", c) for c in self.customers.values()), reverse=True)
            keyed = [(k, c) for k, c in keyed if position is None or k < position]
        page = keyed[:limit]
        return [c for _, c in page], (page[-1][0] if len(keyed) > limit else None)

    def timeline(self, user_id: str, limit: int) -> list[TimelineEntry]:
        mine = sorted(((k, e) for (uid, k), e in self.entries.items() if uid == user_id), reverse=True)
        return [e for _, e in mine[:limit]]

    def interactions(self, user_id: str, limit: int) -> list[Interaction]:
        mine = sorted((i for i in self.interactions_ if i.user_id == user_id), key=lambda i: i.at, reverse=True)
        return mine[:limit]

    def add_interaction(self, interaction: Interaction) -> None:
        self.interactions_.append(interaction)

    def count_outcome(self, event_id: str, campaign_id: str, shard: int, channel: str, outcome: str) -> bool:
        if event_id in self.counted:
            return False
        self.counted.add(event_id)
        counter = self.counters.setdefault((campaign_id, shard), {})
        for key in (outcome, f"{channel}#{outcome}"):
            counter[key] = counter.get(key, 0) + 1
        return True

    def all_customers(self) -> Iterator[Customer]:
        yield from list(self.customers.values())

    def save_score(self, customer: Customer) -> None:
        current = self.customers.get(customer.user_id)
        if current is None or current.version != customer.version:
            raise StaleItem("customer changed")
        self.customers[customer.user_id] = replace(customer, version=customer.version + 1)

    def save_segments(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def segments(self) -> dict[str, Any] | None:
        return self.summary

    # -- tickets ---------------------------------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def messages(self, ticket_id: str) -> list[TicketMessage]:
        return sorted(self.messages_.get(ticket_id, []), key=lambda m: m.at)

    def save_ticket(self, ticket: Ticket, message: TicketMessage | None = None) -> Ticket:
        current = self.tickets.get(ticket.ticket_id)
        if (current.version if current else 0) != ticket.version:
            raise StaleItem("ticket changed")
        stored = replace(ticket, version=ticket.version + 1)
        self.tickets[ticket.ticket_id] = stored
        if message is not None:
            self.messages_.setdefault(ticket.ticket_id, []).append(message)
        return stored

    def tickets_of(self, user_id: str, *, limit: int, position: str | None) -> tuple[list[Ticket], str | None]:
        keyed = sorted(
            ((f"{t.created_at}#{t.ticket_id}", t) for t in self.tickets.values() if t.user_id == user_id), reverse=True
        )
        keyed = [(k, t) for k, t in keyed if position is None or k < position]
        page = keyed[:limit]
        return [t for _, t in page], (page[-1][0] if len(keyed) > limit else None)

    def tickets_by_status(
        self, statuses: list[TicketStatus], *, limit: int, position: str | None
    ) -> tuple[list[Ticket], str | None]:
        keyed = sorted(
            ((f"{t.updated_at}#{t.ticket_id}", t) for t in self.tickets.values() if t.status in statuses), reverse=True
        )
        keyed = [(k, t) for k, t in keyed if position is None or k < position]
        page = keyed[:limit]
        return [t for _, t in page], (page[-1][0] if len(keyed) > limit else None)

    # -- campaigns -------------------------------------------------------------------------------------------
    def add_campaign(self, campaign: Campaign) -> None:
        self.campaigns[campaign.campaign_id] = campaign
        self.progress_[campaign.campaign_id] = {}
        if campaign.discount_code:
            self.codes.setdefault(campaign.discount_code, []).append((campaign.campaign_id, campaign.created_at))

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self.campaigns.get(campaign_id)

    def counts(self, campaign_id: str) -> CampaignCounts:
        counts = CampaignCounts()
        for (cid, _), counter in self.counters.items():
            if cid == campaign_id:
                counts.add(counter)
        return counts

    def progress(self, campaign_id: str) -> dict[int, ShardProgress]:
        return {k: ShardProgress(**vars(v)) for k, v in self.progress_.get(campaign_id, {}).items()}

    def save_progress(self, campaign_id: str, shard: int, progress: ShardProgress) -> None:
        self.progress_.setdefault(campaign_id, {})[shard] = ShardProgress(**vars(progress))

    def members(self, segment: str, shard: int, *, after: str, limit: int) -> list[str]:
        ids = sorted(
            c.user_id
            for c in self.customers.values()
            if c.segment == segment and shard_of(c.user_id, LISTING_SHARDS) == shard and c.user_id > after
        )
        return ids[:limit]

    def add_batch(self, batch: CampaignBatch) -> tuple[str, ...]:
        if batch.batch_id in self.batches:
            return self.batches[batch.batch_id].recipients
        if self.fail_batch_after is not None and len(self.batches) >= self.fail_batch_after:
            raise RuntimeError("the launcher crashed")
        self.batches[batch.batch_id] = batch
        return batch.recipients

    def add_receipts(self, campaign: Campaign, recipients: Iterable[str], sent_at: str) -> None:
        for user_id in recipients:
            self.receipts_[(user_id, campaign.campaign_id)] = Receipt(
                campaign.campaign_id, sent_at, campaign.until(sent_at)
            )

    def finish(self, campaign_id: str, *, targeted: int, batches: int, at: str) -> None:
        c = self.campaigns[campaign_id]
        if c.status is CampaignStatus.LAUNCHING:
            self.campaigns[campaign_id] = replace(
                c, status=CampaignStatus.LAUNCHED, targeted=targeted, batches=batches, launched_at=at
            )
