"""The CRM's domain: customers as the shop's events describe them, support tickets, campaigns. Standard library only.

- :class:`Customer`: contact details (newest wins: an older profile event changes nothing), the order summary (paid
  orders, money spent and refunded, first and last order) and the RFM score; lifetime value is spent less refunded.
- :class:`OrderLink`: what the CRM keeps of an order (whose, its total, its discount code), so that a payment, a
  refund or a cancellation finds its customer and its campaign.
- :class:`Ticket` and :class:`TicketMessage`: a customer's message opens (or reopens) a ticket, a staff reply puts it
  in ``pending`` (waiting for the customer); only staff close it.
- :class:`Campaign`: a promotion to one named segment, sent in batches of at most :data:`BATCH_SIZE`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from crm.rfm import SEGMENTS, Activity, Boundaries, Score, parse_time, score

CURRENCY = "GBP"
LISTING_SHARDS = 8  # customers listed, segments' members and tickets by status: each spread over this many keys
COUNT_SHARDS = 10  # a campaign's counters: a 10,000-member campaign's events spread over this many items
BATCH_SIZE = 50  # recipients per CampaignBatchReady
MAX_TICKET_MESSAGES = 200
MAX_TEXT = 5000
MAX_SUBJECT = 200
MAX_BODY = 20_000
CHANNELS = ("email", "sms", "push")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
TEMPLATE_VARIABLES = frozenset({"name", "first_name", "discount_code"})


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shard_of(key: str, shards: int) -> int:
    """A stable shard for ``key`` (the same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % shards


class CrmRuleError(Exception):
    """A rule of the CRM refused the change (answers 422)."""

    title = "Not allowed"
    code = "crm-rule"


class TicketClosedForStaff(CrmRuleError):
    title = "Ticket closed"
    code = "ticket-closed"


class TicketFull(CrmRuleError):
    title = "Ticket full"
    code = "ticket-full"


# -- customers ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Customer:
    user_id: str
    first_seen_at: str  # the first event that told of the customer: the listing's order
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    locale: str | None = None
    registered_at: str | None = None
    contact_at: str | None = None  # when the contact details kept were current (newest wins)
    orders_placed: int = 0
    orders_paid: int = 0
    orders_cancelled: int = 0
    spent: int = 0
    refunded: int = 0
    first_order_at: str | None = None
    last_order_at: str | None = None
    score: Score | None = None
    scored_at: str | None = None
    version: int = 0

    @property
    def lifetime_value(self) -> int:
        return self.spent - self.refunded

    @property
    def segment(self) -> str | None:
        return self.score.segment if self.score else None

    def with_contact(
        self,
        *,
        email: str | None,
        name: str | None,
        at: str,
        phone: str | None = None,
        locale: str | None = None,
        registered_at: str | None = None,
        full: bool = True,
    ) -> Customer:
        """The contact details as of ``at``; an older event than the details kept changes only what was missing.
        ``full``: the event tells every field (a profile update), so a missing phone is a removed one."""
        current = replace(self, registered_at=self.registered_at or registered_at)
        if current.contact_at and at < current.contact_at:
            return replace(current, email=current.email or email, name=current.name or name)
        changes: dict[str, Any] = {"email": email or current.email, "contact_at": at}
        if full:
            changes.update(name=name, phone=phone, locale=locale)
        elif name:
            changes["name"] = name
        return replace(current, **changes)

    def placed(self) -> Customer:
        return replace(self, orders_placed=self.orders_placed + 1)

    def paid(self, amount: int, placed_at: str) -> Customer:
        first = min(self.first_order_at or placed_at, placed_at)
        last = max(self.last_order_at or placed_at, placed_at)
        return replace(
            self, orders_paid=self.orders_paid + 1, spent=self.spent + amount, first_order_at=first, last_order_at=last
        )

    def refund(self, amount: int) -> Customer:
        return replace(self, refunded=self.refunded + amount)

    def cancelled(self) -> Customer:
        return replace(self, orders_cancelled=self.orders_cancelled + 1)

    def activity(self) -> Activity | None:
        """What RFM scores of this customer; ``None`` before a paid order."""
        if not self.orders_paid or not self.last_order_at:
            return None
        return Activity(self.user_id, parse_time(self.last_order_at), self.orders_paid, self.lifetime_value)

    def rescored(self, bounds: Boundaries | None, at: str) -> Customer:
        """Scored against ``bounds`` (unchanged without them, or before a paid order)."""
        activity = self.activity()
        if bounds is None or activity is None:
            return self
        return replace(self, score=score(activity, bounds), scored_at=at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "firstSeenAt": self.first_seen_at,
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "locale": self.locale,
            "registeredAt": self.registered_at,
            "contactAt": self.contact_at,
            "ordersPlaced": self.orders_placed,
            "ordersPaid": self.orders_paid,
            "ordersCancelled": self.orders_cancelled,
            "spent": self.spent,
            "refunded": self.refunded,
            "firstOrderAt": self.first_order_at,
            "lastOrderAt": self.last_order_at,
            "score": self.score.to_dict() if self.score else None,
            "scoredAt": self.scored_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], version: int = 0) -> Customer:
        s = data.get("score")
        return cls(
            user_id=data["userId"],
            first_seen_at=data.get("firstSeenAt") or "",
            email=data.get("email"),
            name=data.get("name"),
            phone=data.get("phone"),
            locale=data.get("locale"),
            registered_at=data.get("registeredAt"),
            contact_at=data.get("contactAt"),
            orders_placed=int(data.get("ordersPlaced") or 0),
            orders_paid=int(data.get("ordersPaid") or 0),
            orders_cancelled=int(data.get("ordersCancelled") or 0),
            spent=int(data.get("spent") or 0),
            refunded=int(data.get("refunded") or 0),
            first_order_at=data.get("firstOrderAt"),
            last_order_at=data.get("lastOrderAt"),
            score=Score(int(s["r"]), int(s["f"]), int(s["m"]), str(s["segment"])) if s else None,
            scored_at=data.get("scoredAt"),
            version=version,
        )


