"""The CRM's use cases with in-memory fakes: profiles from events (each event once, in any order it can come),
RFM re-scoring, ticket privacy, campaign checks, a resumable launch and attribution."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from crm import events as ev
from crm import service
from crm.domain import (
    BATCH_SIZE,
    LISTING_SHARDS,
    CampaignStatus,
    Customer,
    InteractionKind,
    TicketClosedForStaff,
    TicketFull,
    TicketStatus,
    shard_of,
    utc_iso,
)
from crm.errors import CustomerNotFound, EventNotReady, InvalidTemplate, TicketNotFound
from crm.rfm import CHAMPIONS, Score
from crm.service import EventContext
from gears_shared.errors import Forbidden, NotFound
from tests.unit.crm.fakes import ADMIN, NOW, SUPPORT, FakeCrm, customer_caller


def ctx(type_: str, at: str = "2026-03-01T10:00:00.000Z", event_id: str | None = None) -> EventContext:
    return EventContext(type_, event_id or str(uuid.uuid4()), at)


def clock() -> Any:
    return NOW


def place(
    store: FakeCrm,
    order_id: str,
    user: str,
    total: int = 2500,
    code: str | None = None,
    at: str = "2026-03-01T10:00:00.000Z",
) -> None:
    data: dict[str, Any] = {
        "orderId": order_id,
        "userId": user,
        "total": {"amount": total, "currency": "GBP"},
        "placedAt": at,
    }
    if code:
        data["discount"] = {"code": code, "amount": {"amount": 100, "currency": "GBP"}}
    assert service.order_placed(ev.OrderPlaced.model_validate(data), ctx(ev.ORDER_PLACED, at), store) == "applied"


def pay(
    store: FakeCrm, order_id: str, amount: int = 2500, at: str = "2026-03-01T10:05:00.000Z", event_id: str | None = None
) -> str:
    data = ev.PaymentSucceeded.model_validate({"orderId": order_id, "amount": amount})
    return service.payment_succeeded(data, ctx(ev.PAYMENT_SUCCEEDED, at, event_id), store, clock=clock)


# -- profiles from events ----------------------------------------------------------------------------------------
def test_a_customer_from_registration_orders_payments_and_refunds() -> None:
    store = FakeCrm()
    registered = ev.UserRegistered.model_validate(
        {"userId": "u-ann", "email": "ann@example.com", "name": "Ann Lee", "registeredAt": "2026-02-01T09:00:00Z"}
    )
    assert service.user_registered(registered, ctx(ev.USER_REGISTERED, "2026-02-01T09:00:00.000Z"), store) == "applied"
    place(store, "o-1", "u-ann", 2500)
    place(store, "o-2", "u-ann", 4000, at="2026-03-02T10:00:00.000Z")
    assert pay(store, "o-1", 2500) == "applied"
    assert pay(store, "o-2", 4000, at="2026-03-02T10:05:00.000Z") == "applied"
    refund = ev.PaymentRefunded.model_validate({"orderId": "o-2", "refundId": "re-1", "amount": 1000})
    assert service.payment_refunded(refund, ctx(ev.PAYMENT_REFUNDED, "2026-03-03T10:00:00Z"), store) == "applied"

    ann = store.customers["u-ann"]
    assert (ann.email, ann.name) == ("ann@example.com", "Ann Lee")
    assert (ann.orders_placed, ann.orders_paid, ann.spent, ann.refunded) == (2, 2, 6500, 1000)
    assert ann.lifetime_value == 5500
    assert (ann.first_order_at, ann.last_order_at) == ("2026-03-01T10:00:00.000Z", "2026-03-02T10:00:00.000Z")
    kinds = [e.kind.value for e in store.timeline("u-ann", 50)]
    assert kinds == ["order-refunded", "order-paid", "order-placed", "order-paid", "order-placed", "registered"]


def test_an_event_applied_twice_changes_nothing() -> None:
    store = FakeCrm()
    place(store, "o-dup", "u-dup")
    event_id = str(uuid.uuid4())
    assert pay(store, "o-dup", event_id=event_id) == "applied"
    assert pay(store, "o-dup", event_id=event_id) in ("duplicate", "stale")
    assert pay(store, "o-dup") == "stale"  # another PaymentSucceeded for a paid order
    assert store.customers["u-dup"].orders_paid == 1
    assert store.customers["u-dup"].spent == 2500


def test_a_payment_before_its_order_waits_for_it() -> None:
    store = FakeCrm()
    just_now = utc_iso(NOW - timedelta(seconds=5))
    with pytest.raises(EventNotReady):
        pay(store, "o-early", at=just_now)
    assert store.customers == {}


def test_an_order_event_whose_order_never_came_is_applied_from_its_own_data_in_the_end() -> None:
    store = FakeCrm()
    long_ago = utc_iso(NOW - timedelta(seconds=service.ORDER_WAIT_S + 1))
    # Placed before the CRM existed: no OrderPlaced will ever come; the events name their customer.
    paid = ev.PaymentSucceeded.model_validate({"orderId": "o-old", "userId": "u-old", "amount": 1800})
    assert service.payment_succeeded(paid, ctx(ev.PAYMENT_SUCCEEDED, long_ago), store, clock=clock) == "applied"
    cancelled = ev.OrderCancelled.model_validate({"orderId": "o-old2", "userId": "u-old", "reason": "customer"})
    assert service.order_cancelled(cancelled, ctx(ev.ORDER_CANCELLED, long_ago), store, clock=clock) == "applied"
    old = store.customers["u-old"]
    assert (old.orders_paid, old.spent, old.orders_cancelled) == (1, 1800, 1)
    # An event that names nobody has nobody to apply to: nothing is written, and it does not come back.
    anonymous = ev.PaymentSucceeded.model_validate({"orderId": "o-anon", "amount": 500})
    assert service.payment_succeeded(anonymous, ctx(ev.PAYMENT_SUCCEEDED, long_ago), store, clock=clock) == "stale"
    assert set(store.customers) == {"u-old"}
    # The OrderPlaced that turns up after all finds the order open: nothing counted a second time.
    late = {
        "orderId": "o-old",
        "userId": "u-old",
        "total": 1800,
        "placedAt": long_ago,
    }
    assert service.order_placed(ev.OrderPlaced.model_validate(late), ctx(ev.ORDER_PLACED, long_ago), store) == "stale"
    assert store.customers["u-old"].orders_paid == 1


def test_older_contact_details_do_not_overwrite_newer_ones() -> None:
    store = FakeCrm()
    newer = ev.UserProfileUpdated.model_validate(
        {
            "userId": "u-p",
            "email": "p@example.com",
            "name": "New Name",
            "phone": "+447700900123",
            "phoneVerified": True,
            "locale": "en-GB",
            "updatedAt": "2026-03-02T00:00:00Z",
        }
    )
    older = ev.UserRegistered.model_validate(
        {"userId": "u-p", "email": "p@example.com", "name": "Old Name", "registeredAt": "2026-03-01T00:00:00Z"}
    )
    service.profile_updated(newer, ctx(ev.USER_PROFILE_UPDATED), store)
    service.user_registered(older, ctx(ev.USER_REGISTERED), store)
    p = store.customers["u-p"]
    assert (p.name, p.phone, p.locale, p.registered_at) == (
        "New Name",
        "+447700900123",
        "en-GB",
        "2026-03-01T00:00:00Z",
    )
    unconfirmed = newer.model_copy(update={"phoneVerified": False, "updatedAt": "2026-03-03T00:00:00Z"})
    service.profile_updated(unconfirmed, ctx(ev.USER_PROFILE_UPDATED), store)
    assert store.customers["u-p"].phone is None


def test_a_cancellation_is_counted_once() -> None:
    store = FakeCrm()
    place(store, "o-c", "u-c")
    data = ev.OrderCancelled.model_validate({"orderId": "o-c", "userId": "u-c", "reason": "customer_request"})
    assert service.order_cancelled(data, ctx(ev.ORDER_CANCELLED), store) == "applied"
    assert service.order_cancelled(data, ctx(ev.ORDER_CANCELLED), store) == "stale"
    assert store.customers["u-c"].orders_cancelled == 1


def test_a_payment_rescores_against_the_stored_cut_points() -> None:
    store = FakeCrm()
    for n in range(1, 11):
        user = f"u-r{n}"
        for k in range(n):
            place(store, f"o-r{n}-{k}", user, 1000, at=utc_iso(NOW - timedelta(days=40 - n)))
            pay(store, f"o-r{n}-{k}", 1000)
    summary = service.recompute_segments(store, clock=clock)
    assert summary["scored"] == 10
    assert store.customers["u-r10"].segment == CHAMPIONS
    assert store.customers["u-r1"].score is not None
    assert store.customers["u-r1"].score.f == 1
    place(store, "o-r1-new", "u-r1", 1000, at=utc_iso(NOW))
    pay(store, "o-r1-new", 1000)
    rescored = store.customers["u-r1"].score
    assert rescored is not None
    assert rescored.r == 5  # a new order: the most recent fifth at once
    assert rescored.f == 1  # 2 orders: still at the 20th percentile (2)


def test_notification_outcomes_count_once_per_event_and_only_for_campaigns() -> None:
    store = FakeCrm()
    data = ev.NotificationOutcome.model_validate(
        {"notificationId": "n-1", "userId": "u", "channel": "email", "campaignId": "cmp-1"}
    )
    sent = ctx(ev.NOTIFICATION_SENT)
    assert service.notification_outcome(data, sent, store) == "applied"
    assert service.notification_outcome(data, sent, store) == "duplicate"
    assert service.notification_outcome(data, ctx(ev.NOTIFICATION_DELIVERED), store) == "applied"
    other = ev.NotificationOutcome.model_validate({"notificationId": "n-2", "userId": "u", "channel": "email"})
    assert service.notification_outcome(other, ctx(ev.NOTIFICATION_SENT), store) == "ignored"
    counts = store.counts("cmp-1")
    assert (counts.sent, counts.delivered, counts.failed) == (1, 1, 0)
    assert counts.by_channel["email"]["sent"] == 1


# -- customers and interactions ----------------------------------------------------------------------------------
def test_staff_see_customers_and_record_interactions() -> None:
    store = FakeCrm()
    store.customers["u-i"] = Customer("u-i", "2026-03-01T00:00:00Z", version=1)
    cmd = service.AddInteraction(SUPPORT, "u-i", InteractionKind.REPLY, "We have sent a new one.")
    reply = service.add_interaction(cmd, store, clock=clock)
    assert reply.subject == service.DEFAULT_REPLY_SUBJECT
    detail = service.get_customer(SUPPORT, "u-i", store)
    assert [i.interaction_id for i in detail.interactions] == [reply.interaction_id]
    with pytest.raises(CustomerNotFound):
        service.add_interaction(service.AddInteraction(SUPPORT, "u-none", InteractionKind.NOTE, "x"), store)
    with pytest.raises(Forbidden):
        service.get_customer(customer_caller("u-i"), "u-i", store)


# -- tickets -----------------------------------------------------------------------------------------------------
def test_a_ticket_is_its_owners_alone() -> None:
    store = FakeCrm()
    ann, bob = customer_caller("u-ann"), customer_caller("u-bob")
    opened = service.open_ticket(service.OpenTicket(ann, "Late parcel", "Where is it?", "o-1"), store, clock=clock)
    tid = opened.ticket.ticket_id
    assert service.get_ticket(ann, tid, store).ticket.status is TicketStatus.OPEN
    with pytest.raises(NotFound):
        service.get_ticket(bob, tid, store)
    with pytest.raises(NotFound):
        service.add_ticket_message(service.AddTicketMessage(bob, tid, "me too"), store)
    with pytest.raises(NotFound):
        service.get_ticket(SUPPORT, tid, store)  # the customers' route: staff use theirs
    assert service.get_ticket(SUPPORT, tid, store, staff=True).ticket.ticket_id == tid
    with pytest.raises(TicketNotFound):
        service.get_ticket(ann, "no-such", store)
    assert service.list_my_tickets(bob, store, limit=None, position=None) == ([], None)
    assert len(store.messages(tid)) == 1


def test_replies_and_status_changes() -> None:
    store = FakeCrm()
    ann = customer_caller("u-ann")
    tid = service.open_ticket(service.OpenTicket(ann, "Help", "Hi"), store, clock=clock).ticket.ticket_id
    replied = service.add_ticket_message(service.AddTicketMessage(SUPPORT, tid, "On it", staff=True), store)
    assert replied.ticket.status is TicketStatus.PENDING
    assert [m.author.value for m in replied.messages] == ["customer", "staff"]
    closed = service.update_ticket(service.UpdateTicket(SUPPORT, tid, TicketStatus.CLOSED, "support-1"), store)
    assert (closed.status, closed.assignee) == (TicketStatus.CLOSED, "support-1")
    with pytest.raises(TicketClosedForStaff):
        service.add_ticket_message(service.AddTicketMessage(SUPPORT, tid, "again", staff=True), store)
    reopened = service.add_ticket_message(service.AddTicketMessage(ann, tid, "Still nothing"), store)
    assert reopened.ticket.status is TicketStatus.OPEN
    assert reopened.ticket.message_count == 3
    unassigned = service.update_ticket(service.UpdateTicket(SUPPORT, tid, unassign=True), store)
    assert unassigned.assignee is None
    with pytest.raises(Forbidden):
        service.update_ticket(service.UpdateTicket(ann, tid, TicketStatus.CLOSED), store)
    assert [
        t.ticket_id for t in service.list_tickets(SUPPORT, store, [TicketStatus.OPEN], limit=5, position=None)[0]
    ] == [tid]


def test_a_ticket_holds_a_bounded_number_of_messages() -> None:
    store = FakeCrm()
    ann = customer_caller("u-full")
    tid = service.open_ticket(service.OpenTicket(ann, "Chatty", "1"), store).ticket.ticket_id
    store.tickets[tid] = store.tickets[tid].__class__(**{**vars(store.tickets[tid]), "message_count": 200})
    with pytest.raises(TicketFull):
        service.add_ticket_message(service.AddTicketMessage(ann, tid, "201"), store)


# -- campaigns ---------------------------------------------------------------------------------------------------
def campaign_cmd(**kw: Any) -> service.CreateCampaign:
    fields: dict[str, Any] = {
        "caller": ADMIN,
        "name": "Spring",
        "segment": CHAMPIONS,
        "subject": "Hello {{ first_name }}",
        "body": "Use {{ discount_code }} today.",
        "channels": ("email",),
        "discount_code": "spring10",
    }
    return service.CreateCampaign(**{**fields, **kw})


@pytest.mark.parametrize(
    ("field", "source", "why"),
    [
        ("body", "Hi {{ name ", "line 1"),
        ("subject", "{% if %}", "line 1"),
        ("body", "{{ password }}", "unknown variable"),
        ("body", "{{ name.__class__ }}", "not allowed"),
        ("body", "{{ ''['__class__'] }}", "not allowed"),
        ("body", "{{ first_name.upper() }} {{ name[0] }}", None),
    ],
)
def test_a_template_that_does_not_parse_or_names_other_variables_is_refused(
    field: str, source: str, why: str | None
) -> None:
    store = FakeCrm()
    if why is None:  # plain attribute and item access are the sandbox's to judge when notification renders
        service.create_campaign(campaign_cmd(**{field: source}), store)
        return
    with pytest.raises(InvalidTemplate, match=why):
        service.create_campaign(campaign_cmd(**{field: source}), store)
    assert store.campaigns == {}


def champions(store: FakeCrm, count: int, prefix: str = "u-ch") -> list[str]:
    ids = [f"{prefix}-{n:04d}" for n in range(count)]
    for user_id in ids:
        store.customers[user_id] = Customer(user_id, "2026-01-01T00:00:00Z", score=Score(5, 5, 5, CHAMPIONS), version=1)
    return ids


def test_a_launch_sends_every_member_once_in_batches_of_fifty() -> None:
    store = FakeCrm()
    members = champions(store, 430)
    campaign = service.create_campaign(campaign_cmd(), store, clock=clock)
    assert campaign.discount_code == "SPRING10"
    assert service.launch_campaign(campaign.campaign_id, store, clock=clock) == "applied"
    recipients = [r for b in store.batches.values() for r in b.recipients]
    assert sorted(recipients) == members
    assert all(1 <= len(b.recipients) <= BATCH_SIZE for b in store.batches.values())
    launched = store.campaigns[campaign.campaign_id]
    assert (launched.status, launched.targeted, launched.batches) == (CampaignStatus.LAUNCHED, 430, len(store.batches))
    assert service.launch_campaign(campaign.campaign_id, store) == "duplicate"
    shards = {shard_of(m, LISTING_SHARDS) for m in members}
    assert len(shards) == LISTING_SHARDS  # the members are spread over every shard


def test_a_crashed_launch_resumes_without_duplicates_or_gaps() -> None:
    store = FakeCrm()
    members = champions(store, 700)
    campaign = service.create_campaign(campaign_cmd(), store, clock=clock)
    store.fail_batch_after = 5
    with pytest.raises(RuntimeError):
        service.launch_campaign(campaign.campaign_id, store, clock=clock)
    written = dict(store.batches)
    store.fail_batch_after = None
    service.launch_campaign(campaign.campaign_id, store, clock=clock)
    recipients = [r for b in store.batches.values() for r in b.recipients]
    assert sorted(recipients) == members
    assert all(store.batches[k] == b for k, b in written.items())
    assert store.campaigns[campaign.campaign_id].targeted == 700


def test_orders_paid_by_recipients_in_the_window_or_with_the_code_are_attributed() -> None:
    store = FakeCrm()
    champions(store, 3, "u-att")
    campaign = service.create_campaign(campaign_cmd(window_days=7), store, clock=clock)
    service.launch_campaign(campaign.campaign_id, store, clock=clock)
    place(store, "o-in", "u-att-0000", 3000, at=utc_iso(NOW + timedelta(days=1)))
    pay(store, "o-in", 3000, at=utc_iso(NOW + timedelta(days=1)))
    place(store, "o-late", "u-att-0001", 5000, at=utc_iso(NOW + timedelta(days=9)))
    pay(store, "o-late", 5000, at=utc_iso(NOW + timedelta(days=9)))
    place(store, "o-code", "u-stranger", 2000, code="spring10", at=utc_iso(NOW + timedelta(days=20)))
    pay(store, "o-code", 2000, at=utc_iso(NOW + timedelta(days=20)))
    counts = store.counts(campaign.campaign_id)
    assert (counts.attributed_orders, counts.attributed_revenue) == (2, 5000)


def test_only_admins_run_campaigns_and_see_segments() -> None:
    store = FakeCrm()
    with pytest.raises(Forbidden):
        service.create_campaign(campaign_cmd(caller=SUPPORT), store)
    with pytest.raises(Forbidden):
        service.get_segments(SUPPORT, store)
    empty = service.get_segments(ADMIN, store)
    assert empty["computedAt"] is None
    assert {s["customers"] for s in empty["segments"]} == {0}
