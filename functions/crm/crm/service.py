"""The CRM's use cases: plain functions, each taking one command and its ports (stores declared here as Protocols;
``tests/unit/crm/fakes.py`` implements them in memory, ``crm.store`` over the table).

- **events** (``consumers.py``): each event becomes a :class:`Change`, the customer (and the order it concerns) saved
  at the version read together with the event's timeline entry, whose key names the event: a repeat finds the
  entry and changes nothing (:class:`DuplicateEvent`), a concurrent change is read again and decided again.
- **requests** (``api.py``): customers, interactions, tickets (the owner's own: another's is 404), segments,
  campaigns. Rule errors leave as the domain raised them; the API's error table says what each answers.
- **jobs**: the scheduled RFM recompute (:func:`recompute_segments`) and the campaign launcher
  (:func:`launch_campaign`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from crm import events as ev
from crm.domain import (
    BATCH_SIZE,
    CODE_PATTERN,
    COUNT_SHARDS,
    LISTING_SHARDS,
    TEMPLATE_VARIABLES,
    Attribution,
    Author,
    Campaign,
    CampaignBatch,
    CampaignCounts,
    CampaignStatus,
    Customer,
    Interaction,
    InteractionKind,
    OrderLink,
    OrderState,
    Receipt,
    ShardProgress,
    Ticket,
    TicketMessage,
    TicketStatus,
    TimelineEntry,
    TimelineKind,
    attributions,
    shard_of,
    utc_iso,
)
from crm.errors import (
    CampaignNotFound,
    CustomerNotFound,
    DuplicateEvent,
    EventNotReady,
    InvalidTemplate,
    StaleItem,
    TicketNotFound,
)
from crm.rfm import Boundaries, boundaries, parse_time, score, summarise
from gears_shared.auth import ADMIN, STAFF, Caller, require_owner, require_role
from gears_shared.clock import utc_now

Clock = Callable[[], datetime]
SAVE_ATTEMPTS = 5
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DETAIL_ITEMS = 50  # timeline entries and interactions shown with a customer
log = logging.getLogger("crm")


@dataclass(frozen=True)
class Change:
    """What one event does: its timeline entry (written once), the customer at the version read (0: new), the
    order it concerns (likewise) and the campaigns the order counts for."""

    entry: TimelineEntry
    customer: Customer
    order: OrderLink | None = None
    attributions: tuple[Attribution, ...] = ()


class CustomerStore(Protocol):
    def customer(self, user_id: str) -> Customer | None: ...

    def order(self, order_id: str) -> OrderLink | None: ...

    def record(self, change: Change) -> None:
        """Write the change in one transaction: :class:`DuplicateEvent` if its entry exists, :class:`StaleItem` if
        the customer or order moved on since read."""
        ...

    def receipts(self, user_id: str) -> list[Receipt]: ...

    def coded_campaigns(self, code: str) -> list[tuple[str, str]]:
        """``(campaignId, createdAt)`` of the campaigns that gave out ``code``."""
        ...

    def boundaries(self) -> Boundaries | None:
        """The RFM cut points of the last recompute."""
        ...

    def list_customers(
        self, *, segment: str | None, limit: int, position: str | None
    ) -> tuple[list[Customer], str | None]: ...

    def timeline(self, user_id: str, limit: int) -> list[TimelineEntry]: ...

    def interactions(self, user_id: str, limit: int) -> list[Interaction]: ...

    def add_interaction(self, interaction: Interaction) -> None: ...

    def count_outcome(self, event_id: str, campaign_id: str, shard: int, channel: str, outcome: str) -> bool:
        """Add one to the campaign's ``outcome`` counter (shard ``shard``); ``False`` if this event was counted."""
        ...

    def all_customers(self) -> Iterable[Customer]:
        """Every customer, through the sharded listing index (never a Scan)."""
        ...

    def save_score(self, customer: Customer) -> None:
        """The customer's new score and segment, if it is still at ``customer.version`` (else :class:`StaleItem`)."""
        ...

    def save_segments(self, summary: dict[str, Any]) -> None: ...

    def segments(self) -> dict[str, Any] | None: ...


