"""The rules the notification service decides without I/O: channels per kind, consent, what a message goes on (and
why not), deterministic ids and the unsubscribe token."""

from __future__ import annotations

import pytest

from notification.domain import (
    ADDRESS_SUPPRESSED,
    CHANNEL_NOT_CHOSEN,
    NO_CONSENT,
    NO_CONTACT,
    NO_DEVICE,
    NO_PHONE,
    PUSH_DISABLED,
    Channel,
    Contact,
    Device,
    ForgedToken,
    InvalidToken,
    Kind,
    Platform,
    PreferenceError,
    Preferences,
    Recipient,
    State,
    UnsubscribeToken,
    notification_id,
    plan,
    sign_token,
    verify_token,
)

NOW = "2026-03-01T12:00:00.000Z"
ANN = Contact("ann", email="ann@example.com", name="Ann Lee", phone="+447700900123", as_of=NOW)
PHONE = Device("phone", Platform.FCM, "t" * 40, "arn:endpoint/phone", NOW)


def recipient(prefs: Preferences | None = None, contact: Contact | None = ANN, **kw: object) -> Recipient:
    return Recipient("ann", contact, prefs or Preferences("ann"), **kw)  # type: ignore[arg-type]


def test_by_default_everything_goes_by_email_and_marketing_needs_consent() -> None:
    prefs = Preferences("ann")
    assert {k: prefs.channels_for(k) for k in Kind} == {k: (Channel.EMAIL,) for k in Kind}
    assert not prefs.receives(Channel.EMAIL, Kind.MARKETING)
    assert prefs.receives(Channel.EMAIL, Kind.ORDER_UPDATES)


def test_transactional_kinds_keep_email_and_alerts_stay_email() -> None:
    prefs = Preferences("ann")
    with pytest.raises(PreferenceError):
        prefs.with_channels({Kind.ORDER_UPDATES: [Channel.SMS]}, NOW)
    with pytest.raises(PreferenceError):
        prefs.with_channels({Kind.ALERTS: [Channel.EMAIL, Channel.PUSH]}, NOW)
    chosen = prefs.with_channels({Kind.ORDER_UPDATES: [Channel.PUSH, Channel.EMAIL, Channel.SMS]}, NOW)
    assert chosen.channels_for(Kind.ORDER_UPDATES) == (Channel.EMAIL, Channel.SMS, Channel.PUSH)


def test_consent_keeps_when_and_how_and_withdrawal_is_recorded() -> None:
    given = Preferences("ann").with_consent(True, "signup-checkbox", NOW)
    assert given.marketing.consent
    assert given.marketing.given_at == NOW
    assert given.marketing.source == "signup-checkbox"
    again = given.with_consent(True, "settings", "2026-03-02T00:00:00.000Z")
    assert again.marketing.given_at == NOW
    assert again.marketing.source == "signup-checkbox"
    withdrawn = given.with_consent(False, "settings", "2026-03-03T00:00:00.000Z")
    assert not withdrawn.marketing.consent
    assert withdrawn.marketing.withdrawn_at == "2026-03-03T00:00:00.000Z"
    assert withdrawn.marketing.given_at == NOW


def test_unsubscribing_the_last_marketing_channel_withdraws_consent_and_a_repeat_changes_nothing() -> None:
    prefs = Preferences("ann").with_consent(True, "settings", NOW)
    prefs = prefs.with_channels({Kind.MARKETING: [Channel.EMAIL, Channel.SMS]}, NOW)
    off_email = prefs.unsubscribed(Channel.EMAIL, Kind.MARKETING, "one-click", NOW)
    assert off_email.channels_for(Kind.MARKETING) == (Channel.SMS,)
    assert off_email.marketing.consent
    assert off_email.unsubscribed(Channel.EMAIL, Kind.MARKETING, "one-click", NOW) == off_email
    none_left = off_email.unsubscribed(Channel.SMS, Kind.MARKETING, "one-click", NOW)
    assert not none_left.marketing.consent
    assert none_left.marketing.withdrawn_source == "one-click"
    assert Preferences("ann").unsubscribed(Channel.EMAIL, Kind.ORDER_UPDATES, "x", NOW) == Preferences("ann")


