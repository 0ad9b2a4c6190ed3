"""The stock rules: available never below zero, reservations all or nothing, StockLow once per crossing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inventory.domain import (
    InconsistentStock,
    InsufficientStock,
    InvalidSku,
    Level,
    OrderLine,
    ReservationStatus,
    StockItem,
    StockRuleError,
    crossed_into_low,
    merge_lines,
    normalise_sku,
    opened_for_product,
    plan_commit,
    plan_release,
    plan_reservation,
    plan_return,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def item(sku: str = "A1", on_hand: int = 10, reserved: int = 0, threshold: int = 3) -> StockItem:
    return StockItem(sku, on_hand=on_hand, reserved=reserved, threshold=threshold, version=1)


def test_available_and_level() -> None:
    assert item(on_hand=10, reserved=4).available == 6
    assert item(on_hand=10, reserved=4).level is Level.IN_STOCK
    assert item(on_hand=5, reserved=2).level is Level.LOW  # 3 available, threshold 3: at it is low
    assert item(on_hand=5, reserved=5).level is Level.OUT


def test_a_reservation_cannot_take_more_than_is_available() -> None:
    with pytest.raises(InsufficientStock) as caught:
        item(on_hand=5, reserved=3).reserve(3, NOW, "o-1")
    assert (caught.value.requested, caught.value.available) == (3, 2)
    after, movement = item(on_hand=5, reserved=3).reserve(2, NOW, "o-1")
    assert (after.available, movement.reserved_delta, movement.on_hand_delta) == (0, 2, 0)


def test_an_adjustment_never_takes_available_below_zero_and_needs_a_reason() -> None:
    with pytest.raises(InsufficientStock):
        item(on_hand=5, reserved=4).adjust(-2, "damaged", NOW, "adj-1")
    with pytest.raises(StockRuleError):
        item().adjust(-1, "  ", NOW, "adj-1")
    with pytest.raises(StockRuleError):
        item().adjust(0, "nothing", NOW, "adj-1")
    after, movement = item(on_hand=5, reserved=4).adjust(-1, "damaged", NOW, "adj-1", actor="admin-1")
    assert (after.on_hand, after.available, movement.reason, movement.actor) == (4, 0, "damaged", "admin-1")


def test_commit_release_and_restock_move_the_right_figures() -> None:
    reserved, _ = item(on_hand=10).reserve(4, NOW, "o-1")
    committed, commit = reserved.commit(4, NOW, "o-1")
    assert (committed.on_hand, committed.reserved, commit.on_hand_delta, commit.reserved_delta) == (6, 0, -4, -4)
    released, _ = reserved.release(4, NOW, "o-1")
    assert (released.on_hand, released.reserved) == (10, 0)
    returned, _ = committed.restock(4, NOW, "o-1", "order cancelled after payment")
    assert (returned.on_hand, returned.reserved) == (10, 0)
    with pytest.raises(InconsistentStock):
        item(on_hand=10, reserved=1).release(2, NOW, "o-1")


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001, True])
def test_quantities_are_positive_whole_numbers(quantity: int) -> None:
    with pytest.raises(StockRuleError):
        item().reserve(quantity, NOW, "o-1")


def test_skus_are_normalised_like_the_catalog() -> None:
    assert normalise_sku(" 85123a ") == "85123A"
    with pytest.raises(InvalidSku):
        normalise_sku("-bad")


def test_a_sku_holds_no_slash_so_it_is_always_one_path_segment() -> None:
    # /inventory/SL%2F15551 was a 400 and /inventory/SL/15551 a 404: such a SKU could never be stocked.
    for sku in ("SL/15551", "A/B", "85123A/"):
        with pytest.raises(InvalidSku) as caught:
            normalise_sku(sku)
        assert "'/'" not in str(caught.value)
    assert normalise_sku("gift_0001.40-b") == "GIFT_0001.40-B"


def test_rule_errors_carry_the_problem_a_client_sees() -> None:
    short = InsufficientStock("A1", 3, 2)
    assert (short.code, short.title) == ("insufficient-stock", "Insufficient stock")
    assert short.extra == {"sku": "A1", "requested": 3, "available": 2}
    assert (InvalidSku("x").code, StockRuleError("x").code) == ("invalid-sku", "stock-rule")


def test_a_new_product_gets_an_empty_record_or_links_one_that_names_no_product() -> None:
    opened = opened_for_product(None, "sku-1", "prod-1", NOW)
    assert opened is not None
    assert (opened.sku, opened.on_hand, opened.reserved, opened.product_id, opened.version) == (
        "SKU-1",
        0,
        0,
        "prod-1",
        0,
    )
    assert opened.updated_at == NOW
    unlinked = item("A1", on_hand=7)
    linked = opened_for_product(unlinked, "A1", "prod-1", NOW)
    assert linked is not None
    assert (linked.on_hand, linked.product_id, linked.version) == (7, "prod-1", 1)
    assert opened_for_product(linked, "A1", "prod-1", NOW) is None  # a repeat changes nothing
    assert opened_for_product(linked, "A1", "prod-2", NOW) is None  # a record keeps the product it names


def test_lines_of_one_sku_are_merged() -> None:
    merged = merge_lines([OrderLine("B", 1, "pb"), OrderLine("A", 2, "pa"), OrderLine("B", 3, "pb")])
    assert merged == (OrderLine("A", 2, "pa"), OrderLine("B", 4, "pb"))


def test_a_reservation_is_all_or_nothing() -> None:
    stock = {"A": item("A", on_hand=5), "B": item("B", on_hand=1)}
    lines = [OrderLine("A", 2, "pa"), OrderLine("B", 2, "pb"), OrderLine("GHOST", 1, "pg")]
    plan = plan_reservation("o-1", lines, stock, NOW)
    assert plan.reservation.status is ReservationStatus.FAILED
    assert plan.reservation.reason == "out_of_stock"
    assert plan.changes == ()  # A could have been reserved, but nothing is
    assert [s.to_dict() for s in plan.reservation.unavailable] == [
        {"sku": "B", "requested": 2, "available": 1},
        {"sku": "GHOST", "requested": 1, "available": 0},
    ]

    ok = plan_reservation("o-2", [OrderLine("A", 2, "pa"), OrderLine("B", 1, "pb")], stock, NOW)
    assert ok.reservation.status is ReservationStatus.RESERVED
    assert {c.after.sku: (c.after.reserved, c.needs_available) for c in ok.changes} == {"A": (2, 2), "B": (1, 1)}


def test_an_order_with_too_many_skus_for_one_transaction_fails_cleanly() -> None:
    stock = {f"S{i}": item(f"S{i}") for i in range(50)}
    plan = plan_reservation("o-1", [OrderLine(f"S{i}", 1) for i in range(50)], stock, NOW)
    assert (plan.reservation.status, plan.reservation.reason, plan.changes) == (
        ReservationStatus.FAILED,
        "too_many_lines",
        (),
    )


def test_settling_a_reservation_follows_its_status() -> None:
    stock = {"A": item("A", on_hand=5)}
    reserved = plan_reservation("o-1", [OrderLine("A", 2)], stock, NOW)
    after = {"A": reserved.changes[0].after}
    committed = plan_commit(reserved.reservation, after, NOW)
    assert committed.reservation.status is ReservationStatus.COMMITTED
    assert plan_release(reserved.reservation, after, NOW).reservation.status is ReservationStatus.RELEASED
    returned = plan_return(committed.reservation, {"A": committed.changes[0].after}, NOW)
    assert returned.reservation.status is ReservationStatus.RESTOCKED
    assert returned.changes[0].after.on_hand == 5
    with pytest.raises(InconsistentStock):
        plan_commit(committed.reservation, after, NOW)  # only a RESERVED reservation commits


def test_stock_low_is_a_crossing_not_a_state() -> None:
    above, low, lower = item(on_hand=10), item(on_hand=3), item(on_hand=1)
    assert crossed_into_low(above, low)
    assert not crossed_into_low(low, lower)  # still low: no new alert on every sale
    assert not crossed_into_low(lower, above)
    assert crossed_into_low(above, lower)
    assert crossed_into_low(None, low)  # a new record that starts low
    assert not crossed_into_low(None, above)
    # raising the threshold over what is available crosses too
    assert crossed_into_low(above, above.with_threshold(10, NOW))