class TicketStore(Protocol):
    def ticket(self, ticket_id: str) -> Ticket | None: ...

    def messages(self, ticket_id: str) -> list[TicketMessage]: ...

    def save_ticket(self, ticket: Ticket, message: TicketMessage | None = None) -> Ticket:
        """Store the ticket (new at version 0, else if still at ``ticket.version``) with its new message."""
        ...

    def tickets_of(self, user_id: str, *, limit: int, position: str | None) -> tuple[list[Ticket], str | None]: ...

    def tickets_by_status(
        self, statuses: list[TicketStatus], *, limit: int, position: str | None
    ) -> tuple[list[Ticket], str | None]: ...


class CampaignStore(Protocol):
    def add_campaign(self, campaign: Campaign) -> None: ...

    def campaign(self, campaign_id: str) -> Campaign | None: ...

    def counts(self, campaign_id: str) -> CampaignCounts: ...

    def progress(self, campaign_id: str) -> dict[int, ShardProgress]: ...

    def save_progress(self, campaign_id: str, shard: int, progress: ShardProgress) -> None: ...

    def members(self, segment: str, shard: int, *, after: str, limit: int) -> list[str]:
        """User ids of the segment's members in ``shard`` after ``after``, in order."""
        ...

    def add_batch(self, batch: CampaignBatch) -> tuple[str, ...]:
        """Write the batch unless its id is taken; the recipients of the batch stored under that id."""
        ...

    def add_receipts(self, campaign: Campaign, recipients: Iterable[str], sent_at: str) -> None: ...

    def finish(self, campaign_id: str, *, targeted: int, batches: int, at: str) -> None: ...


def clamp_limit(limit: int | None) -> int:
    return DEFAULT_LIMIT if limit is None else max(1, min(int(limit), MAX_LIMIT))


# -- events ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventContext:
    type: str
    id: str
    time: str
    correlation_id: str = ""


def _apply(store: CustomerStore, decide: Callable[[], Change | None]) -> str:
    """Decide and record, again on a concurrent change: ``applied``, ``duplicate`` or ``stale`` (nothing to do)."""
    for _ in range(SAVE_ATTEMPTS):
        change = decide()
        if change is None:
            return "stale"
        try:
            store.record(change)
        except DuplicateEvent:
            return "duplicate"
        except StaleItem:
            continue
        return "applied"
    raise StaleItem("The customer kept changing; the event is retried.")


def _entry(ctx: EventContext, user_id: str, kind: TimelineKind, **kw: Any) -> TimelineEntry:
    return TimelineEntry(user_id=user_id, at=ctx.time, event_id=ctx.id, kind=kind, **kw)


def _customer(store: CustomerStore, user_id: str, at: str) -> Customer:
    return store.customer(user_id) or Customer(user_id=user_id, first_seen_at=at)


def user_registered(data: ev.UserRegistered, ctx: EventContext, store: CustomerStore) -> str:
    at = data.registeredAt or ctx.time

    def decide() -> Change:
        customer = _customer(store, data.userId, at).with_contact(
            email=data.email, name=data.name, at=at, registered_at=at, full=False
        )
        return Change(_entry(ctx, data.userId, TimelineKind.REGISTERED), customer)

    return _apply(store, decide)


def profile_updated(data: ev.UserProfileUpdated, ctx: EventContext, store: CustomerStore) -> str:
    at = data.updatedAt or ctx.time

    def decide() -> Change:
        customer = _customer(store, data.userId, at).with_contact(
            email=data.email,
            name=data.name,
            phone=data.phone if data.phoneVerified else None,
            locale=data.locale,
            at=at,
        )
        return Change(_entry(ctx, data.userId, TimelineKind.PROFILE_UPDATED), customer)

    return _apply(store, decide)


