"""What must hold of the payment table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **charges**: an order has one payment record (its key is the order's), charged at most its amount; what is refunded
  never exceeds what was charged, and equals the sum of the order's refunds; a charged payment has exactly one
  succeeded PaymentIntent at the provider, and the provider never holds a second succeeded one for an order (when
  the shop can list them: the local Stripe).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from gears_shared.invariants import Check, Shop
from payment.domain import CHARGED, PaymentStatus
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
        _against_provider(charges, payments, shop.payment_intents())
    return [charges]


def _against_provider(charges: Check, payments: dict[str, dict[str, Any]], intents: list[dict[str, Any]]) -> None:
    """A charged payment has one succeeded PaymentIntent; no order has two, recorded or not."""
    succeeded: dict[str, int] = defaultdict(int)
    for intent in intents:
        if intent.get("status") == "succeeded":
            succeeded[str((intent.get("metadata") or {}).get("orderId"))] += 1
    for order_id, payment in payments.items():
        charged = PaymentStatus(str(payment.get("status"))) in CHARGED
        if succeeded.get(order_id, 0) != (1 if charged else 0):
            charges.fail(f"{order_id}: {payment.get('status')}, {succeeded.get(order_id, 0)} succeeded intents")
    for order_id in set(succeeded) - set(payments):
        if succeeded[order_id] > 1:
            charges.fail(f"{order_id}: {succeeded[order_id]} succeeded intents and no payment record")
