"""Notifications through the running shop, as a customer meets them: an order's life on the channels the customer
chose (email always, SMS to the confirmed phone) and nothing on those they refused; a duplicate event sends
nothing twice; the one-click unsubscribe link of a marketing email works, and a forged one does nothing; a name
written as template syntax stays text."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.support.saga import (
    add_to_cart,
    aws_client,
    checkout,
    new_product,
    sqs_client,
    wait_for,
    wait_until,
)
from tests.support.shop import Customer, Shop

pytestmark = pytest.mark.usefixtures("shop")

FCM_TOKEN = "f" * 20 + ":" + "A" * 140


def new_phone() -> str:
    return f"+447700{random.randrange(900000, 999999)}"


def user_id(shop: Shop, customer: Customer) -> str:
    r = shop.get("/me", token=customer.token)
    assert r.status_code == 200, r.text
    return str(r.json()["userId"])


def confirm_phone(shop: Shop, customer: Customer, phone: str) -> None:
    r = shop.request("PATCH", "/me", json={"phone": phone}, token=customer.token)
    assert r.status_code == 200, r.text
    assert r.json()["pendingPhone"] == phone
    code = shop.code_for(phone)  # the SMS the auth service sent to the new number
    r = shop.post("/me/phone/confirm", json={"code": code}, token=customer.token)
    assert r.status_code == 200, r.text
    assert (r.json()["phone"], r.json()["phoneVerified"]) == (phone, True)


def notification_table(shop: Shop) -> str:
    return str(shop.state["resources"]["NotificationTable"]["Ref"])


def known_to_notifications(shop: Shop, uid: str, *, phone: str | None = None) -> bool:
    """Whether the notification service has heard auth's events about this customer (and of the phone)."""
    item = aws_client(shop, "dynamodb").get_item(
        TableName=notification_table(shop), Key={"pk": {"S": f"USER#{uid}"}, "sk": {"S": "CONTACT"}}
    )
    found = item.get("Item")
    return bool(found) and (phone is None or found.get("phone", {}).get("S") == phone)


def messages(shop: Shop, to: str, channel: str) -> list[dict[str, Any]]:
    return [m for m in shop.mail_for(to) if m.get("channel", "email") == channel and m.get("via") != "cognito"]


def log_of(shop: Shop, customer: Customer) -> list[dict[str, Any]]:
    r = shop.get("/me/notifications?limit=100", token=customer.token)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def send_to(shop: Shop, queue: str, type_: str, data: dict[str, Any], event_id: str, subject: str) -> None:
    from gears_shared.events import new_event

    event = new_event(type_, "gears.e2e", data, subject=subject, event_id=event_id)
    sqs_client(shop).send_message(
        QueueUrl=shop.state["resources"][queue]["QueueUrl"],
        MessageBody=event.to_json(),
        MessageAttributes={"type": {"DataType": "String", "StringValue": type_}},
    )


def test_an_orders_life_reaches_the_customer_on_the_chosen_channels_only(shop: Shop) -> None:
    admin = shop.admin()
    customer = shop.new_customer()
    uid = user_id(shop, customer)
    phone = new_phone()
    confirm_phone(shop, customer, phone)
    # Order updates by email (always) and SMS; push refused although a device is registered; no marketing consent.
    r = shop.put(
        "/me/notification-preferences", json={"channels": {"orderUpdates": ["email", "sms"]}}, token=customer.token
    )
    assert r.status_code == 200, r.text
    r = shop.put(
        f"/me/devices/{uuid.uuid4().hex[:12]}", json={"platform": "fcm", "token": FCM_TOKEN}, token=customer.token
    )
    assert r.status_code in (200, 201), r.text
    wait_until(lambda: known_to_notifications(shop, uid, phone=phone), "the notification service to know the phone")

    product = new_product(shop, admin, on_hand=3)
    add_to_cart(shop, customer, product["productId"], 1)
    order_id = checkout(shop, customer)
    wait_for(shop, customer.token, order_id, "PAID")
    ship = {"carrier": "royal_mail", "trackingNumber": f"RM{random.randrange(10**8, 10**9)}GB"}
    assert shop.post(f"/admin/orders/{order_id}/ship", json=ship, token=admin.token).status_code == 200
    assert shop.post(f"/admin/orders/{order_id}/deliver", token=admin.token).status_code == 200

    def about_the_order(channel: str, to: str) -> list[dict[str, Any]]:
        return [m for m in messages(shop, to, channel) if order_id in m["subject"] + m["body"]]

    # placed, paid, shipped, delivered: one email and one SMS each
    emails = wait_until(
        lambda: len(about_the_order("email", customer.email)) >= 4 and about_the_order("email", customer.email),
        "four order emails",
    )
    texts = wait_until(
        lambda: len(about_the_order("sms", phone)) >= 4 and about_the_order("sms", phone), "four order SMS"
    )
    shipped = [m for m in emails if ship["trackingNumber"] in m["body"]]
    assert shipped, emails
    assert "Royal Mail" in shipped[0]["body"], emails
    assert any(ship["trackingNumber"] in t["body"] for t in texts), texts
    assert all(m["html"] for m in emails)  # a text and an HTML part

    log = wait_until(lambda: [n for n in log_of(shop, customer) if n["kind"] == "orderUpdates"], "the delivery log")
    wait_until(lambda: len([n for n in log_of(shop, customer) if n["kind"] == "orderUpdates"]) >= 8, "8 logged")
    log = [n for n in log_of(shop, customer) if n["kind"] == "orderUpdates"]
    assert sorted({n["channel"] for n in log}) == ["email", "sms"], log  # no push: refused
    assert {n["state"] for n in log} <= {"sent", "delivered"}, log
    # Email is delivered by the (local) SES's feedback; SMS stays sent (no receipt).
    wait_until(
        lambda: all(n["state"] == "delivered" for n in log_of(shop, customer) if n["channel"] == "email"),
        "SES delivery feedback",
    )
    assert all(n["state"] == "sent" for n in log_of(shop, customer) if n["channel"] == "sms")
    assert [n for n in log_of(shop, customer) if n["kind"] == "marketing"] == []
    time.sleep(1)
    assert len(about_the_order("email", customer.email)) == 4  # nothing more came
    assert len(about_the_order("sms", phone)) == 4