def order_placed(data: ev.OrderPlaced, ctx: EventContext, store: CustomerStore) -> str:
    code = data.discount.code.upper() if data.discount else None

    def decide() -> Change | None:
        if store.order(data.orderId) is not None:
            return None  # the same order told twice (another event id): counted once
        link = OrderLink(data.orderId, data.userId, data.total.amount, data.placedAt, discount_code=code)
        customer = _customer(store, data.userId, data.placedAt).placed()
        entry = _entry(
            ctx,
            data.userId,
            TimelineKind.ORDER_PLACED,
            order_id=data.orderId,
            amount=data.total.amount,
            detail=f"code {code}" if code else None,
        )
        return Change(entry, customer, link)

    return _apply(store, decide)


# How long an order event waits for the order's OrderPlaced (another topic, so it may come second) before the
# event is applied from what it carries itself: an order placed before the CRM was deployed, or one that never
# passed through checkout, has no OrderPlaced to wait for, and a dead-letter queue would hold it for nothing.
ORDER_WAIT_S = 120


def _link(
    store: CustomerStore, order_id: str, user_id: str | None, ctx: EventContext, clock: Clock
) -> OrderLink | None:
    """The order as the CRM knows it; while the event is young and the order unknown, :class:`EventNotReady` (it
    comes back); after :data:`ORDER_WAIT_S`, an order opened from the event's own user (its discount code, if any,
    unknown), or ``None`` when the event names no user: nothing to apply it to."""
    link = store.order(order_id)
    if link is not None:
        return link
    age = (clock() - parse_time(ctx.time)).total_seconds()
    if age < ORDER_WAIT_S:
        raise EventNotReady(f"order {order_id} is not known yet")
    return OrderLink(order_id, user_id, 0, ctx.time) if user_id else None


def payment_succeeded(
    data: ev.PaymentSucceeded, ctx: EventContext, store: CustomerStore, *, clock: Clock = utc_now
) -> str:
    def decide() -> Change | None:
        link = _link(store, data.orderId, data.userId, ctx, clock)
        if link is None or link.state is OrderState.PAID:
            return None
        amount = data.amount.amount
        customer = _customer(store, link.user_id, ctx.time).paid(amount, link.placed_at)
        customer = customer.rescored(store.boundaries(), utc_iso(clock()))
        coded = store.coded_campaigns(link.discount_code) if link.discount_code else []
        earned = attributions(link, ctx.time, amount, store.receipts(link.user_id), coded)
        paid = replace(link, state=OrderState.PAID, paid=amount, paid_at=ctx.time)
        entry = _entry(ctx, link.user_id, TimelineKind.ORDER_PAID, order_id=link.order_id, amount=amount)
        return Change(entry, customer, paid, tuple(earned))

    return _apply(store, decide)


def payment_refunded(
    data: ev.PaymentRefunded, ctx: EventContext, store: CustomerStore, *, clock: Clock = utc_now
) -> str:
    def decide() -> Change | None:
        link = _link(store, data.orderId, data.userId, ctx, clock)
        if link is None:
            return None
        amount = data.amount.amount
        customer = (
            _customer(store, link.user_id, ctx.time).refund(amount).rescored(store.boundaries(), utc_iso(clock()))
        )
        entry = _entry(
            ctx, link.user_id, TimelineKind.ORDER_REFUNDED, order_id=link.order_id, amount=amount, detail=data.refundId
        )
        return Change(entry, customer, replace(link, refunded=link.refunded + amount))

    return _apply(store, decide)


def order_cancelled(data: ev.OrderCancelled, ctx: EventContext, store: CustomerStore, *, clock: Clock = utc_now) -> str:
    def decide() -> Change | None:
        link = _link(store, data.orderId, data.userId, ctx, clock)
        if link is None or link.cancelled:
            return None
        state = link.state if link.state is OrderState.PAID else OrderState.CANCELLED
        customer = _customer(store, link.user_id, ctx.time).cancelled()
        entry = _entry(ctx, link.user_id, TimelineKind.ORDER_CANCELLED, order_id=link.order_id, detail=data.reason)
        return Change(entry, customer, replace(link, state=state, cancelled=True))

    return _apply(store, decide)


