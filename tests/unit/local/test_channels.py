"""The local cloud's message channels in pure code: SES's mailbox simulator, the feedback events SES publishes, MIME
letters, push payloads and the mailbox's records."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from gears.local.cloud import (
    Letter,
    Mailbox,
    parse_mime,
    push_text,
    raw_letter,
    read_mailbox,
    ses_events,
    simulator_outcome,
)

ALL_TYPES = {"send", "delivery", "bounce", "complaint", "reject"}


@pytest.mark.parametrize(
    ("address", "outcome"),
    [
        ("bounce@simulator.amazonses.com", "Bounce"),
        ("bounce+order-42@simulator.amazonses.com", "Bounce"),
        ("Ann <BOUNCE@Simulator.AmazonSES.com>", "Bounce"),
        ("suppressionlist@simulator.amazonses.com", "Bounce"),
        ("complaint@simulator.amazonses.com", "Complaint"),
        ("complaint+campaign@simulator.amazonses.com", "Complaint"),
        ("success@simulator.amazonses.com", "Delivery"),
        ("bounce@example.com", "Delivery"),
        ("ann@example.com", "Delivery"),
    ],
)
def test_the_mailbox_simulator_meaning_of_an_address(address: str, outcome: str) -> None:
    assert simulator_outcome(address) == outcome


def _letter(*to: str) -> Letter:
    return Letter(
        sender="shop@gears.example",
        to=list(to),
        subject="Your order",
        text="On its way",
        headers={"List-Unsubscribe": "<https://x/u>"},
        tags={"notificationId": "n-1"},
        configuration_set="gears-dev",
    )


def _events(letter: Letter, types: set[str] = ALL_TYPES) -> list[dict]:
    return ses_events(letter, "msg-1", account="123456789012", region="us-east-1", event_types=types, sent_at=0.0)


def test_a_delivered_message_is_sent_then_delivered_with_its_id_destination_and_tags() -> None:
    events = _events(_letter("ann@example.com"))
    assert [e["eventType"] for e in events] == ["Send", "Delivery"]
    mail = events[1]["mail"]
    assert mail["messageId"] == "msg-1"
    assert mail["destination"] == ["ann@example.com"]
    assert mail["source"] == "shop@gears.example"
    assert mail["timestamp"] == "1970-01-01T00:00:00.000Z"
    # SES gives every tag as a list of values, its own ses: tags among them
    assert mail["tags"]["notificationId"] == ["n-1"]
    assert mail["tags"]["ses:configuration-set"] == ["gears-dev"]
    assert {"name": "List-Unsubscribe", "value": "<https://x/u>"} in mail["headers"]
    assert events[1]["delivery"]["recipients"] == ["ann@example.com"]


def test_a_bounce_is_permanent_and_names_the_recipient() -> None:
    [bounce] = _events(_letter("bounce@simulator.amazonses.com"), {"bounce", "delivery"})
    assert bounce["eventType"] == "Bounce"
    assert bounce["bounce"]["bounceType"] == "Permanent"
    assert [r["emailAddress"] for r in bounce["bounce"]["bouncedRecipients"]] == ["bounce@simulator.amazonses.com"]


def test_a_complaint_comes_after_the_delivery_it_complains_about() -> None:
    events = _events(_letter("complaint@simulator.amazonses.com"))
    assert [e["eventType"] for e in events] == ["Send", "Delivery", "Complaint"]
    assert events[2]["complaint"]["complainedRecipients"] == [{"emailAddress": "complaint@simulator.amazonses.com"}]


def test_each_recipient_gets_its_own_outcome_and_only_the_matching_types_are_published() -> None:
    letter = _letter("ann@example.com", "bounce@simulator.amazonses.com")
    events = _events(letter, {"bounce", "complaint"})
    assert [e["eventType"] for e in events] == ["Bounce"]
    assert events[0]["mail"]["destination"] == ["ann@example.com", "bounce@simulator.amazonses.com"]
    assert _events(letter, set()) == []


def _mime() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Spring sale: 20% off ☀"
    message["From"] = "Gears <shop@gears.example>"
    message["To"] = "Ann Example <ann@example.com>"
    message["Cc"] = "bob@example.com"
    message["List-Unsubscribe"] = "<https://api.example/notifications/unsubscribe?token=abc>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("Hello Ann, £5 off")
    message.add_alternative("<p>Hello <b>Ann</b>, &pound;5 off</p>", subtype="html")
    return message


def test_a_raw_message_gives_subject_text_html_and_its_headers() -> None:
    subject, text, html, headers = parse_mime(_mime().as_bytes())
    assert subject == "Spring sale: 20% off ☀"
    assert text is not None
    assert text.strip() == "Hello Ann, £5 off"
    assert html is not None
    assert "<b>Ann</b>" in html
    assert headers == {
        "List-Unsubscribe": "<https://api.example/notifications/unsubscribe?token=abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_a_raw_letter_is_addressed_to_the_call_and_header_recipients_once_each() -> None:
    raw = _mime().as_bytes().decode("utf-8")  # as moto hands it over
    letter = raw_letter(raw, None, ["ann@example.com", "carol@example.com"])
    assert letter.sender == "shop@gears.example"
    assert letter.to == ["ann@example.com", "carol@example.com", "bob@example.com"]
    assert letter.body.strip() == "Hello Ann, £5 off"


def test_an_html_only_letter_reads_as_its_text() -> None:
    letter = Letter(sender="s@x", to=["a@x"], subject="s", text=None, html="<p>Hello <b>Ann</b> &amp; co</p>")
    assert letter.body == "Hello Ann & co"


@pytest.mark.parametrize(
    ("message", "structured", "platform", "shown"),
    [
        ("Your order shipped", False, "GCM", ("", "Your order shipped")),
        (
            json.dumps({"notification": {"title": "Shipped", "body": "On its way"}}),
            False,
            "GCM",
            ("Shipped", "On its way"),
        ),
        (
            json.dumps(
                {
                    "default": "d",
                    "GCM": json.dumps({"fcmV1Message": {"message": {"notification": {"title": "T", "body": "B"}}}}),
                }
            ),
            True,
            "GCM",
            ("T", "B"),
        ),
        (json.dumps({"default": "plain", "APNS": json.dumps({"aps": {"alert": "Hi"}})}), True, "APNS", ("", "Hi")),
        (json.dumps({"default": "plain"}), True, "GCM", ("", "plain")),
        (json.dumps({"data": {"orderId": "o-1"}}), False, "GCM", ("", '{"data": {"orderId": "o-1"}}')),
    ],
)
def test_a_push_message_shows_what_the_device_would(
    message: str, structured: bool, platform: str, shown: tuple[str, str]
) -> None:
    assert push_text(message, structured, platform) == shown


def test_mailbox_records_carry_channel_html_headers_id_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "mailbox.jsonl"
    box = Mailbox(path)
    box.deliver(["ann@example.com"], "Code", "Your code is 123456", sender="c", via="cognito")
    box.deliver(["+447700900123"], "", "Code 654321", sender="sns", via="sns", channel="sms", message_id="m-2")
    [cognito] = read_mailbox(path, "ANN@example.com")
    assert cognito["channel"] == "email"
    assert cognito["html"] is None
    assert cognito["headers"] == {}
    assert cognito["tags"] == {}
    assert cognito["messageId"] is None
    [sms] = read_mailbox(path, channel="sms")
    assert sms["to"] == ["+447700900123"]
    assert sms["messageId"] == "m-2"
    assert read_mailbox(path, "ann@example.com", channel="sms") == []
