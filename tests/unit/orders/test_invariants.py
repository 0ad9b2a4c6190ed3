"""`gears check` on orders awaiting payment: a buyer at PayPal may take the whole approval window; past it (and the
time the saga needs to end the wait) the order is stuck."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gears_shared.invariants import Shop
from orders.invariants import checks

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


def _waiting(order_id: str, waited_s: float, expires_in_s: float | None) -> dict[str, Any]:
    steps = [("PENDING", waited_s + 2), ("CONFIRMED", waited_s + 1), ("AWAITING_PAYMENT", waited_s)]
    history = [
        {"seq": i, "from": steps[i - 1][0] if i else None, "to": to, "at": _at(ago), "cause": {"type": "t", "id": "e"}}
        for i, (to, ago) in enumerate(steps)
    ]
    ends = _at(-expires_in_s) if expires_in_s is not None else None
    order = {"status": "AWAITING_PAYMENT", "history": history, "payment": {"approvalExpiresAt": ends}}
    return {"entity": "Order", "orderId": order_id, "status": "AWAITING_PAYMENT", "order": order}


def test_an_order_awaiting_payment_is_stuck_only_once_the_buyers_wait_is_well_over() -> None:
    items = [
        _waiting("browsing", waited_s=1500, expires_in_s=300),  # long at PayPal, still within the window
        _waiting("just-expired", waited_s=1850, expires_in_s=-50),  # the payment service is ending it
        _waiting("stuck", waited_s=2400, expires_in_s=-600),
        _waiting("no-window", waited_s=10, expires_in_s=None),
    ]
    settled, history, _ = checks(items, Shop(now=NOW, in_flight_s=120))
    assert settled.checked == 4
    assert sorted(p.split()[0] for p in settled.problems) == ["no-window", "stuck"]
    assert history.problems == []  # PENDING -> CONFIRMED -> AWAITING_PAYMENT is a legal path
