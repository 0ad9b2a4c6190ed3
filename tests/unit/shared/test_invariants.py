"""Each service's invariants (what `gears check` runs) find what breaks them, on items as the tables hold them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gears_shared.invariants import Shop

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


def _order(order_id: str, *steps: tuple[str, float, str | None]) -> dict:
    history = [
        {"seq": i, "from": steps[i - 1][0] if i else None, "to": to, "at": _at(ago), "cause": "test", "reason": reason}
        for i, (to, ago, reason) in enumerate(steps)
    ]
    status = steps[-1][0]
    return {"entity": "Order", "orderId": order_id, "status": status, "order": {"status": status, "history": history}}


def test_orders_stuck_unexplained_or_illegal_are_found() -> None:
    from orders.invariants import checks

    items = [
        _order("paid", ("PENDING", 30, None), ("CONFIRMED", 20, None), ("PAID", 10, None)),
        _order("moving", ("PENDING", 5, None)),
        _order("stuck", ("PENDING", 900, None), ("CONFIRMED", 800, None)),
        _order("leapt", ("PENDING", 30, None), ("SHIPPED", 20, None)),
        {"entity": "Inbox", "pk": "INBOX#x"},
    ]
    settled, history, imported = checks(items, Shop(now=NOW, in_flight_s=120))
    assert settled.checked == 4
    assert [p.split()[0] for p in settled.problems] == ["stuck"]
    assert [p.split(":")[0] for p in history.problems] == ["leapt"]
    assert (imported.checked, imported.problems) == (0, [])  # no history imported: nothing to hold


def test_a_ledger_that_does_not_add_up_and_a_reservation_left_held_are_found() -> None:
    from inventory.invariants import checks

    def move(sku: str, sk: str, on_hand: int, reserved: int, on_after: int, res_after: int) -> dict:
        return {
            "entity": "Movement",
            "sku": sku,
            "sk": sk,
            "onHandDelta": on_hand,
            "reservedDelta": reserved,
            "onHandAfter": on_after,
            "reservedAfter": res_after,
        }

    items = [
        {"entity": "Stock", "sku": "A", "onHand": 10, "reserved": 2},
        move("A", "MOVE#1", 10, 0, 10, 0),
        move("A", "MOVE#2", 0, 2, 10, 2),
        {
            "entity": "Reservation",
            "orderId": "o1",
            "status": "RESERVED",
            "updatedAt": _at(10),
            "lines": [{"sku": "A", "quantity": 2}],
        },
        {"entity": "Stock", "sku": "B", "onHand": 5, "reserved": 0},
        move("B", "MOVE#1", 6, 0, 6, 0),  # the stock says 5: a unit went missing
        {
            "entity": "Reservation",
            "orderId": "o2",
            "status": "RESERVED",
            "updatedAt": _at(900),
            "lines": [{"sku": "C", "quantity": 1}],
        },
    ]
    ledger, reservations = checks(items, Shop(now=NOW, in_flight_s=120))
    assert ledger.checked == 2
    assert [p.split(":")[0] for p in ledger.problems] == ["B", "B"]
    assert sorted(p.split(":")[0] for p in reservations.problems) == ["C", "order o2"]


def test_a_second_charge_and_a_refund_above_the_charge_are_found() -> None:
    from payment.invariants import checks

    def payment(order_id: str, status: str, charged: int, refunded: int) -> dict:
        return {
            "entity": "Payment",
            "orderId": order_id,
            "status": status,
            "amount": {"amount": 1000},
            "charged": charged,
            "refundedTotal": refunded,
        }

    items = [
        payment("ok", "SUCCEEDED", 1000, 0),
        payment("twice", "SUCCEEDED", 1000, 0),
        payment("over", "REFUNDED", 1000, 1500),
        {"entity": "Refund", "orderId": "over", "amount": {"amount": 1500}},
    ]
    intents = [
        {"status": "succeeded", "metadata": {"orderId": "ok"}},
        {"status": "succeeded", "metadata": {"orderId": "twice"}},
        {"status": "succeeded", "metadata": {"orderId": "twice"}},
        {"status": "succeeded", "metadata": {"orderId": "over"}},
        {"status": "requires_payment_method", "metadata": {"orderId": "ok"}},
    ]
    (charges,) = checks(items, Shop(now=NOW, payment_intents=lambda: intents))
    assert sorted(p.split(":")[0] for p in charges.problems) == ["over", "twice"]
    (without_provider,) = checks(items, Shop(now=NOW))
    assert [p.split(":")[0] for p in without_provider.problems] == ["over"]
