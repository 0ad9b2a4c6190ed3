"""The payment table's invariant against what each provider holds: one charge per charged payment, at its own
provider (a Stripe payment is not looked for at PayPal, nor the other way round)."""

from __future__ import annotations

from typing import Any

from gears_shared.invariants import Shop
from payment import invariants


def payment(order_id: str, status: str = "SUCCEEDED", provider: str | None = None) -> dict[str, Any]:
    item = {
        "entity": "Payment",
        "orderId": order_id,
        "status": status,
        "amount": {"amount": 1000, "currency": "GBP"},
        "charged": 1000 if status == "SUCCEEDED" else 0,
        "refundedTotal": 0,
    }
    if provider:
        item["provider"] = provider
    return item


def paypal_order(order_id: str, *capture_statuses: str) -> dict[str, Any]:
    captures = [{"id": f"C{i}", "status": s} for i, s in enumerate(capture_statuses)]
    return {"id": f"PP-{order_id}", "purchase_units": [{"custom_id": order_id, "payments": {"captures": captures}}]}


def problems(items: list[dict[str, Any]], shop: Shop) -> list[str]:
    return [p for check in invariants.checks(items, shop) for p in check.problems]


def test_each_payment_is_held_against_its_own_provider() -> None:
    shop = Shop(
        payment_intents=lambda: [{"status": "succeeded", "metadata": {"orderId": "card"}}],
        paypal_orders=lambda: [paypal_order("pp", "COMPLETED")],
    )
    items = [payment("card"), payment("pp", provider="paypal"), payment("waiting", "AWAITING_APPROVAL", "paypal")]
    assert problems(items, shop) == []


def test_a_second_paypal_capture_for_an_order_is_found() -> None:
    shop = Shop(paypal_orders=lambda: [paypal_order("pp", "COMPLETED", "COMPLETED")])
    assert problems([payment("pp", provider="paypal")], shop) == ["pp: SUCCEEDED, 2 charges at the provider"]


def test_a_paypal_capture_the_shop_never_recorded_is_found() -> None:
    shop = Shop(paypal_orders=lambda: [paypal_order("pp", "COMPLETED")])
    assert problems([payment("pp", "FAILED", "paypal")], shop) == ["pp: FAILED, 1 charges at the provider"]
