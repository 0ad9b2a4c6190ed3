"""An order placed with a discount code: kept as checkout placed it and shown on the order; totals that do not add
up are refused."""

from __future__ import annotations

from typing import Any

import pytest

from orders import events as ev
from orders import service
from orders.domain import InvalidOrder, Order
from orders.service import EventContext
from tests.unit.orders.fakes import FakeOrders, placed_data

GBP = "GBP"


def place(repo: FakeOrders, order_id: str, **overrides: Any) -> Order:
    data = ev.OrderPlaced.model_validate(placed_data(order_id, **overrides))
    service.place_order(service.PlaceOrder(data, EventContext(ev.ORDER_PLACED, f"p-{order_id}", "corr")), repo)
    order = repo.get(order_id)
    assert order is not None
    return order


def test_an_order_with_a_discount_shows_the_code_and_what_it_took_off() -> None:
    repo = FakeOrders()
    order = place(
        repo,
        "o-disc",
        discount={"code": "SPRING10", "amount": {"amount": 100, "currency": GBP}},
        total={"amount": 1299, "currency": GBP},  # 1000 - 100 + 399
    )
    shown = order.to_dict()
    assert shown["discount"] == {"code": "SPRING10", "amount": {"amount": 100, "currency": GBP}}
    assert shown["total"] == {"amount": 1299, "currency": GBP}
    assert Order.from_dict(shown).discount == order.discount  # kept and read back as it was


def test_an_order_without_a_discount_shows_null_and_an_event_from_before_codes_is_read_alike() -> None:
    repo = FakeOrders()
    with_null = place(repo, "o-null", discount=None)
    without = place(repo, "o-old")  # OrderPlaced as it was before discount codes: no field at all
    assert with_null.to_dict()["discount"] is None
    assert without.to_dict()["discount"] is None
    stored = without.to_dict()
    del stored["discount"]  # an order stored before discount codes existed
    assert Order.from_dict(stored).discount is None


@pytest.mark.parametrize(
    ("discount", "total"),
    [
        ({"code": "SPRING10", "amount": {"amount": 100, "currency": GBP}}, 1399),  # discount not taken off
        ({"code": "SPRING10", "amount": {"amount": 1001, "currency": GBP}}, 398),  # more than the subtotal
        ({"code": "SPRING10", "amount": {"amount": 100, "currency": "EUR"}}, 1299),  # another currency
    ],
)
def test_totals_that_do_not_add_up_are_refused(discount: dict, total: int) -> None:
    with pytest.raises(InvalidOrder):
        place(FakeOrders(), "o-bad", discount=discount, total={"amount": total, "currency": GBP})
