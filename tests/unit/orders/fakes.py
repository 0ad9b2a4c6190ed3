"""In-memory fakes of order management's ports, and order builders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from orders.domain import Order, OrderStatus
from orders.errors import StaleOrder

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeOrders:
    """:class:`orders.service.OrderRepository` in a dict, with the same version rule as the table."""

    def __init__(self) -> None:
        self.items: dict[str, Order] = {}
        self.saves = 0

    def get(self, order_id: str) -> Order | None:
        return self.items.get(order_id)

    def add(self, order: Order, *, correlation_id: str = "") -> bool:
        if order.order_id in self.items:
            return False
        self.items[order.order_id] = replace(order, version=1)
        return True

    def save(self, order: Order, *, correlation_id: str = "") -> Order:
        current = self.items.get(order.order_id)
        if current is None or current.version != order.version:
            raise StaleOrder("changed")
        stored = replace(order, version=order.version + 1)
        self.items[order.order_id] = stored
        self.saves += 1
        return stored

    def list_for_user(self, user_id: str, *, limit: int, before: str | None) -> tuple[list[Order], str | None]:
        mine = sorted(
            (o for o in self.items.values() if o.user_id == user_id),
            key=lambda o: f"{o.placed_at}#{o.order_id}",
            reverse=True,
        )
        if before:
            mine = [o for o in mine if f"{o.placed_at}#{o.order_id}" < before]
        page = mine[:limit]
        return page, (f"{page[-1].placed_at}#{page[-1].order_id}" if len(mine) > limit else None)

    def list_by_status(
        self, statuses: Sequence[OrderStatus], *, lower: str, upper: str, limit: int, before: str | None
    ) -> tuple[list[Order], str | None]:
        found = sorted(
            (
                o
                for o in self.items.values()
                if o.status in statuses
                and lower <= f"{o.placed_at}#{o.order_id}" <= min(upper, before or upper)
                and f"{o.placed_at}#{o.order_id}" != before
            ),
            key=lambda o: f"{o.placed_at}#{o.order_id}",
            reverse=True,
        )
        page = found[:limit]
        return page, (f"{page[-1].placed_at}#{page[-1].order_id}" if len(found) > limit else None)


def placed_data(order_id: str = "o-1", user_id: str = "u-1", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "orderId": order_id,
        "userId": user_id,
        "lines": [
            {
                "productId": "p-1",
                "sku": "SKU-1",
                "title": "Mug",
                "quantity": 2,
                "unitPrice": {"amount": 500, "currency": "GBP"},
                "lineTotal": {"amount": 1000, "currency": "GBP"},
            }
        ],
        "subtotal": {"amount": 1000, "currency": "GBP"},
        "shipping": {"amount": 399, "currency": "GBP"},
        "total": {"amount": 1399, "currency": "GBP"},
        "shippingAddress": {
            "name": "Ann",
            "line1": "1 High St",
            "city": "York",
            "postcode": "YO1 1AA",
            "country": "GB",
        },
        "paymentMethod": "pm_card_visa",
        "placedAt": "2026-03-01T11:59:00Z",
    }
    data.update(overrides)
    return data
