"""The use cases over the fakes: what a customer receives (and only once), what the log says, and what feedback,
campaigns, unsubscribing and devices do."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlparse

import pytest

from notification import service
from notification.domain import Channel, Contact, Kind, Platform, Preferences, State
from notification.errors import (
    NotificationInProgress,
    ProviderUnavailable,
    PushNotConfigured,
    RecipientNotReady,
    TooManyDevices,
)
from notification.service import Source
from tests.unit.notification.fakes import SECRET, Clock, FakeEmail, FakeRegistry, FakeStore, FakeText, outbox, uid

NOW = "2026-03-01T12:00:00.000Z"


def customer(store: FakeStore, *, phone: str | None = None, name: str = "Ann Lee") -> str:
    user_id = uid()
    store.contacts[user_id] = Contact(user_id, f"{user_id}@example.com", name, phone, "en-GB", NOW)
    return user_id


def receipt(
    user_id: str | None, event_id: str | None = None, *, order_id: str = "o-1", at: str = NOW
) -> service.NotifyCustomer:
    source = Source(event_id or uid("event"), "OrderPlaced.v1", at, "corr-1")
    context: dict[str, object] = {
        "order_id": order_id,
        "total": "£13.99",
        "lines": [],
        "discount_code": None,
        "discount": None,
    }
    return service.NotifyCustomer(source, user_id, Kind.ORDER_UPDATES, "order_placed", context, order_id=order_id)


def test_an_order_receipt_goes_by_email_once_however_often_the_event_comes() -> None:
    store, email = FakeStore(), FakeEmail()
    ann = customer(store)
    cmd = receipt(ann)
    first = service.notify_customer(cmd, store, outbox(email), clock=Clock())
    again = service.notify_customer(cmd, store, outbox(email), clock=Clock())
    assert first.count("sent") == 1
    assert again.count("done-before") == 1
    [sent] = email.to(f"{ann}@example.com")
    assert "o-1" in sent.subject
    assert "Ann" in sent.text
    assert not sent.headers
    assert sent.tags["notificationId"] == store.of_user(ann)[0].notification_id
    [note] = store.of_user(ann)
    assert (note.state, note.channel, note.kind, note.source_event_id) == (
        State.SENT,
        Channel.EMAIL,
        Kind.ORDER_UPDATES,
        cmd.source.event_id,
    )
    assert note.message_id == email.sent[0][0]


def test_a_worker_that_died_after_claiming_is_taken_over_when_its_lease_ends_and_not_before() -> None:
    store, email, clock = FakeStore(), FakeEmail(), Clock()
    ann = customer(store)
    cmd = receipt(ann)
    email.down = True
    with pytest.raises(ProviderUnavailable):
        service.notify_customer(cmd, store, outbox(email), clock=clock)
    [note] = store.of_user(ann)
    assert note.state is State.SENDING
    assert note.lease_until == 0
    # A worker that died mid-send leaves its lease: another delivery waits for it instead of sending twice.
    store.notes[note.notification_id] = replace(note, lease_until=int(clock().timestamp()) + 60)
    email.down = False
    with pytest.raises(NotificationInProgress):
        service.notify_customer(cmd, store, outbox(email), clock=clock)
    assert email.sent == []
    clock.advance(61)
    assert service.notify_customer(cmd, store, outbox(email), clock=clock).count("sent") == 1
    assert len(email.sent) == 1
    assert store.of_user(ann)[0].state is State.SENT


def test_a_permanent_refusal_is_failed_with_its_reason_and_not_retried() -> None:
    store, email = FakeStore(), FakeEmail()
    ann = customer(store)
    email.refuse.add(f"{ann}@example.com")
    outcome = service.notify_customer(receipt(ann), store, outbox(email), clock=Clock())
    assert outcome.count("failed") == 1
    [note] = store.of_user(ann)
    assert (note.state, note.reason) == (State.FAILED, "rejected")


def test_sms_and_push_go_where_the_customer_chose_them_and_a_dead_endpoint_is_disabled() -> None:
    store, text, registry = FakeStore(), FakeText(), FakeRegistry()
    ann = customer(store, phone="+447700900123")
    store.prefs[ann] = Preferences(ann).with_channels(
        {Kind.ORDER_UPDATES: [Channel.EMAIL, Channel.SMS, Channel.PUSH]}, NOW
    )
    service.register_device(service.RegisterDevice(ann, "old-phone", Platform.FCM, "a" * 40), store, registry)
    service.register_device(service.RegisterDevice(ann, "new-phone", Platform.FCM, "b" * 40), store, registry)
    text.disabled_endpoints.add(registry.endpoints["a" * 40])
    outcome = service.notify_customer(receipt(ann), store, outbox(text=text), clock=Clock())
    assert outcome.count("sent") == 3
    assert [(phone, transactional) for phone, _, transactional in text.sms] == [("+447700900123", True)]
    assert [arn for arn, _ in text.pushes] == [registry.endpoints["b" * 40]]
    assert {d.device_id: d.enabled for d in store.devices(ann)} == {"old-phone": False, "new-phone": True}


def test_an_unconfirmed_phone_means_a_suppressed_sms_and_the_log_says_why() -> None:
    store = FakeStore()
    ann = customer(store)
    store.prefs[ann] = Preferences(ann).with_channels({Kind.SUPPORT: [Channel.EMAIL, Channel.SMS]}, NOW)
    source = Source(uid("reply"), "SupportReplied.v1", NOW)
    cmd = service.NotifyCustomer(
        source, ann, Kind.SUPPORT, "support_reply", {"ticket_subject": "Hi", "body": "Hello", "ticket_id": None}
    )
    service.notify_customer(cmd, store, outbox(), clock=Clock())
    states = {n.channel: (n.state, n.reason) for n in store.of_user(ann)}
    assert states == {Channel.EMAIL: (State.SENT, None), Channel.SMS: (State.SUPPRESSED, "no-confirmed-phone")}


def test_an_event_before_its_customer_is_known_waits_then_fails_as_no_contact() -> None:
    store, clock = FakeStore(), Clock()
    stranger = uid()
    with pytest.raises(RecipientNotReady):
        service.notify_customer(receipt(stranger), store, outbox(), clock=clock)
    clock.advance(service.CONTACT_WAIT_S + 1)
    service.notify_customer(receipt(stranger), store, outbox(), clock=clock)
    [note] = store.of_user(stranger)
    assert (note.state, note.reason) == (State.FAILED, "no-contact")


def test_a_payment_event_without_a_user_finds_the_customer_by_the_order() -> None:
    store, email = FakeStore(), FakeEmail()
    ann = customer(store)
    store.remember_order("o-77", ann)
    service.notify_customer(receipt(None, order_id="o-77"), store, outbox(email), clock=Clock())
    assert len(email.to(f"{ann}@example.com")) == 1


def test_stock_alerts_go_to_the_admins_only() -> None:
    store, email = FakeStore(), FakeEmail()
    boss, former = uid("admin"), uid("admin")
    service.record_roles(service.RecordRoles(boss, "boss@example.com", ("admin", "customer"), NOW), store)
    service.record_roles(service.RecordRoles(former, "former@example.com", ("admin",), NOW), store)
    service.record_roles(
        service.RecordRoles(former, "former@example.com", ("customer",), "2026-03-01T13:00:00Z"), store
    )
    # A late, older event does not make the former admin an admin again.
    service.record_roles(service.RecordRoles(former, "former@example.com", ("admin",), "2026-03-01T12:30:00Z"), store)
    cmd = service.AlertAdmins(
        Source(uid("low"), "StockLow.v1", NOW),
        "stock_low",
        {"sku": "SKU-1", "product_id": None, "available": 1, "threshold": 5},
    )
    service.alert_admins(cmd, store, outbox(email), clock=Clock())
    assert [e.to for _, e in email.sent] == ["boss@example.com"]
    assert "SKU-1" in email.sent[0][1].subject


def test_stock_alerts_also_reach_the_operations_addresses_once_each() -> None:
    store, email = FakeStore(), FakeEmail()
    boss = uid("admin")
    service.record_roles(service.RecordRoles(boss, "boss@example.com", ("admin",), NOW), store)
    cmd = service.AlertAdmins(
        Source(uid("low"), "StockLow.v1", NOW),
        "stock_low",
        {"sku": "SKU-2", "product_id": None, "available": 0, "threshold": 3},
        also_to=("ops@example.com", "Boss@example.com", "ops@example.com"),
    )
    service.alert_admins(cmd, store, outbox(email), clock=Clock())
    service.alert_admins(cmd, store, outbox(email), clock=Clock())  # the same event again sends nothing more
    assert sorted(e.to for _, e in email.sent) == ["boss@example.com", "ops@example.com"]


def test_a_newer_contact_is_never_overwritten_by_an_older_event() -> None:
    store = FakeStore()
    newer = Contact("ann", "new@example.com", "Ann", "+447700900123", None, "2026-03-02T00:00:00Z")
    older = Contact("ann", "old@example.com", None, None, None, "2026-03-01T00:00:00Z")
    assert service.record_contact(service.RecordContact(newer), store)
    assert not service.record_contact(service.RecordContact(older), store)
    assert store.contacts["ann"].email == "new@example.com"


def campaign(
    recipients: tuple[str, ...],
    *,
    body: str = "Hi {{ first_name }}, use {{ discount_code }}",
    channels: tuple[Channel, ...] = (Channel.EMAIL,),
    campaign_id: str | None = None,
) -> service.SendCampaignBatch:
    return service.SendCampaignBatch(
        source=Source(uid("batch-event"), "CampaignBatchReady.v1", NOW),
        campaign_id=campaign_id or uid("campaign"),
        batch_id="b-1",
        subject="{{ first_name }}: spring offers",
        body=body,
        discount_code="SPRING",
        channels=channels,
        recipients=recipients,
    )


def test_a_campaign_batch_reaches_the_consenting_once_and_accounts_for_everyone() -> None:
    store, email = FakeStore(), FakeEmail()
    keen, shy, bounced = customer(store), customer(store), customer(store)
    for user_id in (keen, bounced):
        store.prefs[user_id] = Preferences(user_id).with_consent(True, "settings", NOW)
    store.suppressed_addresses[f"{bounced}@example.com"] = ("bounced", NOW)
    unknown = uid()
    cmd = campaign((keen, shy, bounced, unknown), channels=(Channel.EMAIL, Channel.SMS))
    outcome = service.send_campaign_batch(cmd, store, outbox(email), clock=Clock())
    assert store.batch_reads == 1  # one bulk read for the batch, not one per recipient
    [sent] = email.to(f"{keen}@example.com")
    assert sent.subject == "Ann: spring offers"
    assert "use SPRING" in sent.text
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = sent.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://api.gears.test/notifications/unsubscribe?token=")
    assert parse_qs(urlparse(url).query)["token"][0] in url
    states = {(n.user_id, n.channel): (n.state.value, n.reason) for n in store.notes.values()}
    assert states == {
        (keen, Channel.EMAIL): ("sent", None),
        (keen, Channel.SMS): ("suppressed", "channel-not-chosen"),
        (shy, Channel.EMAIL): ("suppressed", "no-consent"),
        (shy, Channel.SMS): ("suppressed", "no-consent"),
        (bounced, Channel.EMAIL): ("suppressed", "address-suppressed"),
        (bounced, Channel.SMS): ("suppressed", "channel-not-chosen"),
        (unknown, Channel.EMAIL): ("suppressed", "no-consent"),
        (unknown, Channel.SMS): ("suppressed", "no-consent"),
    }
    assert all(n.campaign_id == cmd.campaign_id and n.kind is Kind.MARKETING for n in store.notes.values())
    assert outcome.count("sent") == 1
    # The same batch again, even under another event id: nobody gets it twice.
    service.send_campaign_batch(
        replace(cmd, source=Source(uid("again"), "CampaignBatchReady.v1", NOW)), store, outbox(email), clock=Clock()
    )
    assert len(email.sent) == 1
    assert len(store.notes) == 8


def test_a_campaign_body_that_fails_to_render_fails_each_message_not_the_batch() -> None:
    store = FakeStore()
    ann = customer(store)
    store.prefs[ann] = Preferences(ann).with_consent(True, "settings", NOW)
    for body in ("{{ nope }}", "{% if %}"):
        cmd = campaign((ann,), body=body)
        outcome = service.send_campaign_batch(cmd, store, outbox(), clock=Clock())
        assert outcome.count("failed") == 1
    reasons = sorted(n.reason or "" for n in store.of_user(ann))
    assert reasons == ["template-error", "template-syntax"]


def sent_email(store: FakeStore, email: FakeEmail) -> tuple[str, str]:
    ann = customer(store)
    service.notify_customer(receipt(ann), store, outbox(email), clock=Clock())
    [note] = store.of_user(ann)
    return note.notification_id, str(note.message_id)


def test_feedback_marks_delivered_and_a_hard_bounce_suppresses_the_address() -> None:
    store, email = FakeStore(), FakeEmail()
    note_id, message_id = sent_email(store, email)
    delivered = service.Feedback("Delivery", message_id, note_id, None, (), NOW)
    assert service.apply_feedback(delivered, store) == "delivered"
    assert store.notes[note_id].state is State.DELIVERED
    address = str(store.notes[note_id].address)
    bounce = service.Feedback("Bounce", message_id, None, "Permanent", (address,), NOW)  # found by SES's id
    assert service.apply_feedback(bounce, store) == "bounced"
    assert store.notes[note_id].state is State.FAILED
    assert address in store.suppressed_addresses
    # Every later email to that address is suppressed.
    user_id = store.notes[note_id].user_id
    service.notify_customer(receipt(user_id), store, outbox(email), clock=Clock())
    assert sorted((n.state.value, n.reason) for n in store.of_user(user_id))[-1] == ("suppressed", "address-suppressed")


def test_a_soft_bounce_leaves_the_message_sent_and_early_feedback_waits() -> None:
    store, email = FakeStore(), FakeEmail()
    note_id, message_id = sent_email(store, email)
    soft = service.Feedback("Bounce", message_id, note_id, "Transient", (), NOW)
    assert service.apply_feedback(soft, store) == "soft-bounce"
    assert store.notes[note_id].state is State.SENT
    store.notes[note_id] = replace(store.notes[note_id], state=State.SENDING)
    with pytest.raises(service.FeedbackTooEarly):
        service.apply_feedback(service.Feedback("Delivery", message_id, note_id, None, (), NOW), store)


def test_preferences_change_only_what_is_named_and_consent_brings_email_back() -> None:
    store = FakeStore()
    ann = customer(store)
    cmd = service.UpdatePreferences(ann, channels={Kind.SUPPORT: [Channel.EMAIL, Channel.PUSH]})
    prefs = service.update_preferences(cmd, store, clock=Clock())
    assert prefs.channels_for(Kind.SUPPORT) == (Channel.EMAIL, Channel.PUSH)
    assert prefs.channels_for(Kind.ORDER_UPDATES) == (Channel.EMAIL,)
    off = service.update_preferences(
        service.UpdatePreferences(ann, channels={Kind.MARKETING: []}), store, clock=Clock()
    )
    assert off.channels_for(Kind.MARKETING) == ()
    on = service.update_preferences(
        service.UpdatePreferences(ann, marketing_consent=True, consent_source="signup"), store, clock=Clock()
    )
    assert on.marketing.consent
    assert on.marketing.source == "signup"
    assert on.channels_for(Kind.MARKETING) == (Channel.EMAIL,)


def test_unsubscribing_by_token_withdraws_marketing_email_once() -> None:
    store = FakeStore()
    ann = customer(store)
    store.prefs[ann] = Preferences(ann).with_consent(True, "settings", NOW)
    url = outbox().unsubscribe_url(ann, Channel.EMAIL, Kind.MARKETING)
    token = parse_qs(urlparse(url).query)["token"][0]
    preview = service.preview_unsubscribe(token, SECRET, store)
    assert preview.subscribed
    assert not preview.changed
    assert store.prefs[ann].marketing.consent
    done = service.unsubscribe(token, SECRET, store, source="one-click", clock=Clock())
    assert (done.subscribed, done.changed) == (False, True)
    assert store.prefs[ann].marketing.withdrawn_source == "one-click"
    repeat = service.unsubscribe(token, SECRET, store, source="one-click", clock=Clock())
    assert (repeat.subscribed, repeat.changed) == (False, False)


def test_devices_need_push_configured_are_capped_and_a_new_token_replaces_the_endpoint() -> None:
    store, registry = FakeStore(), FakeRegistry()
    ann = customer(store)
    with pytest.raises(PushNotConfigured):
        service.register_device(
            service.RegisterDevice(ann, "d", Platform.FCM, "a" * 40), store, FakeRegistry(enabled=False)
        )
    first = service.register_device(service.RegisterDevice(ann, "d", Platform.FCM, "a" * 40), store, registry)
    service.register_device(service.RegisterDevice(ann, "d", Platform.FCM, "c" * 40), store, registry)
    assert registry.removed == [first.endpoint_arn]
    for i in range(9):
        service.register_device(service.RegisterDevice(ann, f"d{i}", Platform.APNS, f"{i}" * 64), store, registry)
    with pytest.raises(TooManyDevices):
        service.register_device(service.RegisterDevice(ann, "one-more", Platform.FCM, "z" * 40), store, registry)
    assert service.remove_device(service.RemoveDevice(ann, "d"), store, registry)
    assert not service.remove_device(service.RemoveDevice(ann, "d"), store, registry)
    assert len(store.devices(ann)) == 9
