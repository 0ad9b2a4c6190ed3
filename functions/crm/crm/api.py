"""The CRM's HTTP functions, one resolver per permission profile: ``CrmCustomersFunction`` (support, admin: customers
and interactions), ``CrmTicketsFunction`` (any signed-in customer: their own tickets), ``CrmSupportFunction``
(support, admin: every ticket) and ``CrmAdminFunction`` (admin: segments and campaigns).

Roles are checked before a body is read (403, never 400, for a caller without the role). Bad input is 400 and
changes nothing; another customer's ticket is 404.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm import bootstrap, service
from crm.domain import (
    CHANNELS,
    CURRENCY,
    MAX_BODY,
    MAX_SUBJECT,
    MAX_TEXT,
    Campaign,
    CampaignCounts,
    CrmRuleError,
    Customer,
    InteractionKind,
    Ticket,
    TicketStatus,
)
from crm.errors import InvalidCursor
from crm.rfm import SEGMENTS
from crm.store import DynamoCrm
from gears_shared.answers import Answer, Money, Timestamp
from gears_shared.auth import ADMIN, STAFF
from gears_shared.errors import BadRequest
from gears_shared.http import (
    create_resolver,
    current_caller,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    page_limit,
    query_param,
    request_body,
)

ERRORS: dict[type[BaseException], int] = {CrmRuleError: 422}
MAX_CURSOR = 1024

Store = Annotated[DynamoCrm, Depends(bootstrap.crm_store)]
Segment = Literal["champions", "loyal", "potential-loyalists", "new", "at-risk", "cant-lose", "hibernating", "lost"]
assert set(Segment.__args__) == set(SEGMENTS)  # type: ignore[attr-defined]
Channel = Literal["email", "sms", "push"]
assert set(Channel.__args__) == set(CHANNELS)  # type: ignore[attr-defined]
Status = Literal["open", "pending", "closed"]
assert set(Status.__args__) == set(TicketStatus)  # type: ignore[attr-defined]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\t]")


def _text(value: str) -> str:
    """Plain text: no control characters but line breaks and tabs, and not only blanks."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _line(value: str) -> str:
    """One line of text: no control characters at all, trimmed, not blank."""
    _text(value)
    if _LINE_BREAK.search(value):
        raise ValueError("must be one line")
    return value.strip()


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_text)]
Line = Annotated[str, Field(min_length=1, max_length=MAX_SUBJECT), AfterValidator(_line)]
Ref = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")]


# -- bodies ------------------------------------------------------------------------------------------------------
class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InteractionIn(Body):
    kind: Literal["note", "reply"]
    text: Text
    subject: Line | None = Field(default=None, description="A reply's subject (a default one when absent)")


class TicketIn(Body):
    subject: Line
    message: Text
    orderId: Ref | None = None


class MessageIn(Body):
    text: Text


class TicketUpdateIn(Body):
    status: Status | None = None
    assignee: Ref | None = Field(default=None, description="A staff user id; null unassigns")


class CampaignIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_line)]
    segment: Segment
    subject: Line = Field(description="Jinja2 source: may use name, first_name, discount_code")
    body: Annotated[str, Field(min_length=1, max_length=MAX_BODY), AfterValidator(_text)] = Field(
        description=f"Plain-text Jinja2 source, at most {MAX_BODY:,} characters: may use name, first_name, "
        "discount_code"
    )
    channels: list[Channel] = Field(min_length=1, max_length=3)
    discountCode: Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")] | (
        None
    ) = None
    attributionWindowDays: int = Field(default=14, ge=1, le=90)


# -- answers -----------------------------------------------------------------------------------------------------
class RfmAnswer(Answer):
    r: int = Field(ge=1, le=5, description="Recency score, 5 the most recent")
    f: int = Field(ge=1, le=5)
    m: int = Field(ge=1, le=5)
    code: str = Field(description="R, F and M as one string (`545`)")
    segment: Segment
    scoredAt: Timestamp | None


class CustomerSummary(Answer):
    userId: str
    email: str | None
    name: str | None
    segment: Segment | None = Field(description="null before a paid order or before the first scoring")
    ordersPaid: int
    lifetimeValue: Money
    lastOrderAt: Timestamp | None
    firstSeenAt: Timestamp


