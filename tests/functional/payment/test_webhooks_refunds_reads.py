"""Stripe's webhooks (signature, tolerance, once per event, reconciliation), admin refunds and the payment read."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from gears.local.stripe_emulator import sign
from gears_shared.consumers import COMPLETED, DynamoInbox, InMemoryInbox
from payment import bootstrap
from tests.functional.payment.conftest import (
    SUPPORT,
    WEBHOOK_SECRET,
    Payments,
    customer,
    order_confirmed,
)


def charged(payments: Payments, amount: int = 5000, user: str = "user-1") -> str:
    event = order_confirmed(amount=amount, user_id=user)
    assert payments.deliver(event) == {"batchItemFailures": []}
    return str(event["data"]["orderId"])


# -- webhooks --------------------------------------------------------------------------------------------------------
def test_a_forged_webhook_is_refused_and_changes_nothing(payments: Payments) -> None:
    order_id = charged(payments)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")
    forged = json.loads(succeeded.body)
    forged["id"] = "evt_forged"
    forged["type"] = "payment_intent.canceled"
    body = json.dumps(forged)

    assert payments.webhook(body, sign(body, "whsec_not_the_secret")).status == 400
    assert payments.webhook(body, succeeded.signature).status == 400  # a real signature of another body
    assert payments.webhook(body, None).status == 400
    assert payments.webhook("not json", sign("not json", WEBHOOK_SECRET)).status == 400

    assert payments.get(order_id, customer("user-1")).body["status"] == "SUCCEEDED"


def test_a_stale_webhook_is_refused(payments: Payments) -> None:
    charged(payments)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")

    stale = sign(succeeded.body, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    answer = payments.webhook(succeeded.body, stale)

    assert answer.status == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert payments.webhook(succeeded.body, sign(succeeded.body, WEBHOOK_SECRET)).status == 200


def test_a_replayed_webhook_is_applied_once(payments: Payments) -> None:
    order_id = charged(payments)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")

    first = payments.webhook(succeeded.body, succeeded.signature)
    replay = payments.webhook(succeeded.body, sign(succeeded.body, WEBHOOK_SECRET))

    assert (first.status, first.body["duplicate"]) == (200, False)
    assert (replay.status, replay.body["duplicate"]) == (200, True)
    assert payments.published_types(order_id) == ["PaymentSucceeded.v1"]


def test_the_webhook_records_a_charge_the_consumer_never_wrote(payments: Payments) -> None:
    order_id = charged(payments, amount=3100)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")
    # As if the consumer crashed between Stripe's answer and its write: the payment item is not there.
    boto3.client("dynamodb").delete_item(
        TableName=payments.table, Key={"pk": {"S": f"PAYMENT#{order_id}"}, "sk": {"S": "PAYMENT"}}
    )
    assert payments.get(order_id, customer("user-1")).status == 404

    assert payments.webhook(succeeded.body, sign(succeeded.body, WEBHOOK_SECRET)).status == 200

    body = payments.get(order_id, customer("user-1")).body
    assert (body["status"], body["charged"]["amount"]) == ("SUCCEEDED", 3100)


def test_the_webhook_applies_each_stripe_event_through_the_inbox_it_is_given(
    payments: Payments, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook's "once" is the shared inbox's, keyed by Stripe's event id, wired like any other port."""
    charged(payments)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")
    event_id = json.loads(succeeded.body)["id"]
    inbox = InMemoryInbox()
    monkeypatch.setitem(payments.api.webhook_app.dependency_overrides, bootstrap.webhook_inbox, lambda: inbox)

    first = payments.webhook(succeeded.body, succeeded.signature)
    replay = payments.webhook(succeeded.body, sign(succeeded.body, WEBHOOK_SECRET))

    assert (first.status, first.body["duplicate"], replay.status, replay.body["duplicate"]) == (200, False, 200, True)
    assert inbox.state == {event_id: COMPLETED}


def test_an_event_another_delivery_is_applying_is_refused_for_now(payments: Payments) -> None:
    order_id = charged(payments)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")
    event_id = json.loads(succeeded.body)["id"]
    boto3.client("dynamodb").delete_item(  # our record of the charge is lost: only this event can rebuild it
        TableName=payments.table, Key={"pk": {"S": f"PAYMENT#{order_id}"}, "sk": {"S": "PAYMENT"}}
    )
    held = DynamoInbox(payments.table, consumer="stripe-webhooks")
    assert held.begin(event_id)  # another delivery of the same event, mid-way

    busy = payments.webhook(succeeded.body, sign(succeeded.body, WEBHOOK_SECRET))

    assert (busy.status, busy.headers["content-type"]) == (409, "application/problem+json")
    assert payments.get(order_id, customer("user-1")).status == 404
    held.abandon(event_id)  # that delivery failed: Stripe's next one applies the event
    again = payments.webhook(succeeded.body, sign(succeeded.body, WEBHOOK_SECRET))
    assert (again.status, again.body["duplicate"]) == (200, False)
    assert payments.get(order_id, customer("user-1")).body["status"] == "SUCCEEDED"


def test_emulator_replay_reaches_the_webhook_url_signed_afresh(payments: Payments) -> None:
    charged(payments)
    [succeeded] = payments.webhooks.of_type("payment_intent.succeeded")
    event_id = json.loads(succeeded.body)["id"]

    delivery = payments.stripe.control("POST", f"webhooks/replay/{event_id}")

    assert delivery["delivered"] is True
    again = [d for d in payments.webhooks.of_type("payment_intent.succeeded") if json.loads(d.body)["id"] == event_id]
    assert len(again) == 2
    for d in again:
        assert payments.webhook(d.body, d.signature).status == 200


