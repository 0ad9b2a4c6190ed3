"""Events in, messages out, against moto: SES v2 for email, SNS for SMS and push; the log, the published states,
SES feedback and the table's invariants."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from types import ModuleType

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.invariants import Shop
from tests.functional.notification.conftest import (
    Answer,
    claims,
    event,
    mails_to,
    order_placed,
    profile,
    pushes,
    registered,
    sms_sent,
    sqs_event,
    table_items,
)
from tests.support.topics import drain, stream_batch, subscribe_queue


def ctx() -> LambdaContext:
    """A fresh invocation\'s context (its deadline runs from now)."""
    return LambdaContext("NotificationEventsConsumerFunction", timeout_s=60)


def new_customer(consumers: ModuleType, *, phone: str | None = None) -> tuple[str, str]:
    user_id = f"user-{uuid.uuid4().hex[:10]}"
    address = f"{user_id}@example.com"
    envelopes = [registered(user_id, address)] + ([profile(user_id, address, phone)] if phone else [])
    assert consumers.handler(sqs_event(*envelopes), ctx()) == {"batchItemFailures": []}
    return user_id, address


def test_an_order_sends_one_receipt_however_often_the_event_comes_and_its_log_says_so(
    consumers: ModuleType, call: Callable[..., Answer], env: dict[str, str], cloud: Stack
) -> None:
    topic_queue = subscribe_queue(env["TOPIC_ARN"])
    user_id, address = new_customer(consumers)
    placed = order_placed("o-func-1", user_id)
    assert consumers.handler(sqs_event(placed, placed), ctx()) == {"batchItemFailures": []}
    assert consumers.handler(sqs_event(placed), ctx()) == {"batchItemFailures": []}

    [mail] = mails_to(address)
    assert mail.subject == "We have your order o-func-1"
    # moto keeps one body of a simple email (the HTML when there is one).
    assert "Enamel mug" in mail.text
    assert "£13.99" in mail.text
    assert "Hello Ann" in mail.text

    log = call("GET", "/me/notifications", claims=claims(user_id))
    assert log.status == 200
    [item] = log.body["items"]
    assert (item["channel"], item["kind"], item["state"], item["subject"]) == (
        "email",
        "orderUpdates",
        "sent",
        "We have your order o-func-1",
    )
    stored = [i for i in table_items(env["TABLE_NAME"]) if i.get("entity") == "Notification"]
    assert stored[0]["messageId"] == mail.message_id  # SES's id kept: feedback finds the message by it

    publisher = __import__("importlib").reload(__import__("notification.publisher", fromlist=["handler"]))
    result = publisher.handler(stream_batch(cloud, "NotificationTable"), LambdaContext("Publisher"))
    assert result == {"batchItemFailures": []}
    [sent] = drain(topic_queue)
    assert sent.type == "NotificationSent.v1"
    assert sent.data["userId"] == user_id
    assert sent.data["sourceEventId"] == placed.id
    assert sent.data["campaignId"] is None
    assert sent.data["kind"] == "orderUpdates"


def test_sms_goes_to_a_confirmed_phone_and_push_to_a_registered_device(
    consumers: ModuleType, call: Callable[..., Answer]
) -> None:
    user_id, address = new_customer(consumers, phone="+447700900123")
    me = claims(user_id)
    prefs = call(
        "PUT", "/me/notification-preferences", claims=me, body={"channels": {"orderUpdates": ["email", "sms", "push"]}}
    )
    assert prefs.status == 200, prefs
    device = call(
        "PUT",
        "/me/devices/pixel-8",
        route="/me/devices/{deviceId}",
        path_parameters={"deviceId": "pixel-8"},
        claims=me,
        body={"platform": "fcm", "token": "f" * 32 + ":APA91b" + "x" * 100},
    )
    assert device.status == 200, device
    shipped = event(
        "OrderShipped.v1",
        "gears.orders",
        {
            "orderId": "o-func-2",
            "userId": user_id,
            "carrier": "royal_mail",
            "trackingNumber": "RM123456785GB",
            "shippedAt": "2026-03-02T09:00:00Z",
        },
    )
    assert consumers.handler(sqs_event(shipped), ctx()) == {"batchItemFailures": []}

    [mail] = mails_to(address)
    assert "Royal Mail" in mail.text
    assert "RM123456785GB" in mail.text
    assert [text for phone, text in sms_sent() if phone == "+447700900123"] == [
        "Gears: order o-func-2 shipped with Royal Mail, tracking RM123456785GB."
    ]
    from notification import bootstrap

    [registered_device] = bootstrap.store().devices(user_id)
    assert pushes(registered_device.endpoint_arn) == ["Order o-func-2 shipped: Royal Mail RM123456785GB."]
    states = {i["channel"]: i["state"] for i in call("GET", "/me/notifications", claims=me).body["items"]}
    assert states == {"email": "sent", "sms": "sent", "push": "sent"}