def notification_outcome(data: ev.NotificationOutcome, ctx: EventContext, store: CustomerStore) -> str:
    """A campaign message's outcome, counted once on one of the campaign's counter shards; others are ignored."""
    if not data.campaignId:
        return "ignored"
    outcome = ev.NOTIFICATION_OUTCOMES[ctx.type]
    shard = shard_of(data.notificationId, COUNT_SHARDS)
    counted = store.count_outcome(ctx.id, data.campaignId, shard, data.channel, outcome)
    return "applied" if counted else "duplicate"


# -- customers ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListCustomers:
    caller: Caller
    segment: str | None = None
    limit: int | None = None
    position: str | None = None


def list_customers(query: ListCustomers, store: CustomerStore) -> tuple[list[Customer], str | None]:
    require_role(query.caller, *STAFF)
    return store.list_customers(segment=query.segment, limit=clamp_limit(query.limit), position=query.position)


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    timeline: list[TimelineEntry]
    interactions: list[Interaction]


def get_customer(caller: Caller, user_id: str, store: CustomerStore) -> CustomerDetail:
    require_role(caller, *STAFF)
    customer = store.customer(user_id)
    if customer is None:
        raise CustomerNotFound("There is no such customer.")
    return CustomerDetail(customer, store.timeline(user_id, DETAIL_ITEMS), store.interactions(user_id, DETAIL_ITEMS))


@dataclass(frozen=True)
class AddInteraction:
    caller: Caller
    user_id: str
    kind: InteractionKind
    text: str
    subject: str | None = None


DEFAULT_REPLY_SUBJECT = "A message from Gears customer support"


def add_interaction(cmd: AddInteraction, store: CustomerStore, *, clock: Clock = utc_now) -> Interaction:
    """A note (kept for staff) or a reply (also sent to the customer: SupportReplied, from the table's stream)."""
    require_role(cmd.caller, *STAFF)
    if store.customer(cmd.user_id) is None:
        raise CustomerNotFound("There is no such customer.")
    subject = (cmd.subject or DEFAULT_REPLY_SUBJECT) if cmd.kind is InteractionKind.REPLY else cmd.subject
    interaction = Interaction(
        str(uuid.uuid4()), cmd.user_id, cmd.kind, cmd.text, cmd.caller.user_id, utc_iso(clock()), subject
    )
    store.add_interaction(interaction)
    return interaction


# -- tickets -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenTicket:
    caller: Caller
    subject: str
    message: str
    order_id: str | None = None


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[TicketMessage]


def open_ticket(cmd: OpenTicket, tickets: TicketStore, *, clock: Clock = utc_now) -> TicketDetail:
    at = utc_iso(clock())
    ticket, message = Ticket.open(
        str(uuid.uuid4()), cmd.caller.user_id, cmd.subject, cmd.message, at, str(uuid.uuid4()), cmd.order_id
    )
    stored = tickets.save_ticket(ticket, message)
    return TicketDetail(stored, [message])


def _ticket(tickets: TicketStore, ticket_id: str, caller: Caller, *, staff: bool) -> Ticket:
    ticket = tickets.ticket(ticket_id)
    if ticket is None:
        raise TicketNotFound("There is no such ticket.")
    if staff:
        require_role(caller, *STAFF)
    else:
        require_owner(caller, ticket.user_id, privileged=(), what="ticket")
    return ticket


def get_ticket(caller: Caller, ticket_id: str, tickets: TicketStore, *, staff: bool = False) -> TicketDetail:
    """The ticket and its messages: its owner's (another customer's is 404), or any for staff on staff routes."""
    ticket = _ticket(tickets, ticket_id, caller, staff=staff)
    return TicketDetail(ticket, tickets.messages(ticket_id))


@dataclass(frozen=True)
class AddTicketMessage:
    caller: Caller
    ticket_id: str
    text: str
    staff: bool = False  # a staff reply (the staff route), else the owner's message