def test_a_duplicate_event_sends_nothing_twice(shop: Shop) -> None:
    customer = shop.new_customer()
    uid = user_id(shop, customer)
    wait_until(lambda: known_to_notifications(shop, uid), "the notification service to know the customer")
    order_id = f"dup-{uuid.uuid4().hex[:10]}"
    tracking = f"DUP{uuid.uuid4().hex[:10].upper()}"
    data = {
        "orderId": order_id,
        "userId": uid,
        "carrier": "dpd",
        "trackingNumber": tracking,
        "shippedAt": "2026-03-01T12:00:00Z",
    }
    event_id = str(uuid.uuid4())
    send_to(shop, "NotificationEventsQueue", "OrderShipped.v1", data, event_id, order_id)
    wait_until(lambda: [m for m in messages(shop, customer.email, "email") if tracking in m["body"]], "the email")
    # At-least-once delivery: the same event twice more, then another event sent after them; once that one's email
    # is there, the copies were handled too (the queue is shared with the whole shop's traffic: it may never be
    # empty while we look).
    for _ in range(2):
        send_to(shop, "NotificationEventsQueue", "OrderShipped.v1", data, event_id, order_id)
    later = {**data, "orderId": order_id + "-later", "trackingNumber": tracking + "L"}
    send_to(shop, "NotificationEventsQueue", "OrderShipped.v1", later, str(uuid.uuid4()), later["orderId"])
    wait_until(
        lambda: [m for m in messages(shop, customer.email, "email") if tracking + "L" in m["body"]], "the later email"
    )
    time.sleep(2)
    mails = [m for m in messages(shop, customer.email, "email") if tracking in m["body"]]
    assert len([m for m in mails if tracking + "L" not in m["body"]]) == 1, mails
    shipped_log = [n for n in log_of(shop, customer) if n["kind"] == "orderUpdates"]
    assert len(shipped_log) == 2, shipped_log  # one message per event: the duplicate's and the later one's


def campaign_batch(shop: Shop, recipients: list[str], *, body: str, campaign_id: str | None = None) -> str:
    campaign_id = campaign_id or f"e2e-{uuid.uuid4().hex[:10]}"
    data = {
        "campaignId": campaign_id,
        "batchId": f"{campaign_id}#0",
        "name": "Spring",
        "subject": "Spring sale for {{ first_name }}",
        "body": body,
        "discountCode": "SPRING10",
        "channels": ["email"],
        "recipients": recipients,
    }
    send_to(shop, "NotificationCampaignQueue", "CampaignBatchReady.v1", data, str(uuid.uuid4()), campaign_id)
    return campaign_id