class CustomerPage(Answer):
    items: list[CustomerSummary]
    nextCursor: str | None


class OrderSummaryAnswer(Answer):
    placed: int
    paid: int
    cancelled: int
    firstOrderAt: Timestamp | None
    lastOrderAt: Timestamp | None
    spent: Money
    refunded: Money


class InteractionAnswer(Answer):
    interactionId: str
    userId: str
    kind: Literal["note", "reply"]
    subject: str | None
    text: str
    by: str = Field(description="The staff member's user id")
    at: Timestamp


class TimelineAnswer(Answer):
    at: Timestamp
    kind: Literal["registered", "profile-updated", "order-placed", "order-paid", "order-refunded", "order-cancelled"]
    orderId: str | None
    amount: Money | None
    detail: str | None
    eventId: str


class CustomerAnswer(Answer):
    userId: str
    email: str | None
    name: str | None
    phone: str | None = Field(description="Only a confirmed phone")
    locale: str | None
    registeredAt: Timestamp | None
    firstSeenAt: Timestamp
    orders: OrderSummaryAnswer
    lifetimeValue: Money = Field(description="Spent less refunded")
    rfm: RfmAnswer | None
    interactions: list[InteractionAnswer] = Field(description="The latest 50, newest first")
    timeline: list[TimelineAnswer] = Field(description="The latest 50 events, newest first")


class MessageAnswer(Answer):
    messageId: str
    by: Literal["customer", "staff"]
    authorId: str
    text: str
    at: Timestamp


class TicketSummary(Answer):
    ticketId: str
    userId: str
    subject: str
    status: Status
    orderId: str | None
    assignee: str | None
    messageCount: int
    createdAt: Timestamp
    updatedAt: Timestamp


class TicketAnswer(TicketSummary):
    messages: list[MessageAnswer] = Field(description="Oldest first")


class TicketPage(Answer):
    items: list[TicketSummary]
    nextCursor: str | None


class BoundariesAnswer(Answer):
    recency: list[Timestamp] = Field(description="Last-order times at the 20th..80th percentile")
    recencyDays: list[float] = Field(description="The same as days before computedAt")
    frequency: list[int] = Field(description="Paid orders at the 20th..80th percentile")
    monetary: list[int] = Field(description="Lifetime value (minor units) at the 20th..80th percentile")
    computedAt: Timestamp
    customers: int


class SegmentAnswer(Answer):
    segment: Segment
    label: str
    customers: int
    revenue: Money = Field(description="The lifetime value of its customers")
    share: float = Field(description="Of the revenue of every scored customer, 0..1")


class SegmentsAnswer(Answer):
    computedAt: Timestamp | None = Field(description="The last recompute; null before the first")
    customers: int = Field(description="Customers known")
    scored: int = Field(description="Customers with a paid order")
    rescored: int = Field(description="Customers whose score that recompute changed")
    boundaries: BoundariesAnswer | None
    segments: list[SegmentAnswer]


class OutcomeCounts(Answer):
    sent: int
    delivered: int
    suppressed: int
    failed: int


class CampaignCountsAnswer(OutcomeCounts):
    targeted: int | None = Field(description="Recipients, once the launch is over (null while it runs)")
    byChannel: dict[str, OutcomeCounts]


class AttributionAnswer(Answer):
    orders: int = Field(description="Orders paid by recipients within the window after the send, or with the code")
    revenue: Money


class CampaignAnswer(Answer):
    campaignId: str
    name: str
    segment: Segment
    subject: str
    body: str
    channels: list[Channel]
    discountCode: str | None
    attributionWindowDays: int
    createdAt: Timestamp
    createdBy: str
    status: Literal["launching", "launched"]
    targeted: int | None
    batches: int | None
    launchedAt: Timestamp | None
    counts: CampaignCountsAnswer
    attribution: AttributionAnswer


# -- mapping -----------------------------------------------------------------------------------------------------
def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": CURRENCY}


def customer_summary(c: Customer) -> dict[str, Any]:
    return {
        "userId": c.user_id,
        "email": c.email,
        "name": c.name,
        "segment": c.segment,
        "ordersPaid": c.orders_paid,
        "lifetimeValue": money(c.lifetime_value),
        "lastOrderAt": c.last_order_at,
        "firstSeenAt": c.first_seen_at,
    }