def add_ticket_message(cmd: AddTicketMessage, tickets: TicketStore, *, clock: Clock = utc_now) -> TicketDetail:
    author = Author.STAFF if cmd.staff else Author.CUSTOMER
    for _ in range(SAVE_ATTEMPTS):
        ticket = _ticket(tickets, cmd.ticket_id, cmd.caller, staff=cmd.staff)
        changed, message = ticket.add_message(author, cmd.caller.user_id, cmd.text, utc_iso(clock()), str(uuid.uuid4()))
        try:
            stored = tickets.save_ticket(changed, message)
        except StaleItem:
            continue
        return TicketDetail(stored, tickets.messages(cmd.ticket_id))
    raise StaleItem("The ticket kept changing; try again.")


@dataclass(frozen=True)
class UpdateTicket:
    caller: Caller
    ticket_id: str
    status: TicketStatus | None = None
    assignee: str | None = None
    unassign: bool = False


def update_ticket(cmd: UpdateTicket, tickets: TicketStore, *, clock: Clock = utc_now) -> Ticket:
    for _ in range(SAVE_ATTEMPTS):
        ticket = _ticket(tickets, cmd.ticket_id, cmd.caller, staff=True)
        changed = ticket.update(utc_iso(clock()), status=cmd.status, assignee=cmd.assignee, unassign=cmd.unassign)
        if changed == ticket:
            return ticket
        try:
            return tickets.save_ticket(changed)
        except StaleItem:
            continue
    raise StaleItem("The ticket kept changing; try again.")


def list_my_tickets(
    caller: Caller, tickets: TicketStore, *, limit: int | None, position: str | None
) -> tuple[list[Ticket], str | None]:
    return tickets.tickets_of(caller.user_id, limit=clamp_limit(limit), position=position)


def list_tickets(
    caller: Caller, tickets: TicketStore, statuses: list[TicketStatus], *, limit: int | None, position: str | None
) -> tuple[list[Ticket], str | None]:
    require_role(caller, *STAFF)
    return tickets.tickets_by_status(statuses or list(TicketStatus), limit=clamp_limit(limit), position=position)


# -- segments ----------------------------------------------------------------------------------------------------
def recompute_segments(store: CustomerStore, *, clock: Clock = utc_now) -> dict[str, Any]:
    """New cut points from every customer with a paid order, each customer re-scored (written only where the score
    changed), and the summary ``GET /admin/segments`` shows."""
    now = clock()
    at = utc_iso(now)
    customers = list(store.all_customers())
    active = [(c, a) for c in customers if (a := c.activity()) is not None]
    bounds = boundaries([a for _, a in active], now)
    changed = 0
    scored = []
    for customer, activity in active:
        assert bounds is not None
        new = score(activity, bounds)
        scored.append((activity, new))
        if customer.score != new:
            changed += _save_score(store, customer, bounds, at)
    summary = {
        "computedAt": at,
        "customers": len(customers),
        "scored": len(active),
        "boundaries": bounds.to_dict() if bounds else None,
        "segments": [s.to_dict() for s in summarise(scored)],
        "rescored": changed,
    }
    store.save_segments(summary)
    return summary


def _save_score(store: CustomerStore, customer: Customer, bounds: Boundaries, at: str) -> int:
    for _ in range(SAVE_ATTEMPTS):
        try:
            store.save_score(customer.rescored(bounds, at))
            return 1
        except StaleItem:
            fresh = store.customer(customer.user_id)
            if fresh is None:
                return 0
            customer = fresh
    log.warning("score not saved: the customer kept changing", extra={"userId": customer.user_id})
    return 0


def get_segments(caller: Caller, store: CustomerStore) -> dict[str, Any]:
    require_role(caller, ADMIN)
    return store.segments() or {
        "computedAt": None,
        "customers": 0,
        "scored": 0,
        "boundaries": None,
        "segments": [s.to_dict() for s in summarise([])],
        "rescored": 0,
    }


# -- campaigns ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateCampaign:
    caller: Caller
    name: str
    segment: str
    subject: str
    body: str
    channels: tuple[str, ...]
    discount_code: str | None = None
    window_days: int = 14


