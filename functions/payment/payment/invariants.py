"""What must hold of the payment table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **charges**: an order has one payment record (its key is the order's), charged at most its amount; what is refunded
  never exceeds what was charged, and equals the sum of the order's refunds; a charged payment has exactly one
  charge at its provider (a succeeded PaymentIntent at Stripe; one PayPal order with one capture), and no provider
  holds a second one for an order (when the shop can list them: the local Stripe and PayPal).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from payment.domain import CHARGED, PAYPAL, STRIPE, PaymentStatus
from payment.store import PAYMENT, REFUND


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    payments: dict[str, dict[str, Any]] = {}
    refunded: dict[str, int] = defaultdict(int)
    for item in items:
        if item.get("entity") == PAYMENT:
            payments[str(item["orderId"])] = item
        elif item.get("entity") == REFUND:
            refunded[str(item["orderId"])] += int((item.get("amount") or {}).get("amount", 0))
    charges = Check("payment: one charge per order, refunds within it")
    for order_id, payment in payments.items():
        charges.saw()
        amount = int((payment.get("amount") or {}).get("amount", 0))
        charged, total = int(payment.get("charged", 0)), int(payment.get("refundedTotal", 0))
        if charged > amount:
            charges.fail(f"{order_id}: {charged} charged for an order of {amount}")
        if total > charged or total != refunded.get(order_id, 0):
            charges.fail(f"{order_id}: {total} refunded of {charged}; its refunds sum to {refunded.get(order_id, 0)}")
    if shop.payment_intents is not None:
        stripe_payments = {k: p for k, p in payments.items() if (p.get("provider") or STRIPE) == STRIPE}
        _against_provider(charges, stripe_payments, _succeeded_intents(shop.payment_intents()))
    if shop.paypal_orders is not None:
        paypal_payments = {k: p for k, p in payments.items() if p.get("provider") == PAYPAL}
        _against_provider(charges, paypal_payments, _paypal_captures(shop.paypal_orders()))
    return [charges]


def _succeeded_intents(intents: list[dict[str, Any]]) -> dict[str, int]:
    succeeded: dict[str, int] = defaultdict(int)
    for intent in intents:
        if intent.get("status") == "succeeded":
            succeeded[str((intent.get("metadata") or {}).get("orderId"))] += 1
    return succeeded


def _paypal_captures(orders: list[dict[str, Any]]) -> dict[str, int]:
    """Captures that took money, per our order id (each PayPal order's ``custom_id``)."""
    taken: dict[str, int] = defaultdict(int)
    for order in orders:
        for unit in order.get("purchase_units") or []:
            for capture in (unit.get("payments") or {}).get("captures") or []:
                if capture.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
                    taken[str(unit.get("custom_id"))] += 1
    return taken


def _against_provider(charges: Check, payments: dict[str, dict[str, Any]], succeeded: dict[str, int]) -> None:
    """A charged payment has one charge at its provider; no order has two, recorded or not."""
    for order_id, payment in payments.items():
        charged = PaymentStatus(str(payment.get("status"))) in CHARGED
        if succeeded.get(order_id, 0) != (1 if charged else 0):
            charges.fail(f"{order_id}: {payment.get('status')}, {succeeded.get(order_id, 0)} charges at the provider")
    for order_id in set(succeeded) - set(payments):
        if succeeded[order_id] > 1:
            charges.fail(f"{order_id}: {succeeded[order_id]} charges at the provider and no payment record")