def customer_answer(detail: service.CustomerDetail) -> dict[str, Any]:
    c = detail.customer
    rfm = {**c.score.to_dict(), "scoredAt": c.scored_at} if c.score else None
    return {
        "userId": c.user_id,
        "email": c.email,
        "name": c.name,
        "phone": c.phone,
        "locale": c.locale,
        "registeredAt": c.registered_at,
        "firstSeenAt": c.first_seen_at,
        "orders": {
            "placed": c.orders_placed,
            "paid": c.orders_paid,
            "cancelled": c.orders_cancelled,
            "firstOrderAt": c.first_order_at,
            "lastOrderAt": c.last_order_at,
            "spent": money(c.spent),
            "refunded": money(c.refunded),
        },
        "lifetimeValue": money(c.lifetime_value),
        "rfm": rfm,
        "interactions": [i.to_dict() for i in detail.interactions],
        "timeline": [e.to_dict() for e in detail.timeline],
    }


def ticket_answer(detail: service.TicketDetail) -> dict[str, Any]:
    return {**detail.ticket.to_dict(), "messages": [m.to_dict() for m in detail.messages]}


def ticket_page(items: list[Ticket], position: str | None) -> Response[Any]:
    return json_response({"items": [t.to_dict() for t in items], "nextCursor": _cursor(position)})


def campaign_answer(campaign: Campaign, counts: CampaignCounts) -> dict[str, Any]:
    return {
        **campaign.to_dict(),
        "counts": {
            "targeted": campaign.targeted,
            "sent": counts.sent,
            "delivered": counts.delivered,
            "suppressed": counts.suppressed,
            "failed": counts.failed,
            "byChannel": counts.by_channel,
        },
        "attribution": {"orders": counts.attributed_orders, "revenue": money(counts.attributed_revenue)},
    }


def segments_answer(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "segments": [{**s, "revenue": money(int(s["revenue"]))} for s in summary["segments"]]}


# -- query parameters --------------------------------------------------------------------------------------------
PAGING = {"limit": "Items per page, 1 to 100", "cursor": "The previous page's `nextCursor`"}


def _position(app: APIGatewayHttpResolver) -> str | None:
    raw = query_param(app, "cursor")
    if raw is None:
        return None
    if len(raw) > MAX_CURSOR:
        raise InvalidCursor("The cursor is not valid.")
    position = (decode_cursor(raw) or {}).get("p")
    if not isinstance(position, str) or not position or len(position) > 300:
        raise InvalidCursor("The cursor is not valid.")
    return position


def _cursor(position: str | None) -> str | None:
    return encode_cursor({"p": position}) if position else None


# -- customers (support, admin) ----------------------------------------------------------------------------------
customers_app = create_resolver(ERRORS, roles=tuple(sorted(STAFF)))


@customers_app.get(
    "/admin/customers",
    summary="List customers",
    description="Every customer the shop knows, newest first; with `segment`, that RFM segment's members (by user "
    "id). Paged with `limit` (at most 100) and `cursor`. Support and admin.",
)
@documented(answers={200: CustomerPage}, query={**PAGING, "segment": f"One of: {', '.join(SEGMENTS)}"})
def list_customers(store: Store) -> Response[Any]:
    app = customers_app
    segment = query_param(app, "segment")
    if segment is not None and segment not in SEGMENTS:
        raise BadRequest(f"Unknown segment {segment!r}; one of: {', '.join(SEGMENTS)}.")
    query = service.ListCustomers(current_caller(app), segment, page_limit(app), _position(app))
    items, position = service.list_customers(query, store)
    return json_response({"items": [customer_summary(c) for c in items], "nextCursor": _cursor(position)})


@customers_app.get(
    "/admin/customers/<user_id>",
    summary="Get a customer",
    description="The customer's contact details, order summary, lifetime value, RFM scores and segment, the latest "
    "interactions and timeline. Support and admin.",
)
@documented(answers={200: CustomerAnswer})
def get_customer(user_id: str, store: Store) -> Response[Any]:
    return json_response(customer_answer(service.get_customer(current_caller(customers_app), user_id, store)))


