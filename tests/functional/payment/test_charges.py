"""Charging confirmed orders through the real stripe SDK and the Stripe emulator: outcomes, duplicates, faults."""

from __future__ import annotations

import json

from tests.functional.payment.conftest import Payments, customer, order_cancelled, order_confirmed


def test_a_confirmed_order_is_charged_once_and_announced(payments: Payments) -> None:
    event = order_confirmed(amount=4200)
    order_id = event["data"]["orderId"]

    assert payments.deliver(event) == {"batchItemFailures": []}

    [intent] = payments.stripe.intents(order_id)
    assert intent["status"] == "succeeded"
    assert intent["amount"] == 4200
    assert intent["currency"] == "gbp"
    assert intent["metadata"] == {"orderId": order_id, "userId": "user-1"}
    answer = payments.get(order_id, customer("user-1"))
    assert answer.status == 200
    assert answer.body["status"] == "SUCCEEDED"
    assert answer.body["charged"] == {"amount": 4200, "currency": "GBP"}
    assert answer.body["paymentIntentId"] == intent["id"]
    [succeeded] = [e for e in payments.published() if e.data.get("orderId") == order_id]
    assert succeeded.type == "PaymentSucceeded.v1"
    assert succeeded.data["amount"] == {"amount": 4200, "currency": "GBP"}
    assert succeeded.data["paymentIntentId"] == intent["id"]
    assert succeeded.correlationid == f"corr-{order_id}"


def test_a_declined_card_fails_the_payment_with_the_decline_code(payments: Payments) -> None:
    event = order_confirmed(method="pm_card_chargeDeclined")
    order_id = event["data"]["orderId"]

    assert payments.deliver(event) == {"batchItemFailures": []}

    [intent] = payments.stripe.intents(order_id)
    assert intent["status"] == "requires_payment_method"
    body = payments.get(order_id, customer("user-1")).body
    assert body["status"] == "FAILED"
    assert body["charged"]["amount"] == 0
    assert body["failure"]["reason"] == "card_declined"
    assert body["failure"]["declineCode"] == "generic_decline"
    [failed] = [e for e in payments.published() if e.data.get("orderId") == order_id]
    assert failed.type == "PaymentFailed.v1"
    assert (failed.data["reason"], failed.data["declineCode"]) == ("card_declined", "generic_decline")


def test_insufficient_funds_is_told_apart(payments: Payments) -> None:
    event = order_confirmed(method="pm_card_chargeDeclinedInsufficientFunds")
    order_id = event["data"]["orderId"]

    payments.deliver(event)

    [failed] = [e for e in payments.published() if e.data.get("orderId") == order_id]
    assert failed.type == "PaymentFailed.v1"
    assert failed.data["declineCode"] == "insufficient_funds"


def test_an_unknown_payment_method_fails_the_payment_instead_of_retrying_for_ever(payments: Payments) -> None:
    event = order_confirmed(method="pm_made_up")
    order_id = event["data"]["orderId"]

    assert payments.deliver(event) == {"batchItemFailures": []}

    assert payments.published_types(order_id) == ["PaymentFailed.v1"]
    assert payments.get(order_id, customer("user-1")).body["failure"]["reason"] == "payment_method_invalid"


def test_the_same_order_confirmed_twice_is_one_payment_intent(payments: Payments) -> None:
    first = order_confirmed()
    order_id = first["data"]["orderId"]
    again = {**first, "id": first["id"] + "-redelivered-by-orders"}  # a second event, not just a redelivery

    payments.deliver(first)
    payments.deliver(first)  # the queue's at-least-once delivery
    payments.deliver(again)

    assert len(payments.stripe.intents(order_id)) == 1
    assert payments.published_types(order_id) == ["PaymentSucceeded.v1"]


def test_stripe_erroring_then_recovering_charges_once(payments: Payments) -> None:
    event = order_confirmed()
    order_id = event["data"]["orderId"]
    payments.stripe.set_fault("error", 1)

    failed = payments.deliver(event)
    assert len(failed["batchItemFailures"]) == 1  # SQS will deliver it again
    assert payments.get(order_id, customer("user-1")).body["status"] == "PENDING"
    assert payments.published_types(order_id) == []

    assert payments.deliver(event) == {"batchItemFailures": []}
    assert [i["status"] for i in payments.stripe.intents(order_id)] == ["succeeded"]
    assert payments.published_types(order_id) == ["PaymentSucceeded.v1"]