def test_a_transactional_message_goes_by_email_and_on_the_chosen_channels_that_can_reach_the_customer() -> None:
    prefs = Preferences("ann").with_channels({Kind.ORDER_UPDATES: [Channel.EMAIL, Channel.SMS, Channel.PUSH]}, NOW)
    decisions = plan(Kind.ORDER_UPDATES, recipient(prefs, devices=(PHONE,)))
    assert [(d.channel, d.state, d.address) for d in decisions] == [
        (Channel.EMAIL, State.SENDING, "ann@example.com"),
        (Channel.SMS, State.SENDING, "+447700900123"),
        (Channel.PUSH, State.SENDING, "arn:endpoint/phone"),
    ]
    no_phone = Contact("ann", email="ann@example.com", as_of=NOW)
    reasons = [(d.channel, d.reason) for d in plan(Kind.ORDER_UPDATES, recipient(prefs, no_phone)) if not d.sends]
    assert reasons == [(Channel.SMS, NO_PHONE), (Channel.PUSH, NO_DEVICE)]
    off = plan(Kind.ORDER_UPDATES, recipient(prefs, devices=(PHONE,)), push_enabled=False)
    assert off[-1].reason == PUSH_DISABLED


def test_a_suppressed_address_or_an_unknown_customer_gets_nothing_and_says_why() -> None:
    [email] = plan(Kind.SUPPORT, recipient(email_suppressed=True))
    assert (email.state, email.reason) == (State.SUPPRESSED, ADDRESS_SUPPRESSED)
    [unknown] = plan(Kind.SUPPORT, recipient(contact=None))
    assert (unknown.state, unknown.reason) == (State.FAILED, NO_CONTACT)


def test_marketing_ends_every_campaign_channel_in_a_decision() -> None:
    channels = (Channel.EMAIL, Channel.SMS, Channel.PUSH)
    no_consent = plan(Kind.MARKETING, recipient(), campaign_channels=channels)
    assert [(d.state, d.reason) for d in no_consent] == [(State.SUPPRESSED, NO_CONSENT)] * 3
    consenting = Preferences("ann").with_consent(True, "settings", NOW)
    decided = plan(Kind.MARKETING, recipient(consenting), campaign_channels=channels)
    assert [(d.channel, d.state, d.reason) for d in decided] == [
        (Channel.EMAIL, State.SENDING, None),
        (Channel.SMS, State.SUPPRESSED, CHANNEL_NOT_CHOSEN),
        (Channel.PUSH, State.SUPPRESSED, CHANNEL_NOT_CHOSEN),
    ]


def test_notification_ids_are_deterministic_per_source_recipient_and_channel() -> None:
    one = notification_id("event-1", "ann", Channel.EMAIL)
    assert one == notification_id("event-1", "ann", Channel.EMAIL)
    assert (
        len(
            {
                one,
                notification_id("event-2", "ann", Channel.EMAIL),
                notification_id("event-1", "bob", Channel.EMAIL),
                notification_id("event-1", "ann", Channel.SMS),
            }
        )
        == 4
    )


def test_a_token_names_user_channel_and_kind_and_any_change_to_it_is_refused() -> None:
    token = sign_token(b"secret", UnsubscribeToken("ann", Channel.EMAIL, Kind.MARKETING))
    assert verify_token(b"secret", token) == UnsubscribeToken("ann", Channel.EMAIL, Kind.MARKETING)
    body, signature = token.split(".")
    forged_body = sign_token(b"secret", UnsubscribeToken("bob", Channel.EMAIL, Kind.MARKETING)).split(".")[0]
    with pytest.raises(ForgedToken):
        verify_token(b"secret", f"{forged_body}.{signature}")
    with pytest.raises(ForgedToken):
        verify_token(b"another secret", token)
    for bad in ("", "no-dot", "a.b.c", f"{body}.!!!", "x" * 700):
        with pytest.raises((InvalidToken, ForgedToken)):
            verify_token(b"secret", bad)
