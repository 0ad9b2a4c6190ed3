"""The payment use cases over in-memory fakes: one charge whatever is retried, voids, refunds, webhooks."""

from __future__ import annotations

from typing import Any

import pytest

from gears_shared.auth import Caller
from gears_shared.consumers import COMPLETED, EventInProgress, InMemoryInbox
from gears_shared.errors import NotFound
from payment import domain, service
from payment.domain import Money, Payment, PaymentStatus, RefundKind
from payment.errors import (
    ChargeInProgress,
    NothingToRefund,
    PaymentNotFound,
    ProviderUnavailable,
    RefundExceedsCharge,
)
from payment.service import (
    CancelOrder,
    ChargeOrder,
    GetPayment,
    ProviderRef,
    ProviderRefund,
    RecordProviderEvent,
    RefundPayment,
)
from payment.stripe_gateway import translate
from tests.unit.payment.fakes import FakeStripe, InMemoryPayments, gateways


@pytest.fixture
def repo() -> InMemoryPayments:
    return InMemoryPayments()


@pytest.fixture
def stripe() -> FakeStripe:
    return FakeStripe()


def charge(repo: InMemoryPayments, stripe: FakeStripe, method: str = "pm_card_visa", amount: int = 1000):
    return service.charge_order(
        ChargeOrder("o1", "u1", Money(amount, "GBP"), method), payments=repo, providers=gateways(stripe)
    )


def admin_refund(amount: int | None, request_key: str | None = None) -> RefundPayment:
    return RefundPayment("o1", amount, RefundKind.ADMIN, request_key=request_key)


def intent_succeeded(event_id: str = "evt_1") -> dict[str, Any]:
    """Stripe's ``payment_intent.succeeded`` webhook event for a charge of order ``o9``."""
    return {
        "id": event_id,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_9",
                "amount": 700,
                "amount_received": 700,
                "currency": "gbp",
                "metadata": {"orderId": "o9", "userId": "u9"},
            }
        },
    }


def refund_created(made: ProviderRefund) -> dict[str, Any]:
    """Stripe's ``refund.created`` webhook event for a refund it made."""
    return {
        "id": f"evt_{made.refund_id}",
        "type": "refund.created",
        "data": {
            "object": {
                "id": made.refund_id,
                "payment_intent": made.payment_intent_id,
                "amount": made.amount,
                "status": made.status,
                "metadata": made.metadata,
            }
        },
    }