def test_stripe_timing_out_after_charging_then_recovering_charges_once(payments: Payments) -> None:
    event = order_confirmed()
    order_id = event["data"]["orderId"]
    # Stripe does the charge, but its answer comes after the SDK gave up: the worst case for a double charge.
    payments.stripe.set_fault("timeout", 1, delay=3)

    assert len(payments.deliver(event)["batchItemFailures"]) == 1
    assert len(payments.stripe.intents(order_id)) == 1

    assert payments.deliver(event) == {"batchItemFailures": []}  # the same idempotency key: the same intent
    [intent] = payments.stripe.intents(order_id)
    body = payments.get(order_id, customer("user-1")).body
    assert (body["status"], body["paymentIntentId"]) == ("SUCCEEDED", intent["id"])
    assert payments.published_types(order_id) == ["PaymentSucceeded.v1"]


def test_an_event_that_breaks_the_contract_fails_its_message_only(payments: Payments) -> None:
    good = order_confirmed()
    bad = order_confirmed()
    del bad["data"]["total"]

    result = payments.deliver(bad, good)

    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [f"m-0-{bad['id']}"]
    assert payments.published_types(good["data"]["orderId"]) == ["PaymentSucceeded.v1"]
    assert payments.stripe.intents(bad["data"]["orderId"]) == []


def test_a_cancel_before_the_charge_means_no_charge_ever(payments: Payments) -> None:
    confirmed = order_confirmed()
    order_id = confirmed["data"]["orderId"]

    payments.deliver(order_cancelled(order_id))
    payments.deliver(confirmed)  # arrives late

    assert payments.stripe.intents(order_id) == []
    assert payments.get(order_id, customer("user-1")).body["status"] == "CANCELLED"
    assert payments.published_types(order_id) == []


def test_cancelling_a_declined_order_voids_its_intent(payments: Payments) -> None:
    confirmed = order_confirmed(method="pm_card_chargeDeclined")
    order_id = confirmed["data"]["orderId"]
    payments.deliver(confirmed)

    assert payments.deliver(order_cancelled(order_id)) == {"batchItemFailures": []}

    [intent] = payments.stripe.intents(order_id)
    assert intent["status"] == "canceled"
    assert payments.get(order_id, customer("user-1")).body["status"] == "VOIDED"
    assert payments.published_types(order_id) == ["PaymentFailed.v1", "PaymentVoided.v1"]


def test_cancelling_a_paid_order_refunds_it_in_full_once(payments: Payments) -> None:
    confirmed = order_confirmed(amount=2599)
    order_id = confirmed["data"]["orderId"]
    payments.deliver(confirmed)
    cancelled = order_cancelled(order_id, paid=True)

    payments.deliver(cancelled)
    payments.deliver({**cancelled, "id": cancelled["id"] + "-again"})

    [intent] = payments.stripe.intents(order_id)
    [refund] = payments.stripe.refunds(intent["id"])
    assert refund["amount"] == 2599
    body = payments.get(order_id, customer("user-1")).body
    assert body["status"] == "REFUNDED"
    assert body["refunded"] == {"amount": 2599, "currency": "GBP"}
    refunded = [e for e in payments.published() if e.type == "PaymentRefunded.v1" and e.data["orderId"] == order_id]
    assert [(e.data["amount"]["amount"], e.data["full"], e.data["kind"]) for e in refunded] == [(2599, True, "cancel")]
    assert json.loads(json.dumps(refunded[0].data))["refundedTotal"] == {"amount": 2599, "currency": "GBP"}


def test_once_stripe_fails_in_a_batch_the_rest_of_it_waits_without_asking(payments: Payments) -> None:
    """Stripe errors on the first charge (and the SDK's retry): the other orders of the batch are not sent to it,
    all three fail and come back later, and the next batch charges each once."""
    events = [order_confirmed() for _ in range(3)]
    payments.stripe.set_fault("error", 1)  # the fixture's SDK makes no retry of its own

    failed = payments.deliver(*events)
    assert len(failed["batchItemFailures"]) == 3
    assert all(payments.stripe.intents(e["data"]["orderId"]) == [] for e in events)

    assert payments.deliver(*events) == {"batchItemFailures": []}  # a new invocation asks Stripe again
    for e in events:
        assert [i["status"] for i in payments.stripe.intents(e["data"]["orderId"])] == ["succeeded"]
