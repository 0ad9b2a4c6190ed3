"""The events consumer on moto: customers built from the shop's events, each event once, a payment that comes
before its order retried, campaign outcomes counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functional.crm.conftest import Call, event, paid, placed, registered
from tests.support.handlers import ADMIN, SUPPORT


def test_a_customer_from_the_shops_events(deliver: Callable[..., Any], call: Call) -> None:
    assert deliver(registered("u-fa", "fa@example.com", "Fay Ames")) == {"batchItemFailures": []}
    assert deliver(placed("o-fa-1", "u-fa", 2599), placed("o-fa-2", "u-fa", 1000)) == {"batchItemFailures": []}
    assert deliver(paid("o-fa-1", 2599), paid("o-fa-2", 1000)) == {"batchItemFailures": []}
    refund = event(
        "PaymentRefunded.v1",
        {"orderId": "o-fa-2", "refundId": "re-1", "userId": "u-fa", "amount": {"amount": 400, "currency": "GBP"}},
    )
    cancel = event("OrderCancelled.v1", {"orderId": "o-fa-2", "userId": "u-fa", "reason": "customer_request"})
    assert deliver(refund, cancel) == {"batchItemFailures": []}

    fay = call("GET", "/admin/customers/{userId}", claims=SUPPORT, userId="u-fa")
    assert fay.status == 200
    assert (fay.body["email"], fay.body["name"]) == ("fa@example.com", "Fay Ames")
    orders = fay.body["orders"]
    assert (orders["placed"], orders["paid"], orders["cancelled"]) == (2, 2, 1)
    assert orders["spent"] == {"amount": 3599, "currency": "GBP"}
    assert fay.body["lifetimeValue"] == {"amount": 3199, "currency": "GBP"}
    assert fay.body["rfm"] is None  # not scored before the first recompute
    kinds = [e["kind"] for e in fay.body["timeline"]]
    assert sorted(kinds) == sorted(
        ["registered", "order-placed", "order-placed", "order-paid", "order-paid", "order-refunded", "order-cancelled"]
    )

    listed = call("GET", "/admin/customers", claims=ADMIN)
    assert "u-fa" in [c["userId"] for c in listed.body["items"]]


def test_a_redelivered_event_changes_nothing(deliver: Callable[..., Any], call: Call) -> None:
    order = placed("o-re-1", "u-re", 1500)
    payment = paid("o-re-1", 1500)
    assert deliver(order, payment) == {"batchItemFailures": []}
    assert deliver(order, payment, payment) == {"batchItemFailures": []}
    body = call("GET", "/admin/customers/{userId}", claims=SUPPORT, userId="u-re").body
    assert (body["orders"]["placed"], body["orders"]["paid"]) == (1, 1)
    assert body["lifetimeValue"]["amount"] == 1500


def test_a_payment_before_its_order_comes_back_later(deliver: Callable[..., Any], call: Call) -> None:
    early = paid("o-early", 900, user_id="u-early")
    result = deliver(early)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["m-0"]
    assert call("GET", "/admin/customers/{userId}", claims=SUPPORT, userId="u-early").status == 404
    assert deliver(placed("o-early", "u-early", 900), early) == {"batchItemFailures": []}
    body = call("GET", "/admin/customers/{userId}", claims=SUPPORT, userId="u-early").body
    assert body["orders"]["paid"] == 1


def test_campaign_outcomes_are_counted_once(deliver: Callable[..., Any], call: Call) -> None:
    created = call(
        "POST",
        "/admin/campaigns",
        claims=ADMIN,
        body={
            "name": "Count me",
            "segment": "champions",
            "subject": "Hi",
            "body": "Hello {{ name }}",
            "channels": ["email", "sms"],
        },
    )
    assert created.status == 202
    cid = created.body["campaignId"]

    def outcome(type_: str, n: int, channel: str = "email", campaign: str | None = cid) -> Any:
        return event(
            type_,
            {
                "notificationId": f"n-{n}-{channel}",
                "userId": f"u-{n}",
                "channel": channel,
                "kind": "marketing",
                "campaignId": campaign,
                "sourceEventId": "e",
                "at": "2026-03-01T00:00:00Z",
                "reason": None,
            },
        )

    sent = [outcome("NotificationSent.v1", n) for n in range(12)]
    batch = [
        *sent,
        outcome("NotificationDelivered.v1", 0),
        outcome("NotificationSuppressed.v1", 1, "sms"),
        outcome("NotificationFailed.v1", 2, "sms"),
        outcome("NotificationSent.v1", 3, campaign=None),
    ]
    assert deliver(*batch) == {"batchItemFailures": []}
    assert deliver(*sent[:3]) == {"batchItemFailures": []}  # redelivered: not counted again
    counts = call("GET", "/admin/campaigns/{campaignId}", claims=ADMIN, campaignId=cid).body["counts"]
    assert (counts["sent"], counts["delivered"], counts["suppressed"], counts["failed"]) == (12, 1, 1, 1)
    assert counts["byChannel"]["sms"]["suppressed"] == 1
    assert counts["byChannel"]["email"]["sent"] == 12