@customers_app.post(
    "/admin/customers/<user_id>/interactions",
    summary="Record a note or a reply",
    description="A `note` stays with the customer's record for staff; a `reply` is also sent to the customer "
    "(SupportReplied, by email). 201 with the interaction; an unknown customer is 404. Support and admin.",
)
@documented(body=InteractionIn, answers={201: InteractionAnswer})
def add_interaction(user_id: str, store: Store) -> Response[Any]:
    app = customers_app
    body = request_body(app, InteractionIn)
    cmd = service.AddInteraction(current_caller(app), user_id, InteractionKind(body.kind), body.text, body.subject)
    return json_response(service.add_interaction(cmd, store).to_dict(), 201)


# -- the caller's tickets ----------------------------------------------------------------------------------------
tickets_app = create_resolver(ERRORS)


@tickets_app.post(
    "/support/tickets",
    summary="Open a support ticket",
    description="A subject, the first message and optionally the order it is about: 201 with the ticket (status "
    "open) and its message.",
)
@documented(body=TicketIn, answers={201: TicketAnswer})
def open_ticket(store: Store) -> Response[Any]:
    body = request_body(tickets_app, TicketIn)
    cmd = service.OpenTicket(current_caller(tickets_app), body.subject, body.message, body.orderId)
    return json_response(ticket_answer(service.open_ticket(cmd, store)), 201)


@tickets_app.get(
    "/support/tickets",
    summary="List my tickets",
    description="The caller's tickets, newest first, paged with `limit` and `cursor`.",
)
@documented(answers={200: TicketPage}, query=PAGING)
def list_my_tickets(store: Store) -> Response[Any]:
    app = tickets_app
    items, position = service.list_my_tickets(
        current_caller(app), store, limit=page_limit(app), position=_position(app)
    )
    return ticket_page(items, position)


@tickets_app.get(
    "/support/tickets/<ticket_id>",
    summary="Get my ticket",
    description="The ticket and its messages, oldest first. Another customer's ticket is 404.",
)
@documented(answers={200: TicketAnswer})
def get_my_ticket(ticket_id: str, store: Store) -> Response[Any]:
    return json_response(ticket_answer(service.get_ticket(current_caller(tickets_app), ticket_id, store)))


@tickets_app.post(
    "/support/tickets/<ticket_id>/messages",
    summary="Write on my ticket",
    description="A message from the ticket's owner: the ticket is open again (also after it was closed). 201 with "
    "the ticket. Another customer's ticket is 404; a ticket holds at most 200 messages (422 `ticket-full`).",
)
@documented(body=MessageIn, answers={201: TicketAnswer})
def add_my_message(ticket_id: str, store: Store) -> Response[Any]:
    body = request_body(tickets_app, MessageIn)
    cmd = service.AddTicketMessage(current_caller(tickets_app), ticket_id, body.text)
    return json_response(ticket_answer(service.add_ticket_message(cmd, store)), 201)


# -- every ticket (support, admin) -------------------------------------------------------------------------------
support_app = create_resolver(ERRORS, roles=tuple(sorted(STAFF)))


def _statuses(raw: str | None) -> list[TicketStatus]:
    if raw is None:
        return []
    out = []
    for part in raw.split(","):
        name = part.strip().lower()
        if name not in {s.value for s in TicketStatus}:
            raise BadRequest(f"Unknown status {part.strip()!r}; one of: open, pending, closed.")
        out.append(TicketStatus(name))
    return list(dict.fromkeys(out))


@support_app.get(
    "/admin/tickets",
    summary="List tickets by status",
    description="Tickets in the statuses named (`status=open,pending`; all when none is), most recently changed "
    "first, paged with `limit` and `cursor`. Support and admin.",
)
@documented(answers={200: TicketPage}, query={**PAGING, "status": "Comma-separated: open, pending, closed"})
def list_tickets(store: Store) -> Response[Any]:
    app = support_app
    statuses = _statuses(query_param(app, "status"))
    items, position = service.list_tickets(
        current_caller(app), store, statuses, limit=page_limit(app), position=_position(app)
    )
    return ticket_page(items, position)