def test_an_invalid_number_fails_the_sms_for_good_and_the_email_still_goes(
    consumers: ModuleType, call: Callable[..., Answer]
) -> None:
    user_id, address = new_customer(consumers, phone="+0123456789")  # not a number SNS takes
    me = claims(user_id)
    call("PUT", "/me/notification-preferences", claims=me, body={"channels": {"orderUpdates": ["email", "sms"]}})
    paid = event(
        "OrderPaid.v1",
        "gears.orders",
        {"orderId": "o-func-3", "userId": user_id, "total": {"amount": 1399, "currency": "GBP"}},
    )
    assert consumers.handler(sqs_event(paid), ctx()) == {"batchItemFailures": []}
    states = {
        i["channel"]: (i["state"], i["reason"]) for i in call("GET", "/me/notifications", claims=me).body["items"]
    }
    assert states["email"] == ("sent", None)
    assert states["sms"] == ("failed", "invalid-address")
    assert len(mails_to(address)) == 1


def ses_event(kind: str, message_id: str, notification_id: str | None, address: str, **detail: object) -> str:
    body: dict[str, object] = {
        "eventType": kind,
        "mail": {
            "timestamp": "2026-03-01T12:00:01.000Z",
            "messageId": message_id,
            "destination": [address],
            "tags": {"notificationId": [notification_id]} if notification_id else {},
        },
    }
    key = kind[0].lower() + kind[1:]
    body[key] = {"timestamp": "2026-03-01T12:00:02.000Z", **detail}
    return json.dumps(body)


def test_ses_feedback_delivers_bounces_and_suppresses_the_address_for_every_later_email(
    consumers: ModuleType, call: Callable[..., Answer], env: dict[str, str]
) -> None:
    user_id, address = new_customer(consumers)
    me = claims(user_id)
    consumers.handler(sqs_event(order_placed("o-func-4", user_id)), ctx())
    [mail] = mails_to(address)
    [item] = call("GET", "/me/notifications", claims=me).body["items"]

    delivered = ses_event("Delivery", mail.message_id, item["notificationId"], address, recipients=[address])
    assert consumers.feedback_handler(sqs_event(bodies=[delivered]), ctx()) == {"batchItemFailures": []}
    [item] = call("GET", "/me/notifications", claims=me).body["items"]
    assert item["state"] == "delivered"
    assert item["deliveredAt"] == "2026-03-01T12:00:02.000Z"

    # A bounce that lost its tags is found by SES's message id.
    bounce = ses_event(
        "Bounce", mail.message_id, None, address, bounceType="Permanent", bouncedRecipients=[{"emailAddress": address}]
    )
    wrapped = json.dumps({"Type": "Notification", "Message": bounce})  # as SNS delivers without raw delivery
    batch = sqs_event(bodies=[wrapped, "not json"])
    answer = consumers.feedback_handler(batch, ctx())
    assert answer["batchItemFailures"] == [{"itemIdentifier": batch["Records"][1]["messageId"]}]
    [item] = call("GET", "/me/notifications", claims=me).body["items"]
    assert (item["state"], item["reason"]) == ("failed", "bounced")

    consumers.handler(sqs_event(order_placed("o-func-5", user_id)), ctx())
    assert len(mails_to(address)) == 1  # nothing more went to the bounced address
    latest = call("GET", "/me/notifications", claims=me).body["items"][0]
    assert (latest["state"], latest["reason"]) == ("suppressed", "address-suppressed")

    from notification import invariants

    results = {c.name: c for c in invariants.checks(table_items(env["TABLE_NAME"]), Shop())}
    assert all(c.ok for c in results.values()), [c.to_dict() for c in results.values()]


def test_unreadable_feedback_fails_its_record_only(consumers: ModuleType) -> None:
    answer = consumers.feedback_handler(sqs_event(bodies=["not json", json.dumps({"eventType": "Delivery"})]), ctx())
    assert len(answer["batchItemFailures"]) == 2


def test_stock_low_alerts_the_admins_by_email(consumers: ModuleType) -> None:
    admin = f"admin-{uuid.uuid4().hex[:8]}"
    roles = event(
        "UserRolesChanged.v1",
        "gears.auth",
        {
            "userId": admin,
            "email": f"{admin}@example.com",
            "roles": ["admin", "customer"],
            "changedAt": "2026-03-01T09:00:00Z",
            "changeId": "c-1",
        },
    )
    low = event(
        "StockLow.v1", "gears.inventory", {"sku": "SKU-LOW", "productId": "p-9", "available": 2, "threshold": 5}
    )
    assert consumers.handler(sqs_event(roles, low), ctx()) == {"batchItemFailures": []}
    [mail] = mails_to(f"{admin}@example.com")
    assert mail.subject == "Low stock: SKU-LOW (2 left)"


def test_a_throttled_provider_brings_the_message_back_and_the_retry_sends_it_once(
    consumers: ModuleType, monkeypatch: object
) -> None:
    from notification import bootstrap
    from notification.errors import ProviderUnavailable

    user_id, address = new_customer(consumers)
    sender = bootstrap.outbox().email
    real = sender.send
    calls = {"n": 0}

    def throttled(email: object) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ProviderUnavailable("TooManyRequestsException")
        return real(email)  # type: ignore[arg-type]

    sender.send = throttled  # type: ignore[method-assign]
    placed = order_placed("o-func-6", user_id)
    first = consumers.handler(sqs_event(placed), ctx())
    assert len(first["batchItemFailures"]) == 1
    assert mails_to(address) == []
    assert consumers.handler(sqs_event(placed), ctx()) == {"batchItemFailures": []}
    assert len(mails_to(address)) == 1
    assert consumers.retry_delay(ProviderUnavailable("x"), 1) == 10
    assert consumers.retry_delay(ProviderUnavailable("x"), 8) == 300