class OrderState(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OrderLink:
    order_id: str
    user_id: str
    total: int
    placed_at: str
    discount_code: str | None = None
    state: OrderState = OrderState.PLACED
    paid: int = 0
    refunded: int = 0
    paid_at: str | None = None
    cancelled: bool = False
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "userId": self.user_id,
            "total": self.total,
            "placedAt": self.placed_at,
            "discountCode": self.discount_code,
            "state": self.state.value,
            "paid": self.paid,
            "refunded": self.refunded,
            "paidAt": self.paid_at,
            "cancelled": self.cancelled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], version: int = 0) -> OrderLink:
        return cls(
            order_id=data["orderId"],
            user_id=data["userId"],
            total=int(data.get("total") or 0),
            placed_at=data["placedAt"],
            discount_code=data.get("discountCode"),
            state=OrderState(data.get("state") or "placed"),
            paid=int(data.get("paid") or 0),
            refunded=int(data.get("refunded") or 0),
            paid_at=data.get("paidAt"),
            cancelled=bool(data.get("cancelled")),
            version=version,
        )


class TimelineKind(StrEnum):
    REGISTERED = "registered"
    PROFILE_UPDATED = "profile-updated"
    ORDER_PLACED = "order-placed"
    ORDER_PAID = "order-paid"
    ORDER_REFUNDED = "order-refunded"
    ORDER_CANCELLED = "order-cancelled"


@dataclass(frozen=True)
class TimelineEntry:
    """One event in a customer's timeline. Its key (time and event id) is written once: a repeat of the event finds
    it there and changes nothing."""

    user_id: str
    at: str
    event_id: str
    kind: TimelineKind
    order_id: str | None = None
    amount: int | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        amount = {"amount": self.amount, "currency": CURRENCY} if self.amount is not None else None
        return {
            "at": self.at,
            "kind": self.kind.value,
            "orderId": self.order_id,
            "amount": amount,
            "detail": self.detail,
            "eventId": self.event_id,
        }


@dataclass(frozen=True)
class Attribution:
    """An order paid that a campaign earns: ``why`` is ``window`` (a recipient paid within the window) or ``code``."""

    campaign_id: str
    order_id: str
    amount: int
    why: str