def test_unsubscribe_works_from_the_link_in_the_mail_and_a_forged_link_does_nothing(shop: Shop) -> None:
    customer = shop.new_customer()
    uid = user_id(shop, customer)
    r = shop.put(
        "/me/notification-preferences", json={"marketing": {"consent": True, "source": "e2e"}}, token=customer.token
    )
    assert r.status_code == 200, r.text
    assert r.json()["marketing"]["consentSource"] == "e2e"
    wait_until(lambda: known_to_notifications(shop, uid), "the notification service to know the customer")
    first = campaign_batch(shop, [uid], body="Hello {{ first_name }}: {{ discount_code }} takes 10% off.")
    mail = wait_until(
        lambda: [m for m in messages(shop, customer.email, "email") if "SPRING10" in m["body"]], "the campaign email"
    )[0]
    header = mail["headers"]["List-Unsubscribe"]
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header.strip("<>")
    assert link.startswith(shop.api + "/notifications/unsubscribe?token="), link  # opens on this shop's gateway

    token = parse_qs(urlparse(link).query)["token"][0]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    r = requests.post(
        f"{shop.api}/notifications/unsubscribe",
        params={"token": forged},
        data="List-Unsubscribe=One-Click",
        timeout=30,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code in (400, 403), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert shop.get("/me/notification-preferences", token=customer.token).json()["marketing"]["consent"] is True

    r = requests.get(link, timeout=30)  # a link scanner opening it changes nothing
    assert r.status_code == 200, r.text
    assert r.json()["subscribed"] is True
    # One click, as a mail client sends it (RFC 8058): a form-encoded POST to the header's link.
    r = requests.post(
        link,
        data="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["subscribed"], r.json()["changed"]) == (False, True)
    prefs = shop.get("/me/notification-preferences", token=customer.token).json()
    assert "email" not in prefs["channels"]["marketing"]
    assert prefs["marketing"]["consent"] is False
    assert prefs["marketing"]["consentWithdrawnAt"]

    second = campaign_batch(shop, [uid], body="Last chance, {{ name }}!")
    note = wait_until(
        lambda: [n for n in log_of(shop, customer) if n["campaignId"] == second], "the second campaign's outcome"
    )[0]
    assert note["state"] == "suppressed", note
    assert not [m for m in messages(shop, customer.email, "email") if "Last chance" in m["body"]]
    assert first != second


def test_a_name_written_as_template_syntax_stays_text(shop: Shop) -> None:
    customer = shop.new_customer()
    uid = user_id(shop, customer)
    name = "{{ 7 * 7 }} {% for x in range(3) %}<b>x</b>{% endfor %}"
    r = shop.request("PATCH", "/me", json={"name": name}, token=customer.token)
    assert r.status_code == 200, r.text
    shop.put("/me/notification-preferences", json={"marketing": {"consent": True}}, token=customer.token)
    wait_until(
        lambda: (
            known_to_notifications(shop, uid)
            and aws_client(shop, "dynamodb")
            .get_item(TableName=notification_table(shop), Key={"pk": {"S": f"USER#{uid}"}, "sk": {"S": "CONTACT"}})
            .get("Item", {})
            .get("name", {})
            .get("S")
            == name
        ),
        "the notification service to know the name",
    )
    campaign_batch(shop, [uid], body="Dear {{ name }}, thank you.")
    mail = wait_until(
        lambda: [m for m in messages(shop, customer.email, "email") if "thank you" in m["body"]], "the campaign email"
    )[0]
    assert name in mail["body"]
    assert "49" not in mail["body"]
    assert "<b>x</b>" not in (mail["html"] or "")
    assert "&lt;b&gt;" in (mail["html"] or "")


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "07700 900123"},
        {"phone": "+44"},
        {"locale": "not a locale!"},
        {"name": "a\u0000b"},
        {"email": "x@y.z"},
    ],
)
def test_bad_profile_input_is_a_clear_400_and_sends_nothing(shop: Shop, body: dict[str, Any]) -> None:
    customer = shop.new_customer()
    before = len(shop.mail_for(str(body.get("phone", "")))) if "phone" in body else 0
    r = shop.request("PATCH", "/me", json=body, token=customer.token)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    me = shop.get("/me", token=customer.token).json()
    assert me["pendingPhone"] is None
    assert me["phone"] is None
    if "phone" in body:
        assert len(shop.mail_for(str(body["phone"]))) == before


def test_a_wrong_phone_code_changes_nothing(shop: Shop) -> None:
    customer = shop.new_customer()
    phone = new_phone()
    r = shop.request("PATCH", "/me", json={"phone": phone}, token=customer.token)
    assert r.status_code == 200, r.text
    code = shop.code_for(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = shop.post("/me/phone/confirm", json={"code": wrong}, token=customer.token)
    assert r.status_code == 400, r.text
    me = shop.get("/me", token=customer.token).json()
    assert (me["phone"], me["pendingPhone"], me["phoneVerified"]) == (None, phone, False)


def test_bad_preferences_and_devices_are_refused(shop: Shop) -> None:
    customer = shop.new_customer()
    for body in (
        {"channels": {"orderUpdates": ["sms"]}},  # order updates always keep email
        {"channels": {"marketing": ["fax"]}},
        {"marketing": {"consent": "yes"}},
    ):
        r = shop.put("/me/notification-preferences", json=body, token=customer.token)
        assert r.status_code in (400, 422), (body, r.text)
    r = shop.put("/me/devices/d1", json={"platform": "fcm", "token": "short"}, token=customer.token)
    assert r.status_code == 400, r.text
    assert json.loads(r.text)["status"] == 400