@support_app.get(
    "/admin/tickets/<ticket_id>",
    summary="Get a ticket",
    description="Any ticket and its messages, oldest first. Support and admin.",
)
@documented(answers={200: TicketAnswer})
def get_ticket(ticket_id: str, store: Store) -> Response[Any]:
    return json_response(ticket_answer(service.get_ticket(current_caller(support_app), ticket_id, store, staff=True)))


@support_app.post(
    "/admin/tickets/<ticket_id>/messages",
    summary="Reply on a ticket",
    description="A staff reply, sent to the customer (SupportReplied, by email): the ticket waits for the customer "
    "(`pending`). 201 with the ticket. A closed ticket is reopened first (422 `ticket-closed`). Support and admin.",
)
@documented(body=MessageIn, answers={201: TicketAnswer})
def reply(ticket_id: str, store: Store) -> Response[Any]:
    body = request_body(support_app, MessageIn)
    cmd = service.AddTicketMessage(current_caller(support_app), ticket_id, body.text, staff=True)
    return json_response(ticket_answer(service.add_ticket_message(cmd, store)), 201)


@support_app.put(
    "/admin/tickets/<ticket_id>",
    summary="Change a ticket's status or assignee",
    description="`status` (open, pending, closed) and/or `assignee` (a staff user id; null unassigns); at least "
    "one. 200 with the ticket. Support and admin.",
)
@documented(body=TicketUpdateIn, answers={200: TicketSummary})
def update_ticket(ticket_id: str, store: Store) -> Response[Any]:
    body = request_body(support_app, TicketUpdateIn)
    if not body.model_fields_set:
        raise BadRequest("Name a status or an assignee.")
    unassign = "assignee" in body.model_fields_set and body.assignee is None
    cmd = service.UpdateTicket(
        current_caller(support_app),
        ticket_id,
        TicketStatus(body.status) if body.status else None,
        body.assignee,
        unassign=unassign,
    )
    return json_response(service.update_ticket(cmd, store).to_dict())


# -- segments and campaigns (admin) ------------------------------------------------------------------------------
admin_app = create_resolver(ERRORS, roles=(ADMIN,))


@admin_app.get(
    "/admin/segments",
    summary="RFM segments",
    description="Each named segment's customers, revenue (their lifetime value) and share of the revenue, the "
    "quintile cut points and when they were computed (hourly). Admin only.",
)
@documented(answers={200: SegmentsAnswer})
def get_segments(store: Store) -> Response[Any]:
    return json_response(segments_answer(service.get_segments(current_caller(admin_app), store)))


@admin_app.post(
    "/admin/campaigns",
    summary="Send a campaign to a segment",
    description="The subject and body are Jinja2 templates (variables `name`, `first_name`, `discount_code`; a "
    "syntax error or another variable is 400 and nothing is sent), sent to the segment's members in batches of 50 "
    "on the channels named, by the notification service (marketing consent respected). 202 with the campaign; "
    "`GET /admin/campaigns/{campaignId}` follows it. Admin only.",
)
@documented(body=CampaignIn, answers={202: CampaignAnswer})
def create_campaign(store: Store) -> Response[Any]:
    body = request_body(admin_app, CampaignIn)
    cmd = service.CreateCampaign(
        current_caller(admin_app),
        body.name,
        body.segment,
        body.subject,
        body.body,
        tuple(body.channels),
        body.discountCode,
        body.attributionWindowDays,
    )
    campaign = service.create_campaign(cmd, store)
    return json_response(campaign_answer(campaign, CampaignCounts()), 202)


@admin_app.get(
    "/admin/campaigns/<campaign_id>",
    summary="Get a campaign",
    description="The campaign, its delivery counts (targeted, sent, delivered, suppressed, failed; by channel) and "
    "the orders and revenue attributed to it. Admin only.",
)
@documented(answers={200: CampaignAnswer})
def get_campaign(campaign_id: str, store: Store) -> Response[Any]:
    campaign, counts = service.get_campaign(current_caller(admin_app), campaign_id, store)
    return json_response(campaign_answer(campaign, counts))


# -- handlers ----------------------------------------------------------------------------------------------------
customers_handler = http_handler(customers_app)
tickets_handler = http_handler(tickets_app)
support_handler = http_handler(support_app)
admin_handler = http_handler(admin_app)
