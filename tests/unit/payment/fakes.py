"""In-memory fakes of the payment service's ports: a repository with versions, a Stripe that keeps its promises."""

from __future__ import annotations

import itertools
from dataclasses import replace

from payment.domain import Failure, Money, Payment, Refund
from payment.errors import PaymentExists, ProviderRejected, ProviderUnavailable, RefundRecorded, StalePayment
from payment.service import ChargeOutcome, ProviderRefund

DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
}


class InMemoryPayments:
    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.refunds: dict[tuple[str, str], Refund] = {}

    def get(self, order_id: str) -> Payment | None:
        return self.payments.get(order_id)

    def get_with_refunds(self, order_id: str) -> tuple[Payment | None, list[Refund]]:
        return self.payments.get(order_id), [r for (o, _), r in self.refunds.items() if o == order_id]

    def add(self, payment: Payment, *, correlation_id: str = "") -> Payment:
        if payment.order_id in self.payments:
            raise PaymentExists(payment.order_id)
        stored = self.payments[payment.order_id] = replace(payment, version=1)
        return stored

    def save(self, payment: Payment, *, expected_version: int, correlation_id: str = "") -> Payment:
        current = self.payments.get(payment.order_id)
        if current is None or current.version != expected_version:
            raise StalePayment(payment.order_id)
        stored = self.payments[payment.order_id] = replace(payment, version=expected_version + 1)
        return stored

    def add_refund(
        self, payment: Payment, refund: Refund, *, expected_version: int, correlation_id: str = ""
    ) -> Payment:
        if (refund.order_id, refund.refund_id) in self.refunds:
            raise RefundRecorded(refund.refund_id)
        stored = self.save(payment, expected_version=expected_version)
        self.refunds[(refund.order_id, refund.refund_id)] = refund
        return stored

    def has_refund(self, order_id: str, refund_id: str) -> Refund | None:
        return self.refunds.get((order_id, refund_id))


class FakeStripe:
    """Honours idempotency keys as Stripe does: the same key replays the first outcome."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.replies: dict[str, object] = {}
        self.intents: dict[str, dict[str, object]] = {}
        self.refunds: dict[str, ProviderRefund] = {}
        self.unavailable = 0  # the next N calls time out
        self.calls: list[str] = []

    def _fail_if_down(self) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise ProviderUnavailable("timed out")

    def charge(
        self, *, order_id: str, user_id: str | None, amount: Money, payment_method: str, idempotency_key: str
    ) -> ChargeOutcome:
        self.calls.append(f"charge {idempotency_key}")
        self._fail_if_down()
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]  # type: ignore[return-value]
        if payment_method not in DECLINES and payment_method != "pm_card_visa":
            raise ProviderRejected("No such PaymentMethod", provider_code="resource_missing", param="payment_method")
        intent_id = f"pi_{next(self.ids)}"
        declined = DECLINES.get(payment_method)
        self.intents[intent_id] = {
            "status": "requires_payment_method" if declined else "succeeded",
            "order": order_id,
            "amount": amount.amount,
            "refunded": 0,
        }
        outcome = (
            ChargeOutcome(intent_id, False, failure=Failure(declined[0], declined[1], "declined"))
            if declined
            else ChargeOutcome(intent_id, True, amount.amount)
        )
        self.replies[idempotency_key] = outcome
        return outcome

    def cancel(self, payment_intent_id: str, *, idempotency_key: str) -> str:
        self.calls.append(f"cancel {idempotency_key}")
        self._fail_if_down()
        self.intents[payment_intent_id]["status"] = "canceled"
        return "canceled"

    def refund(
        self, payment_intent_id: str, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        self.calls.append(f"refund {idempotency_key}")
        self._fail_if_down()
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]  # type: ignore[return-value]
        intent = self.intents[payment_intent_id]
        left = int(intent["amount"]) - int(intent["refunded"])  # type: ignore[call-overload]
        wanted = left if amount is None else amount
        if wanted > left:
            raise ProviderRejected("too much", provider_code="amount_too_large", param="amount")
        intent["refunded"] = int(intent["refunded"]) + wanted  # type: ignore[call-overload]
        made = ProviderRefund(f"re_{next(self.ids)}", payment_intent_id, wanted, "succeeded", dict(metadata))
        self.refunds[made.refund_id] = made
        self.replies[idempotency_key] = made
        return made

    def refunds_of(self, payment_intent_id: str) -> list[ProviderRefund]:
        return [r for r in self.refunds.values() if r.payment_intent_id == payment_intent_id]
