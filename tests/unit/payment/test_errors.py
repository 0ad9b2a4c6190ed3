"""Each payment error answers its status once, from the API's one table and the shared kinds."""

from __future__ import annotations

import json

import pytest

from gears_shared.consumers import EventInProgress
from gears_shared.errors import PROBLEM_TYPE_BASE
from gears_shared.http import problem_response
from payment.api import ERRORS
from payment.domain import Money, PaymentRuleError, RefundTooLarge
from payment.errors import (
    InvalidWebhook,
    NothingToRefund,
    PaymentNotFound,
    ProviderRejected,
    ProviderUnavailable,
    RefundExceedsCharge,
    RefundInProgress,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (PaymentNotFound("No payment for this order."), 404, "payment-not-found"),
        (NothingToRefund("The payment is FAILED: there is nothing to refund."), 422, "nothing-to-refund"),
        (RefundExceedsCharge("too much", refundable={"amount": 1, "currency": "GBP"}), 422, "refund-exceeds-charge"),
        (RefundInProgress("read it again"), 409, "refund-in-progress"),
        (InvalidWebhook("The Stripe signature does not verify, or is too old."), 400, "invalid-webhook"),
        (ProviderUnavailable("try again"), 502, "payment-provider-unavailable"),
        (ProviderRejected("No such PaymentMethod", provider_code="resource_missing"), 502, "payment-provider-rejected"),
        (RefundTooLarge(700, 500), 422, "refund-exceeds-charge"),
        (PaymentRuleError("A VOIDED payment has nothing to refund."), 422, "payment-rule"),
        (EventInProgress("evt_1"), 409, "event-in-progress"),
    ],
)
def test_each_error_answers_its_status_and_code(error: BaseException, status: int, code: str) -> None:
    answer = problem_response(error, "/x", ERRORS)
    body = json.loads(answer.body)
    assert (answer.status_code, body["status"], body["type"]) == (status, status, PROBLEM_TYPE_BASE + code)


def test_a_rule_the_domain_refuses_keeps_its_words() -> None:
    with pytest.raises(PaymentRuleError) as refused:
        Money(-1, "GBP")
    body = json.loads(problem_response(refused.value, "/x", ERRORS).body)
    assert (body["title"], body["detail"]) == ("Payment rule violated", str(refused.value))