def check_template(field: str, source: str) -> None:
    """``source`` parses as a Jinja2 template in the sandbox and names no variable beyond the contract's
    (:data:`TEMPLATE_VARIABLES`); :class:`InvalidTemplate` (400) otherwise."""
    from jinja2 import TemplateSyntaxError, meta, nodes
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(autoescape=True)
    try:
        parsed = env.parse(source)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(f"{field}: line {exc.lineno}: {exc.message}", field=field, line=exc.lineno) from exc
    # The sandbox refuses these at render time anyway (for every recipient, after the campaign was accepted); an
    # attribute or key that starts with "_" is never a campaign's business, so it is refused before anything goes.
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise InvalidTemplate(f"{field}: {name!r} is not allowed in a campaign.", field=field, line=node.lineno)
    unknown = sorted(meta.find_undeclared_variables(parsed) - TEMPLATE_VARIABLES)
    if unknown:
        raise InvalidTemplate(
            f"{field}: unknown variable(s) {', '.join(unknown)}; a campaign may use "
            f"{', '.join(sorted(TEMPLATE_VARIABLES))}.",
            field=field,
        )


def create_campaign(cmd: CreateCampaign, campaigns: CampaignStore, *, clock: Clock = utc_now) -> Campaign:
    """Check the templates and write the campaign; its stream publishes CampaignCreated, which the launcher takes."""
    require_role(cmd.caller, ADMIN)
    check_template("subject", cmd.subject)
    check_template("body", cmd.body)
    code = cmd.discount_code.upper() if cmd.discount_code else None
    if code is not None and not CODE_PATTERN.match(code):
        raise InvalidTemplate("discountCode: not a discount code.", field="discountCode")
    campaign = Campaign(
        campaign_id=str(uuid.uuid4()),
        name=cmd.name,
        segment=cmd.segment,
        subject=cmd.subject,
        body=cmd.body,
        channels=tuple(dict.fromkeys(cmd.channels)),
        created_at=utc_iso(clock()),
        created_by=cmd.caller.user_id,
        window_days=cmd.window_days,
        discount_code=code,
    )
    campaigns.add_campaign(campaign)
    return campaign


def get_campaign(caller: Caller, campaign_id: str, campaigns: CampaignStore) -> tuple[Campaign, CampaignCounts]:
    require_role(caller, ADMIN)
    campaign = campaigns.campaign(campaign_id)
    if campaign is None:
        raise CampaignNotFound("There is no such campaign.")
    return campaign, campaigns.counts(campaign_id)


def launch_campaign(campaign_id: str, campaigns: CampaignStore, *, clock: Clock = utc_now) -> str:
    """Page the segment's members shard by shard into batches of :data:`BATCH_SIZE` with deterministic ids, each
    written once (its recipients then receipted for attribution), the progress kept on the campaign after each
    batch: a crashed launcher resumes where it stopped, and a batch written before the crash is kept as written."""
    campaign = campaigns.campaign(campaign_id)
    if campaign is None:
        raise EventNotReady(f"campaign {campaign_id} is not readable yet")
    if campaign.status is CampaignStatus.LAUNCHED:
        return "duplicate"
    progress = campaigns.progress(campaign_id)
    for shard in range(LISTING_SHARDS):
        p = progress.get(shard) or ShardProgress()
        while not p.done:
            members = campaigns.members(campaign.segment, shard, after=p.last, limit=BATCH_SIZE)
            if not members:
                p = ShardProgress(p.seq, p.last, p.count, done=True)
            else:
                batch = CampaignBatch(campaign, shard, p.seq + 1, tuple(members))
                stored = campaigns.add_batch(batch)
                campaigns.add_receipts(campaign, stored, utc_iso(clock()))
                p = ShardProgress(p.seq + 1, max(stored), p.count + len(stored), done=len(members) < BATCH_SIZE)
            campaigns.save_progress(campaign_id, shard, p)
        progress[shard] = p
    targeted = sum(p.count for p in progress.values())
    batches = sum(p.seq for p in progress.values())
    campaigns.finish(campaign_id, targeted=targeted, batches=batches, at=utc_iso(clock()))
    return "applied"