@dataclass(frozen=True)
class Receipt:
    """A customer targeted by a campaign: orders they pay until ``until`` count for it."""

    campaign_id: str
    sent_at: str
    until: str


def attributions(
    order: OrderLink, paid_at: str, amount: int, receipts: list[Receipt], coded: list[tuple[str, str]]
) -> list[Attribution]:
    """The campaigns an order paid at ``paid_at`` counts for, each once: those whose recipient paid within the
    window after the send, and those whose code the order used (placed after the campaign was created;
    ``coded`` is ``(campaignId, createdAt)``)."""
    out: dict[str, Attribution] = {}
    for receipt in receipts:
        if receipt.sent_at <= paid_at <= receipt.until:
            out[receipt.campaign_id] = Attribution(receipt.campaign_id, order.order_id, amount, "window")
    for campaign_id, created_at in coded:
        if campaign_id not in out and order.placed_at >= created_at:
            out[campaign_id] = Attribution(campaign_id, order.order_id, amount, "code")
    return sorted(out.values(), key=lambda a: a.campaign_id)


# -- interactions and tickets ------------------------------------------------------------------------------------
class InteractionKind(StrEnum):
    NOTE = "note"
    REPLY = "reply"


@dataclass(frozen=True)
class Interaction:
    interaction_id: str
    user_id: str
    kind: InteractionKind
    text: str
    by: str
    at: str
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "interactionId": self.interaction_id,
            "userId": self.user_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "text": self.text,
            "by": self.by,
            "at": self.at,
        }


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class Author(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


@dataclass(frozen=True)
class TicketMessage:
    ticket_id: str
    message_id: str
    user_id: str  # the ticket's owner
    subject: str  # the ticket's, so a reply's event says what it answers
    author: Author
    author_id: str
    text: str
    at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "by": self.author.value,
            "authorId": self.author_id,
            "text": self.text,
            "at": self.at,
        }


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    user_id: str
    subject: str
    status: TicketStatus
    created_at: str
    updated_at: str
    order_id: str | None = None
    assignee: str | None = None
    message_count: int = 0
    version: int = 0

    @classmethod
    def open(
        cls, ticket_id: str, user_id: str, subject: str, text: str, at: str, message_id: str, order_id: str | None
    ) -> tuple[Ticket, TicketMessage]:
        ticket = cls(ticket_id, user_id, subject, TicketStatus.OPEN, at, at, order_id=order_id)
        return ticket.add_message(Author.CUSTOMER, user_id, text, at, message_id)

    def add_message(
        self, author: Author, author_id: str, text: str, at: str, message_id: str
    ) -> tuple[Ticket, TicketMessage]:
        """A customer's message (re)opens the ticket; a staff reply waits for the customer (``pending``). Staff do
        not write on a closed ticket (they reopen it first), and a ticket holds :data:`MAX_TICKET_MESSAGES`."""
        if self.message_count >= MAX_TICKET_MESSAGES:
            raise TicketFull(f"A ticket holds at most {MAX_TICKET_MESSAGES} messages; open a new one.")
        if author is Author.STAFF and self.status is TicketStatus.CLOSED:
            raise TicketClosedForStaff("The ticket is closed; reopen it (status open) before replying.")
        status = TicketStatus.OPEN if author is Author.CUSTOMER else TicketStatus.PENDING
        message = TicketMessage(self.ticket_id, message_id, self.user_id, self.subject, author, author_id, text, at)
        return replace(
            self, status=status, updated_at=max(at, self.updated_at), message_count=self.message_count + 1
        ), (message)

    def update(
        self, at: str, *, status: TicketStatus | None = None, assignee: str | None = None, unassign: bool = False
    ) -> Ticket:
        return replace(
            self,
            status=status or self.status,
            assignee=None if unassign else (assignee or self.assignee),
            updated_at=max(at, self.updated_at),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticketId": self.ticket_id,
            "userId": self.user_id,
            "subject": self.subject,
            "status": self.status.value,
            "orderId": self.order_id,
            "assignee": self.assignee,
            "messageCount": self.message_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], version: int = 0) -> Ticket:
        return cls(
            ticket_id=data["ticketId"],
            user_id=data["userId"],
            subject=data["subject"],
            status=TicketStatus(data["status"]),
            created_at=data["createdAt"],
            updated_at=data["updatedAt"],
            order_id=data.get("orderId"),
            assignee=data.get("assignee"),
            message_count=int(data.get("messageCount") or 0),
            version=version,
        )