def test_a_charge_is_recorded(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    payment = charge(repo, stripe)
    assert (payment.status, payment.charged, payment.payment_intent_id) == (PaymentStatus.SUCCEEDED, 1000, "pi_1")
    assert stripe.calls == ["charge order-o1-charge"]


def test_a_second_delivery_does_not_ask_stripe_again(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    charge(repo, stripe)
    charge(repo, stripe)
    assert stripe.calls == ["charge order-o1-charge"]


def test_a_timeout_leaves_the_payment_pending_and_the_retry_uses_the_same_key(
    repo: InMemoryPayments, stripe: FakeStripe
) -> None:
    stripe.unavailable = 1
    with pytest.raises(ProviderUnavailable):
        charge(repo, stripe)
    assert repo.get("o1").status is PaymentStatus.PENDING  # type: ignore[union-attr]
    assert charge(repo, stripe).status is PaymentStatus.SUCCEEDED
    assert stripe.calls == ["charge order-o1-charge", "charge order-o1-charge"]
    assert len(stripe.intents) == 1


def test_a_decline_is_a_failure_with_its_codes(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    payment = charge(repo, stripe, "pm_card_chargeDeclinedInsufficientFunds")
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure is not None
    assert (payment.failure.reason, payment.failure.decline_code) == ("card_declined", "insufficient_funds")


def test_cancel_before_charge_blocks_the_charge(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    service.cancel_order(CancelOrder("o1", "u1", Money(1000, "GBP")), payments=repo, providers=gateways(stripe))
    assert charge(repo, stripe).status is PaymentStatus.CANCELLED
    assert stripe.calls == []


def test_cancel_during_a_charge_waits_for_it(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    stripe.unavailable = 1
    with pytest.raises(ProviderUnavailable):
        charge(repo, stripe)
    with pytest.raises(ChargeInProgress):
        service.cancel_order(CancelOrder("o1", "u1", Money(1000, "GBP")), payments=repo, providers=gateways(stripe))


def test_cancel_after_payment_refunds_everything_once(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    charge(repo, stripe)
    cancel = CancelOrder("o1", "u1", Money(1000, "GBP"))
    refund = service.cancel_order(cancel, payments=repo, providers=gateways(stripe))
    again = service.cancel_order(cancel, payments=repo, providers=gateways(stripe))
    assert refund is not None
    assert again is None
    assert repo.get("o1").status is PaymentStatus.REFUNDED  # type: ignore[union-attr]
    assert [c for c in stripe.calls if c.startswith("refund")] == ["refund order-o1-refund-cancel"]


def test_cancel_after_decline_voids(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    charge(repo, stripe, "pm_card_chargeDeclined")
    service.cancel_order(CancelOrder("o1", "u1", Money(1000, "GBP")), payments=repo, providers=gateways(stripe))
    assert repo.get("o1").status is PaymentStatus.VOIDED  # type: ignore[union-attr]
    assert stripe.intents["pi_1"]["status"] == "canceled"


def test_refunds_are_numbered_and_capped(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    charge(repo, stripe)
    first = service.refund_payment(admin_refund(400), payments=repo, providers=gateways(stripe))
    with pytest.raises(RefundExceedsCharge):
        service.refund_payment(admin_refund(601), payments=repo, providers=gateways(stripe))
    rest = service.refund_payment(admin_refund(None), payments=repo, providers=gateways(stripe))
    assert (first.full, rest.full, rest.amount.amount) == (False, True, 600)
    assert [c for c in stripe.calls if c.startswith("refund")] == [
        "refund order-o1-refund-1",
        "refund order-o1-refund-2",
    ]
    with pytest.raises(NothingToRefund):
        service.refund_payment(admin_refund(1), payments=repo, providers=gateways(stripe))


def test_a_refund_learnt_from_a_webhook_first_is_not_counted_twice(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    charge(repo, stripe)
    made = stripe.refund(
        ProviderRef("pi_1"), amount=300, idempotency_key="order-o1-refund-1", metadata={"orderId": "o1"}
    )
    event = RecordProviderEvent(translate(refund_created(made)))
    service.apply_provider_event(event, payments=repo, providers=gateways(stripe))
    service.apply_provider_event(event, payments=repo, providers=gateways(stripe))
    payment = repo.get("o1")
    assert payment is not None
    assert (payment.refunded_total, payment.refund_count, len(repo.refunds)) == (300, 1, 1)
    # The next admin refund gets the next number, so it is a new refund at Stripe, not a replay of this one.
    service.refund_payment(admin_refund(200), payments=repo, providers=gateways(stripe))
    assert stripe.calls[-1] == "refund order-o1-refund-2"


def test_a_succeeded_webhook_rebuilds_a_lost_record(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    service.apply_provider_event(
        RecordProviderEvent(translate(intent_succeeded())), payments=repo, providers=gateways(stripe)
    )
    payment = repo.get("o9")
    assert payment is not None
    assert (payment.status, payment.charged, payment.user_id) == (PaymentStatus.SUCCEEDED, 700, "u9")


def test_only_the_owner_or_staff_reads_a_payment(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    charge(repo, stripe)
    assert service.get_payment(GetPayment("o1", Caller("u1")), payments=repo)[0].order_id == "o1"
    assert service.get_payment(GetPayment("o1", Caller("s", frozenset({"support"}))), payments=repo)
    with pytest.raises(NotFound):
        service.get_payment(GetPayment("o1", Caller("u2", frozenset({"customer"}))), payments=repo)
    with pytest.raises(PaymentNotFound):
        service.get_payment(GetPayment("o2", Caller("s", frozenset({"support"}))), payments=repo)


def test_a_keyed_refund_recorded_by_its_webhook_is_answered_to_the_retried_request(
    repo: InMemoryPayments, stripe: FakeStripe
) -> None:
    """The refund reached Stripe, the request's answer was lost, the webhook recorded it: the retry is that refund."""
    charge(repo, stripe)
    key = domain.request_refund_key("o1", "req-12345")
    made = stripe.refund(
        ProviderRef("pi_1"), amount=None, idempotency_key=key, metadata={"orderId": "o1", "requestKey": key}
    )
    service.apply_provider_event(
        RecordProviderEvent(translate(refund_created(made))), payments=repo, providers=gateways(stripe)
    )
    again = service.refund_payment(
        admin_refund(None, request_key="req-12345"), payments=repo, providers=gateways(stripe)
    )
    assert (again.refund_id, again.amount.amount, again.full) == (made.refund_id, 1000, True)
    assert len(stripe.refunds) == 1


# -- a Stripe event, once per event id, through the shared inbox ------------------------------------------------------
class FailingOnce(InMemoryPayments):
    """A repository whose first read fails, as a throttled table would."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def get(self, order_id: str) -> Payment | None:
        if self.fail:
            self.fail = False
            raise RuntimeError("throttled")
        return super().get(order_id)


def test_a_provider_event_is_applied_once_per_event_id_in_the_inbox(repo: InMemoryPayments, stripe: FakeStripe) -> None:
    inbox = InMemoryInbox()
    command = RecordProviderEvent(translate(intent_succeeded()))

    first = service.record_provider_event(command, inbox=inbox, payments=repo, providers=gateways(stripe))
    again = service.record_provider_event(command, inbox=inbox, payments=repo, providers=gateways(stripe))

    assert (first.event_id, first.duplicate, first.outcome) == ("evt_1", False, "payment o9 is SUCCEEDED")
    assert (again.event_id, again.duplicate, again.outcome) == ("evt_1", True, None)
    assert inbox.state == {"evt_1": COMPLETED}
    assert repo.get("o9").version == 1  # type: ignore[union-attr]


def test_a_provider_event_that_fails_is_released_for_the_providers_retry(stripe: FakeStripe) -> None:
    inbox, repo = InMemoryInbox(), FailingOnce()
    command = RecordProviderEvent(translate(intent_succeeded()))

    with pytest.raises(RuntimeError):
        service.record_provider_event(command, inbox=inbox, payments=repo, providers=gateways(stripe))
    assert inbox.state == {}

    assert (
        service.record_provider_event(command, inbox=inbox, payments=repo, providers=gateways(stripe)).duplicate
        is False
    )
    assert repo.get("o9").status is PaymentStatus.SUCCEEDED  # type: ignore[union-attr]


def test_a_provider_event_another_worker_is_applying_is_not_applied_twice(
    repo: InMemoryPayments, stripe: FakeStripe
) -> None:
    inbox = InMemoryInbox()
    inbox.begin("evt_1")  # another delivery of the same event holds it

    with pytest.raises(EventInProgress):
        service.record_provider_event(
            RecordProviderEvent(translate(intent_succeeded())), inbox=inbox, payments=repo, providers=gateways(stripe)
        )
    assert repo.get("o9") is None
