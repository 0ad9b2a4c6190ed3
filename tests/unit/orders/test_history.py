"""Importing past orders as history: each order id once, the rules of a request, the batch it announces."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from orders.events import OrderHistoryImported
from orders.history import (
    HistoryBatch,
    HistoryImportRace,
    HistoryLine,
    HistoryOrder,
    HistoryRaced,
    HistoryTooLarge,
    ImportHistory,
    InvalidHistory,
    batch_id_for,
    import_history,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeHistory:
    """:class:`orders.history.HistoryRepository` in memory, with the table's all-or-nothing rule; ``rivals`` are
    order ids another import writes just before each of our next writes (a race)."""

    def __init__(self) -> None:
        self.markers: dict[str, str] = {}
        self.batches: dict[str, HistoryBatch] = {}
        self.rivals: list[set[str]] = []

    def imported(self, order_ids: Sequence[str]) -> set[str]:
        return {i for i in order_ids if i in self.markers}

    def add_batch(self, batch: HistoryBatch, *, correlation_id: str = "") -> None:
        if self.rivals:
            for order_id in self.rivals.pop(0):
                self.markers[order_id] = "rival"
        if batch.batch_id in self.batches or any(i in self.markers for i in batch.order_ids):
            raise HistoryRaced("a marker exists")
        self.batches[batch.batch_id] = batch
        self.markers.update((i, batch.batch_id) for i in batch.order_ids)


def product() -> str:
    return str(uuid.uuid4())


def line(quantity: int = 2, amount: int = 250, **kw: str) -> HistoryLine:
    fields = {"product_id": product(), "sku": "85123A", "title": "Heart T-Light Holder", **kw}
    return HistoryLine(quantity=quantity, unit_amount=amount, **fields)


def order(order_id: str | None = None, *lines: HistoryLine, **kw: object) -> HistoryOrder:
    base = HistoryOrder(
        order_id=order_id or f"OR-{uuid.uuid4().hex[:10]}",
        customer_id="17850",
        placed_at=NOW - timedelta(days=400),
        country="GB",
        kind="order",
        currency="GBP",
        lines=tuple(lines) or (line(),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def run(*orders: HistoryOrder, repo: FakeHistory | None = None) -> tuple[FakeHistory, object]:
    repo = repo or FakeHistory()
    return repo, import_history(ImportHistory(tuple(orders), "corr-1"), repo, clock=lambda: NOW)


def test_new_orders_are_imported_as_one_batch_with_their_totals() -> None:
    a = order(None, line(6, 255), line(6, 339))
    b = order(None, line(1, 255), kind="return")
    repo, result = run(a, b)
    assert result.to_dict() == {  # type: ignore[attr-defined]
        "received": 2,
        "imported": 2,
        "alreadyImported": [],
        "batchId": batch_id_for([a.order_id, b.order_id]),
    }
    (batch,) = repo.batches.values()
    data = batch.event_data()
    OrderHistoryImported.model_validate(data)  # the published contract
    assert [o["total"] for o in data["orders"]] == [
        {"amount": 6 * 255 + 6 * 339, "currency": "GBP"},
        {"amount": 255, "currency": "GBP"},
    ]
    assert data["orders"][1]["kind"] == "return"
    assert data["orders"][0]["placedAt"] == "2025-01-25T12:00:00Z"
    assert data["importedAt"] == "2026-03-01T12:00:00Z"


def test_the_same_import_twice_imports_nothing_the_second_time() -> None:
    a, b = order(), order()
    repo, _ = run(a, b)
    _, again = run(a, b, repo=repo)
    assert again.to_dict() == {  # type: ignore[attr-defined]
        "received": 2,
        "imported": 0,
        "alreadyImported": [a.order_id, b.order_id],
        "batchId": None,
    }
    assert len(repo.batches) == 1


def test_only_the_orders_never_imported_go_in_the_new_batch() -> None:
    a, b, c = order(), order(), order()
    repo, _ = run(a)
    _, result = run(a, b, c, repo=repo)
    assert result.to_dict()["alreadyImported"] == [a.order_id]  # type: ignore[attr-defined]
    newest = repo.batches[result.batch_id]  # type: ignore[attr-defined]
    assert newest.order_ids == [b.order_id, c.order_id]


def test_a_race_is_read_again_and_retried_once() -> None:
    a, b = order(), order()
    repo = FakeHistory()
    repo.rivals = [{a.order_id}]  # another import takes `a` between our read and our write
    _, result = run(a, b, repo=repo)
    assert result.to_dict()["imported"] == 1  # type: ignore[attr-defined]
    assert result.to_dict()["alreadyImported"] == [a.order_id]  # type: ignore[attr-defined]
    assert repo.markers[b.order_id] == result.batch_id  # type: ignore[attr-defined]


def test_losing_the_race_twice_is_a_conflict_and_imports_nothing() -> None:
    a, b, c = order(), order(), order()
    repo = FakeHistory()
    repo.rivals = [{a.order_id}, {b.order_id}]
    with pytest.raises(HistoryImportRace):
        run(a, b, c, repo=repo)
    assert c.order_id not in repo.markers
    assert not repo.batches


@pytest.mark.parametrize(
    ("orders", "says"),
    [
        (lambda: [], "1 to 50"),
        (lambda: [order() for _ in range(51)], "1 to 50"),
        (lambda: [order(None, *[line() for _ in range(250)]) for _ in range(3)], "at most 500 lines"),
        (lambda: [order(), order(currency="EUR")], "one currency"),
        (lambda: [order("OR-1"), order("OR-1")], "twice"),
        (lambda: [order("OR 1/2")], "orderId"),
        (lambda: [order("x" * 65)], "orderId"),
        (lambda: [order(customer_id="a b")], "customerId"),
        (lambda: [order(country="gb")], "country"),
        (lambda: [order(kind="refund")], "kind"),
        (lambda: [order(placed_at=NOW + timedelta(hours=1))], "future"),
        (lambda: [order(placed_at=datetime(1969, 12, 31, tzinfo=UTC))], "before 1970"),
        (lambda: [order(lines=())], "at least one line"),
        (lambda: [order(None, line(product_id="not-a-uuid"))], "productId"),
        (lambda: [order(None, line(sku=""))], "sku"),
        (lambda: [order(None, line(title="x" * 201))], "title"),
        (lambda: [order(None, line(title="a\nb"))], "title"),
        (lambda: [order(None, line(quantity=0))], "quantity"),
        (lambda: [order(None, line(quantity=100_001))], "quantity"),
        (lambda: [order(None, line(amount=-1))], "unitPrice"),
        (lambda: [order(None, line(amount=10**9 + 1))], "unitPrice"),
    ],
)
def test_a_bad_request_is_refused_whole_and_writes_nothing(orders: object, says: str) -> None:
    repo = FakeHistory()
    with pytest.raises(InvalidHistory) as refused:
        run(*orders(), repo=repo)  # type: ignore[operator]
    assert says in str(refused.value)
    assert not repo.batches
    assert not repo.markers


def test_a_batch_too_large_for_one_event_is_refused_whole() -> None:
    wide = "\U0001d11e" * 200  # four bytes each: 500 such lines weigh 400 KB
    orders = [order(None, *[line(title=wide) for _ in range(100)]) for _ in range(5)]
    repo = FakeHistory()
    with pytest.raises(HistoryTooLarge):
        run(*orders, repo=repo)
    assert not repo.markers


def test_the_batch_id_depends_only_on_the_set_of_orders() -> None:
    assert batch_id_for(["b", "a"]) == batch_id_for(["a", "b"])
    assert batch_id_for(["a"]) != batch_id_for(["a", "b"])
