"""In-memory fakes of the payment service's ports: a repository with versions, a Stripe and a PayPal that keep their
promises (an idempotency key replays the first outcome)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import replace

from payment.domain import Failure, Money, Payment, Refund
from payment.errors import PaymentExists, ProviderRejected, ProviderUnavailable, RefundRecorded, StalePayment
from payment.service import ChargeOutcome, ProviderEvent, ProviderRef, ProviderRefund, Providers
from payment.stripe_gateway import translate

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


def gateways(*fakes: object) -> Providers:
    """The fakes as the service's gateways, by their names."""
    return Providers({str(getattr(f, "name")): f for f in fakes})  # type: ignore[misc]  # noqa: B009


class FakeStripe:
    """Honours idempotency keys as Stripe does: the same key replays the first outcome."""

    name = "stripe"

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

    def capture(self, ref: ProviderRef, *, idempotency_key: str) -> ChargeOutcome:
        return self.status(ref)

    def status(self, ref: ProviderRef) -> ChargeOutcome:
        self._fail_if_down()
        intent = self.intents[ref.payment_id]
        if intent["status"] == "succeeded":
            return ChargeOutcome(ref.payment_id, True, int(intent["amount"]))  # type: ignore[call-overload]
        return ChargeOutcome(ref.payment_id, False, failure=Failure(f"intent_{intent['status']}"))

    def cancel(self, ref: ProviderRef, *, idempotency_key: str) -> str:
        self.calls.append(f"cancel {idempotency_key}")
        self._fail_if_down()
        self.intents[ref.payment_id]["status"] = "canceled"
        return "canceled"

    def refund(
        self, ref: ProviderRef, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        self.calls.append(f"refund {idempotency_key}")
        self._fail_if_down()
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]  # type: ignore[return-value]
        payment_intent_id = ref.payment_id
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

    def refunds_of(self, ref: ProviderRef) -> list[ProviderRefund]:
        return [r for r in self.refunds.values() if r.payment_intent_id == ref.payment_id]

    def verify_webhook(self, payload: str, headers: Mapping[str, str]) -> ProviderEvent:
        """Trusts the payload (the signature is the adapter's, tested against the real SDK): Stripe's translation."""
        return translate(json.loads(payload))


class FakePayPal:
    """PayPal's two steps: ``charge`` makes an order its buyer approves (:meth:`approve`, as on PayPal's page),
    ``capture`` takes the money once per key; refunds go through the capture."""

    name = "paypal"

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.orders: dict[str, dict[str, object]] = {}
        self.replies: dict[str, object] = {}
        self.captures = 0
        self.unavailable = 0
        self.calls: list[str] = []

    def _fail_if_down(self) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise ProviderUnavailable("timed out")

    def approve(self, paypal_order_id: str, funding: str = "balance") -> None:
        self.orders[paypal_order_id].update(status="APPROVED", funding=funding)

    def charge(
        self, *, order_id: str, user_id: str | None, amount: Money, payment_method: str, idempotency_key: str
    ) -> ChargeOutcome:
        self.calls.append(f"create {idempotency_key}")
        self._fail_if_down()
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]  # type: ignore[return-value]
        paypal_id = f"PP{next(self.ids)}"
        self.orders[paypal_id] = {"status": "PAYER_ACTION_REQUIRED", "amount": amount.amount, "order": order_id}
        outcome = ChargeOutcome(paypal_id, False, waiting=True, approval_url=f"https://paypal.test/approve/{paypal_id}")
        self.replies[idempotency_key] = outcome
        return outcome

    def capture(self, ref: ProviderRef, *, idempotency_key: str) -> ChargeOutcome:
        self.calls.append(f"capture {idempotency_key}")
        self._fail_if_down()
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]  # type: ignore[return-value]
        order = self.orders[ref.payment_id]
        if order["status"] != "APPROVED":
            return ChargeOutcome(ref.payment_id, False, waiting=True)
        if order.get("funding") == "declined":
            return ChargeOutcome(ref.payment_id, False, failure=Failure("instrument_declined"))
        self.captures += 1
        order.update(status="COMPLETED", capture=f"CAP{self.captures}", refunded=0)
        outcome = ChargeOutcome(ref.payment_id, True, int(order["amount"]), capture_id=str(order["capture"]))  # type: ignore[call-overload]
        self.replies[idempotency_key] = outcome
        return outcome

    def status(self, ref: ProviderRef) -> ChargeOutcome:
        self.calls.append("status")
        self._fail_if_down()
        order = self.orders[ref.payment_id]
        if order["status"] == "COMPLETED":
            return ChargeOutcome(ref.payment_id, True, int(order["amount"]), capture_id=str(order["capture"]))  # type: ignore[call-overload]
        if order["status"] == "APPROVED":
            return ChargeOutcome(ref.payment_id, False, approved=True)
        return ChargeOutcome(ref.payment_id, False, waiting=True)

    def cancel(self, ref: ProviderRef, *, idempotency_key: str) -> str:
        return "succeeded" if self.status(ref).succeeded else "canceled"

    def refund(
        self, ref: ProviderRef, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        self._fail_if_down()
        if idempotency_key in self.replies:
            return self.replies[idempotency_key]  # type: ignore[return-value]
        order = next(o for o in self.orders.values() if o.get("capture") == ref.capture_id)
        left = int(order["amount"]) - int(order["refunded"])  # type: ignore[call-overload]
        wanted = left if amount is None else amount
        if wanted > left:
            raise ProviderRejected("too much", provider_code="amount_too_large")
        order["refunded"] = int(order["refunded"]) + wanted  # type: ignore[call-overload]
        made = ProviderRefund(f"RF{next(self.ids)}", ref.capture_id, wanted, "succeeded", dict(metadata))
        self.replies[idempotency_key] = made
        return made

    def refunds_of(self, ref: ProviderRef) -> list[ProviderRefund]:
        return []

    def verify_webhook(self, payload: str, headers: Mapping[str, str]) -> ProviderEvent:
        from payment.paypal_gateway import translate as translate_paypal

        return translate_paypal(json.loads(payload))
