"""PayPal's path through the payment use cases, over in-memory fakes: the buyer approves, cancels or never does; the
capture is taken once whoever reports the approval; cancellations and refunds of a PayPal payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payment import service
from payment.domain import Money, PaymentStatus, RefundKind
from payment.errors import ApprovalNotDue, ChargeInProgress, PaymentNotFound, ProviderUnavailable
from payment.paypal_gateway import (
    decode_refund_metadata,
    encode_refund_metadata,
    to_minor,
    to_value,
    translate,
)
from payment.service import (
    BuyerCancelled,
    CancelOrder,
    CaptureApproved,
    ChargeOrder,
    EventChange,
    ExpireApproval,
    RecordProviderEvent,
    RefundPayment,
)
from tests.unit.payment.fakes import FakePayPal, FakeStripe, InMemoryPayments, gateways

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def repo() -> InMemoryPayments:
    return InMemoryPayments()


@pytest.fixture
def paypal() -> FakePayPal:
    return FakePayPal()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def start(repo: InMemoryPayments, paypal: FakePayPal, clock: Clock, amount: int = 2500) -> Any:
    command = ChargeOrder("o1", "u1", Money(amount, "GBP"), "paypal", approval_window=timedelta(minutes=30))
    return service.charge_order(command, payments=repo, providers=gateways(FakeStripe(), paypal), clock=clock)


def returned(repo: InMemoryPayments, paypal: FakePayPal, clock: Clock, token: str | None = "PP1") -> Any:
    command = CaptureApproved("o1", token)
    return service.capture_approved(command, payments=repo, providers=gateways(paypal), clock=clock)


def test_a_paypal_checkout_waits_for_its_buyer_with_the_approval_link(repo, paypal, clock) -> None:
    payment = start(repo, paypal, clock)
    assert payment.status is PaymentStatus.AWAITING_APPROVAL
    assert payment.provider == "paypal"
    assert payment.payment_intent_id == "PP1"
    assert payment.approval_url == "https://paypal.test/approve/PP1"
    assert payment.approval_expires_at == T0 + timedelta(minutes=30)
    assert paypal.calls == ["create order-o1-charge"]
    assert start(repo, paypal, clock).version == payment.version  # a second delivery changes nothing


def test_the_return_before_approval_captures_nothing_and_keeps_waiting(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    payment = returned(repo, paypal, clock)
    assert payment.status is PaymentStatus.AWAITING_APPROVAL
    assert paypal.captures == 0


def test_an_approved_payment_is_captured_once_whoever_reports_it(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    paid = returned(repo, paypal, clock)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.charged == 2500
    assert paid.capture_id == "CAP1"
    assert paid.approval_url is None
    webhook = returned(repo, paypal, clock)  # CHECKOUT.ORDER.APPROVED after the return
    assert webhook.version == paid.version
    assert paypal.captures == 1


def test_a_return_naming_another_paypal_order_is_not_found(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    with pytest.raises(PaymentNotFound):
        returned(repo, paypal, clock, token="PP999")


def test_a_declined_funding_fails_the_payment(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1", funding="declined")
    failed = returned(repo, paypal, clock)
    assert failed.status is PaymentStatus.FAILED
    assert failed.failure.reason == "instrument_declined"


def test_a_capture_paypal_did_not_answer_stays_approved_and_converges_to_one_capture(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    paypal.unavailable = 1
    with pytest.raises(ProviderUnavailable):
        returned(repo, paypal, clock)
    assert repo.get("o1").status is PaymentStatus.APPROVED
    with pytest.raises(ChargeInProgress):  # a cancellation waits for the capture under way
        service.cancel_order(CancelOrder("o1", "u1", Money(2500, "GBP")), payments=repo, providers=gateways(paypal))
    assert returned(repo, paypal, clock).status is PaymentStatus.SUCCEEDED
    assert paypal.captures == 1


def test_the_buyer_cancelling_fails_the_payment(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    cancelled = service.buyer_cancelled(BuyerCancelled("o1", "PP1"), payments=repo, clock=clock)
    assert cancelled.status is PaymentStatus.FAILED
    assert cancelled.failure.reason == "buyer_cancelled"


def test_a_cancel_redirect_after_payment_changes_nothing(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    paid = returned(repo, paypal, clock)
    after = service.buyer_cancelled(BuyerCancelled("o1", "PP1"), payments=repo, clock=clock)
    assert after.status is PaymentStatus.SUCCEEDED
    assert after.version == paid.version


def test_the_wait_is_not_over_before_its_time(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    clock.now = T0 + timedelta(minutes=10)
    with pytest.raises(ApprovalNotDue) as raised:
        service.expire_approval(ExpireApproval("o1"), payments=repo, providers=gateways(paypal), clock=clock)
    assert raised.value.seconds == pytest.approx(20 * 60)


def test_a_buyer_who_never_approves_fails_when_the_time_is_up(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    clock.now = T0 + timedelta(minutes=30)
    expired = service.expire_approval(ExpireApproval("o1"), payments=repo, providers=gateways(paypal), clock=clock)
    assert expired.status is PaymentStatus.FAILED
    assert expired.failure.reason == "approval_expired"
    assert paypal.captures == 0


def test_an_approval_whose_return_and_webhook_were_lost_is_captured_when_the_time_is_up(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    clock.now = T0 + timedelta(hours=1)
    paid = service.expire_approval(ExpireApproval("o1"), payments=repo, providers=gateways(paypal), clock=clock)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paypal.captures == 1


def test_an_order_cancelled_while_its_buyer_is_at_paypal_is_voided_and_never_captured(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    voided = service.cancel_order(
        CancelOrder("o1", "u1", Money(2500, "GBP")), payments=repo, providers=gateways(paypal), clock=clock
    )
    assert voided.status is PaymentStatus.VOIDED
    paypal.approve("PP1")  # the buyer approves anyway
    assert returned(repo, paypal, clock).status is PaymentStatus.VOIDED
    assert paypal.captures == 0


def test_a_paypal_payment_is_refunded_through_its_capture_in_parts(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    returned(repo, paypal, clock)
    first = service.refund_payment(
        RefundPayment("o1", 1000, RefundKind.ADMIN), payments=repo, providers=gateways(paypal), clock=clock
    )
    assert first.payment_intent_id == "PP1"
    assert not first.full
    rest = service.refund_payment(
        RefundPayment("o1", None, RefundKind.ADMIN), payments=repo, providers=gateways(paypal), clock=clock
    )
    assert rest.amount.amount == 1500
    assert rest.full
    assert repo.get("o1").status is PaymentStatus.REFUNDED


# -- PayPal's webhooks, translated by the adapter ---------------------------------------------------------------------
def approved_event(event_id: str = "WH-1", paypal_id: str = "PP1", order_id: str = "o1") -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "CHECKOUT.ORDER.APPROVED",
        "resource": {"id": paypal_id, "status": "APPROVED", "purchase_units": [{"custom_id": order_id}]},
    }


def capture_event(event_id: str = "WH-2") -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource": {
            "id": "CAP7",
            "status": "COMPLETED",
            "amount": {"currency_code": "GBP", "value": "25.00"},
            "custom_id": "o7",
            "supplementary_data": {"related_ids": {"order_id": "PP7"}},
        },
    }


def refund_event(event_id: str = "WH-3") -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "PAYMENT.CAPTURE.REFUNDED",
        "resource": {
            "id": "RF9",
            "status": "COMPLETED",
            "amount": {"currency_code": "GBP", "value": "4.00"},
            "custom_id": "o1|provider|",
            "links": [{"rel": "up", "href": "https://api.test/v2/payments/captures/CAP1", "method": "GET"}],
        },
    }


def apply(event: dict[str, Any], repo: InMemoryPayments, paypal: FakePayPal, clock: Clock) -> str:
    command = RecordProviderEvent(translate(event))
    return service.apply_provider_event(command, payments=repo, providers=gateways(paypal), clock=clock)


def test_the_approved_webhook_captures_the_payment(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    assert apply(approved_event(), repo, paypal, clock) == "payment o1 is SUCCEEDED"
    assert paypal.captures == 1


def test_an_approved_webhook_for_an_order_we_do_not_have_is_ignored(repo, paypal, clock) -> None:
    assert apply(approved_event(order_id="nobody"), repo, paypal, clock) == "ignored: no such payment"


def test_a_capture_webhook_rebuilds_a_record_a_crash_never_wrote(repo, paypal, clock) -> None:
    assert apply(capture_event(), repo, paypal, clock) == "payment o7 is SUCCEEDED"
    rebuilt = repo.get("o7")
    assert (rebuilt.provider, rebuilt.payment_intent_id, rebuilt.capture_id, rebuilt.charged) == (
        "paypal",
        "PP7",
        "CAP7",
        2500,
    )


def test_a_refund_made_in_paypal_is_recorded_once(repo, paypal, clock) -> None:
    start(repo, paypal, clock)
    paypal.approve("PP1")
    returned(repo, paypal, clock)
    assert apply(refund_event(), repo, paypal, clock) == "recorded 1 refund(s)"
    assert apply(refund_event("WH-4"), repo, paypal, clock) == "recorded 0 refund(s)"
    payment = repo.get("o1")
    assert payment.refunded_total == 400
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED


def test_other_paypal_events_are_passed_over() -> None:
    event = translate({"id": "WH-5", "event_type": "CUSTOMER.DISPUTE.CREATED", "resource": {}})
    assert event.change is EventChange.NONE
    assert event.order_id is None


# -- money and metadata in PayPal's words ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "currency", "value"), [(2500, "GBP", "25.00"), (5, "GBP", "0.05"), (1234, "JPY", "1234")]
)
def test_amounts_go_to_paypal_in_units_and_come_back_in_minor_units(amount: int, currency: str, value: str) -> None:
    assert to_value(amount, currency) == value
    assert to_minor(value, currency) == amount


def test_refund_metadata_fits_paypals_custom_id_and_comes_back() -> None:
    order = "0f0e8c5e-6a0e-4a53-9a2b-1c2d3e4f5a6b"
    key = f"order-{order}-refund-req-" + "a" * 40
    custom = encode_refund_metadata({"orderId": order, "kind": "admin", "requestKey": key, "reason": "x"})
    assert len(custom) <= 127
    assert decode_refund_metadata(custom, "damaged") == {
        "orderId": order,
        "kind": "admin",
        "requestKey": key,
        "reason": "damaged",
    }
