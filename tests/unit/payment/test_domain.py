"""The payment's state machine and amounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payment.domain import (
    Failure,
    Money,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    RefundKind,
    RefundTooLarge,
    charge_key,
    refund_key,
    refund_of,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def pending(amount: int = 1000) -> Payment:
    return Payment.requested("o1", "u1", Money(amount, "GBP"), "pm_card_visa", NOW)


def test_a_charge_moves_pending_to_succeeded_with_what_was_received() -> None:
    paid = pending().succeeded("pi_1", 1000, NOW)
    assert (paid.status, paid.charged, paid.refundable) == (PaymentStatus.SUCCEEDED, 1000, 1000)


def test_a_failed_or_voided_payment_has_nothing_to_refund() -> None:
    failed = pending().failed("pi_1", Failure("card_declined", "generic_decline"), NOW)
    assert failed.refundable == 0
    with pytest.raises(PaymentRuleError):
        failed.refunded(1, NOW)
    with pytest.raises(PaymentRuleError):
        failed.voided(NOW).refunded(1, NOW)


def test_refunds_add_up_to_the_charge_and_never_beyond() -> None:
    paid = pending().succeeded("pi_1", 1000, NOW)
    part = paid.refunded(300, NOW)
    assert (part.status, part.refunded_total, part.refundable, part.refund_count) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        300,
        700,
        1,
    )
    with pytest.raises(RefundTooLarge):
        part.refunded(701, NOW)
    rest = part.refunded(700, NOW)
    assert (rest.status, rest.refundable) == (PaymentStatus.REFUNDED, 0)
    record = refund_of(part, rest, "re_2", RefundKind.ADMIN, None)
    assert (record.amount.amount, record.refunded_total.amount, record.full) == (700, 1000, True)


def test_illegal_transitions_are_refused() -> None:
    paid = pending().succeeded("pi_1", 1000, NOW)
    with pytest.raises(PaymentRuleError):
        paid.failed("pi_1", Failure("card_declined"), NOW)
    with pytest.raises(PaymentRuleError):
        paid.voided(NOW)
    with pytest.raises(PaymentRuleError):
        Payment.cancelled_before_charge("o1", "u1", Money(0, "GBP"), NOW).succeeded("pi", 1, NOW)
    with pytest.raises(PaymentRuleError):
        Payment.requested("o1", "u1", Money(0, "GBP"), "pm_card_visa", NOW)


def test_money_is_whole_minor_units_in_an_iso_currency() -> None:
    with pytest.raises(PaymentRuleError):
        Money(-1, "GBP")
    with pytest.raises(PaymentRuleError):
        Money(1, "pounds")


def test_idempotency_keys_derive_from_the_order() -> None:
    assert charge_key("o1") == "order-o1-charge"
    assert refund_key("o1", 2) == "order-o1-refund-2"