# -- refunds ---------------------------------------------------------------------------------------------------------
def test_partial_refunds_then_the_rest_then_nothing_more(payments: Payments) -> None:
    order_id = charged(payments, amount=5000)

    first = payments.refund(order_id, {"amount": 1500, "reason": "a cracked mug"})
    assert first.status == 201
    assert (first.body["amount"]["amount"], first.body["refundedTotal"]["amount"], first.body["full"]) == (
        1500,
        1500,
        False,
    )
    assert payments.get(order_id, customer("user-1")).body["status"] == "PARTIALLY_REFUNDED"

    over = payments.refund(order_id, {"amount": 3501})
    assert over.status == 422
    assert over.body["refundable"] == {"amount": 3500, "currency": "GBP"}

    rest = payments.refund(order_id)
    assert rest.status == 201
    assert (rest.body["amount"]["amount"], rest.body["full"]) == (3500, True)

    assert payments.refund(order_id, {"amount": 1}).status == 422
    body = payments.get(order_id, customer("user-1")).body
    assert (body["status"], body["refunded"]["amount"], body["refundable"]["amount"]) == ("REFUNDED", 5000, 0)
    assert [r["amount"]["amount"] for r in body["refunds"]] == [1500, 3500]
    [intent] = payments.stripe.intents(order_id)
    assert sum(r["amount"] for r in payments.stripe.refunds(intent["id"])) == 5000
    refunded = [
        e.data for e in payments.published() if e.type == "PaymentRefunded.v1" and e.data["orderId"] == order_id
    ]
    assert [(d["refundedTotal"]["amount"], d["full"]) for d in refunded] == [(1500, False), (5000, True)]


def test_refund_webhooks_do_not_count_a_refund_twice(payments: Payments) -> None:
    order_id = charged(payments, amount=2000)
    assert payments.refund(order_id, {"amount": 500}).status == 201

    for type_ in ("refund.created", "charge.refunded"):
        for delivery in payments.webhooks.of_type(type_):
            assert payments.webhook(delivery.body, delivery.signature).status == 200

    body = payments.get(order_id, customer("user-1")).body
    assert (body["refunded"]["amount"], len(body["refunds"])) == (500, 1)


def test_refund_requests_that_are_wrong_change_nothing(payments: Payments) -> None:
    order_id = charged(payments, amount=2000)

    assert payments.refund(order_id, {"amount": 0}).status == 400
    assert payments.refund(order_id, {"amount": "100"}).status == 400
    assert payments.refund(order_id, {"amount": 100, "status": "REFUNDED"}).status == 400
    assert payments.refund(order_id, "{not json").status == 400
    assert payments.refund(order_id, {"amount": 100}, claims=customer("user-1")).status == 403
    assert payments.refund(order_id, {"amount": 100}, claims=SUPPORT).status == 403
    assert payments.refund("ord-nobody", {"amount": 100}).status == 404

    assert payments.get(order_id, customer("user-1")).body["refunded"]["amount"] == 0


def test_a_declined_payment_has_nothing_to_refund(payments: Payments) -> None:
    event = order_confirmed(method="pm_card_chargeDeclined")
    payments.deliver(event)

    assert payments.refund(event["data"]["orderId"], {"amount": 1}).status == 422


# -- reads -----------------------------------------------------------------------------------------------------------
def test_the_payment_is_seen_by_its_owner_and_staff_only(payments: Payments) -> None:
    order_id = charged(payments, user="owner-1")

    assert payments.get(order_id, customer("owner-1")).status == 200
    assert payments.get(order_id, SUPPORT).status == 200
    other = payments.get(order_id, customer("someone-else"))
    assert other.status == 404
    assert "charged" not in (other.body or {})
    assert payments.get("ord-unknown", SUPPORT).status == 404
    assert payments.get("x" * 300, SUPPORT).status == 404


def test_a_refund_retried_with_its_idempotency_key_is_the_same_refund(payments: Payments) -> None:
    """The admin's refund reached Stripe and was recorded, the answer was lost, the admin asks again: one refund."""
    order_id = charged(payments, amount=5000)
    key = {"Idempotency-Key": f"refund-{order_id}-mug"}
    first = payments.refund(order_id, {"amount": 1500, "reason": "a cracked mug"}, headers=key)
    again = payments.refund(order_id, {"amount": 1500, "reason": "a cracked mug"}, headers=key)
    assert (first.status, again.status) == (201, 201)
    assert again.body["refundId"] == first.body["refundId"]
    [intent] = payments.stripe.intents(order_id)
    assert [r["amount"] for r in payments.stripe.refunds(intent["id"])] == [1500]
    body = payments.get(order_id, customer("user-1")).body
    assert (body["refunded"]["amount"], len(body["refunds"])) == (1500, 1)
    other = payments.refund(order_id, {"amount": 1500}, headers={"Idempotency-Key": f"refund-{order_id}-plate"})
    assert other.status == 201  # another key is another refund
    assert payments.refund(order_id, {"amount": 1}, headers={"Idempotency-Key": "no"}).status == 400


def test_a_keyed_refund_that_emptied_the_payment_is_the_same_refund_when_retried(payments: Payments) -> None:
    """Nothing is left to refund once the first try went through; the retry still answers the refund it made."""
    order_id = charged(payments, amount=2000)
    key = {"Idempotency-Key": f"refund-{order_id}-all"}
    first = payments.refund(order_id, headers=key)
    again = payments.refund(order_id, headers=key)
    assert (first.status, again.status) == (201, 201), again.body
    assert again.body == first.body
    [intent] = payments.stripe.intents(order_id)
    assert [r["amount"] for r in payments.stripe.refunds(intent["id"])] == [2000]
    assert payments.refund(order_id, headers={"Idempotency-Key": f"refund-{order_id}-more"}).status == 422