# -- campaigns ---------------------------------------------------------------------------------------------------
class CampaignStatus(StrEnum):
    LAUNCHING = "launching"
    LAUNCHED = "launched"


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    segment: str
    subject: str
    body: str
    channels: tuple[str, ...]
    created_at: str
    created_by: str
    window_days: int = 14
    discount_code: str | None = None
    status: CampaignStatus = CampaignStatus.LAUNCHING
    targeted: int | None = None
    batches: int | None = None
    launched_at: str | None = None

    def __post_init__(self) -> None:
        if self.segment not in SEGMENTS:
            raise ValueError(f"unknown segment {self.segment!r}")

    def until(self, sent_at: str) -> str:
        """The end of the attribution window of a send at ``sent_at``."""
        return utc_iso(parse_time(sent_at) + timedelta(days=self.window_days))

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaignId": self.campaign_id,
            "name": self.name,
            "segment": self.segment,
            "subject": self.subject,
            "body": self.body,
            "channels": list(self.channels),
            "discountCode": self.discount_code,
            "attributionWindowDays": self.window_days,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "status": self.status.value,
            "targeted": self.targeted,
            "batches": self.batches,
            "launchedAt": self.launched_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Campaign:
        return cls(
            campaign_id=data["campaignId"],
            name=data["name"],
            segment=data["segment"],
            subject=data["subject"],
            body=data["body"],
            channels=tuple(data["channels"]),
            created_at=data["createdAt"],
            created_by=data.get("createdBy") or "",
            window_days=int(data.get("attributionWindowDays") or 14),
            discount_code=data.get("discountCode"),
            status=CampaignStatus(data.get("status") or "launching"),
            targeted=None if data.get("targeted") is None else int(data["targeted"]),
            batches=None if data.get("batches") is None else int(data["batches"]),
            launched_at=data.get("launchedAt"),
        )


@dataclass(frozen=True)
class CampaignBatch:
    campaign: Campaign
    shard: int
    seq: int
    recipients: tuple[str, ...]

    @property
    def batch_id(self) -> str:
        return batch_id(self.campaign.campaign_id, self.shard, self.seq)


def batch_id(campaign_id: str, shard: int, seq: int) -> str:
    """A batch's id: the same members' page of the same shard always has the same id."""
    return f"{campaign_id}-{shard:02d}-{seq:05d}"


@dataclass
class ShardProgress:
    """How far the launcher went in one shard of the segment: the batches written, the last member in them."""

    seq: int = 0
    last: str = ""
    count: int = 0
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "last": self.last, "count": self.count, "done": self.done}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ShardProgress:
        data = data or {}
        return cls(
            int(data.get("seq") or 0), str(data.get("last") or ""), int(data.get("count") or 0), bool(data.get("done"))
        )


OUTCOMES = ("sent", "delivered", "suppressed", "failed")


@dataclass
class CampaignCounts:
    sent: int = 0
    delivered: int = 0
    suppressed: int = 0
    failed: int = 0
    attributed_orders: int = 0
    attributed_revenue: int = 0
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, other: dict[str, Any]) -> None:
        for outcome in OUTCOMES:
            setattr(self, outcome, getattr(self, outcome) + int(other.get(outcome) or 0))
        self.attributed_orders += int(other.get("attributedOrders") or 0)
        self.attributed_revenue += int(other.get("attributedRevenue") or 0)
        for key, value in other.items():
            if "#" in key:  # "<channel>#<outcome>"
                channel, outcome = key.split("#", 1)
                per = self.by_channel.setdefault(channel, dict.fromkeys(OUTCOMES, 0))
                per[outcome] = per.get(outcome, 0) + int(value or 0)
