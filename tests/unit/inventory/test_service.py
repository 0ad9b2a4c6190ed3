"""The inventory's use cases over the in-memory repository: the saga's steps, administration, and the ledger."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from inventory import service
from inventory.domain import (
    InsufficientStock,
    InvalidSku,
    MovementKind,
    OrderLine,
    ReservationStatus,
    StockItem,
    StockRuleError,
)
from inventory.errors import DuplicateReceipt, InvalidCursor, SkuNotFound, StaleStock
from inventory.service import (
    CancelOrder,
    CommitOrder,
    ListLowStock,
    OpenStock,
    ReceiveStock,
    ReserveForOrder,
    UpdateStock,
    ViewStock,
)
from tests.unit.inventory.fakes import InMemoryStock


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def repo() -> InMemoryStock:
    return InMemoryStock()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def no_sleep(_: float) -> None:
    return None


def reserve(repo: InMemoryStock, order_id: str, *lines: tuple[str, int], clock: Clock | None = None):  # type: ignore[no-untyped-def]
    return service.reserve_for_order(
        ReserveForOrder(order_id, tuple(OrderLine(sku, qty, f"p-{sku}") for sku, qty in lines)),
        repo=repo,
        clock=clock or Clock(),
        sleep=no_sleep,
    )


# -- the saga --------------------------------------------------------------------------------------------------------
def test_an_order_reserves_every_line_or_none(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    repo.stock("B", 1)
    failed = reserve(repo, "o-1", ("A", 2), ("B", 2))
    assert failed.status is ReservationStatus.FAILED
    assert [s.sku for s in failed.unavailable] == ["B"]
    assert (repo.items["A"].reserved, repo.items["B"].reserved) == (0, 0)
    assert repo.ledger == {}

    ok = reserve(repo, "o-2", ("A", 2), ("B", 1))
    assert ok.status is ReservationStatus.RESERVED
    assert (repo.items["A"].available, repo.items["B"].available) == (3, 0)


def test_a_repeated_order_placed_reserves_once(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    first = reserve(repo, "o-1", ("A", 2))
    again = reserve(repo, "o-1", ("A", 2))
    assert first == again
    assert repo.items["A"].reserved == 2
    assert len(repo.ledger["A"]) == 1


def test_an_unknown_or_malformed_sku_fails_the_reservation(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    failed = reserve(repo, "o-1", ("A", 1), ("not a sku!", 1))
    assert failed.status is ReservationStatus.FAILED
    assert failed.unavailable[0].to_dict() == {"sku": "not a sku!", "requested": 1, "available": 0}
    assert repo.items["A"].reserved == 0


def test_payment_commits_once(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    reserve(repo, "o-1", ("A", 2))
    committed = service.commit_order(CommitOrder("o-1"), repo=repo, sleep=no_sleep)
    assert committed is not None
    assert committed.status is ReservationStatus.COMMITTED
    assert (repo.items["A"].on_hand, repo.items["A"].reserved) == (3, 0)
    service.commit_order(CommitOrder("o-1"), repo=repo, sleep=no_sleep)  # a second OrderPaid
    assert (repo.items["A"].on_hand, repo.items["A"].reserved) == (3, 0)
    assert service.commit_order(CommitOrder("o-unknown"), repo=repo, sleep=no_sleep) is None


def test_cancelling_before_payment_releases_and_after_payment_restocks(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    reserve(repo, "o-1", ("A", 2))
    reserve(repo, "o-2", ("A", 1))
    service.commit_order(CommitOrder("o-2"), repo=repo, sleep=no_sleep)
    assert (repo.items["A"].on_hand, repo.items["A"].reserved) == (4, 2)

    released = service.cancel_order(CancelOrder("o-1"), repo=repo, sleep=no_sleep)
    restocked = service.cancel_order(CancelOrder("o-2"), repo=repo, sleep=no_sleep)
    assert (released.status, restocked.status) == (ReservationStatus.RELEASED, ReservationStatus.RESTOCKED)
    assert (repo.items["A"].on_hand, repo.items["A"].reserved) == (5, 0)

    for order in ("o-1", "o-2"):  # repeated cancellations change nothing
        service.cancel_order(CancelOrder(order), repo=repo, sleep=no_sleep)
    assert (repo.items["A"].on_hand, repo.items["A"].reserved) == (5, 0)
    assert service.commit_order(CommitOrder("o-1"), repo=repo, sleep=no_sleep).status is ReservationStatus.RELEASED  # type: ignore[union-attr]


def test_cancelling_a_failed_reservation_changes_nothing(repo: InMemoryStock) -> None:
    repo.stock("A", 1)
    reserve(repo, "o-1", ("A", 5))
    before = dict(repo.items)
    assert service.cancel_order(CancelOrder("o-1"), repo=repo, sleep=no_sleep).status is ReservationStatus.FAILED
    assert repo.items == before


def test_an_order_cancelled_before_it_was_reserved_never_reserves(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    tombstone = service.cancel_order(CancelOrder("o-1"), repo=repo, sleep=no_sleep)
    assert tombstone.status is ReservationStatus.CANCELLED
    late = reserve(repo, "o-1", ("A", 2))  # OrderPlaced arrives after OrderCancelled
    assert late.status is ReservationStatus.CANCELLED
    assert repo.items["A"].reserved == 0


def test_a_write_refused_as_stale_is_decided_again(repo: InMemoryStock) -> None:
    repo.stock("A", 2)
    original_write = repo.write
    calls = {"n": 0}

    def racing_write(changes, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # another order takes a unit between our read and our write
            item = repo.items["A"]
            repo.items["A"] = replace(item, reserved=1, version=item.version + 1)
            raise StaleStock("raced")
        return original_write(changes, **kwargs)

    repo.write = racing_write  # type: ignore[method-assign]
    failed = reserve(repo, "o-1", ("A", 2))
    assert calls["n"] == 2
    assert failed.status is ReservationStatus.FAILED  # decided again on the new figures: only 1 left
    assert failed.unavailable[0].available == 1


def test_racing_orders_never_oversell(repo: InMemoryStock) -> None:
    repo.stock("LAST", 3)
    results: list[ReservationStatus] = []

    def buy(n: int) -> None:
        results.append(reserve(repo, f"o-{n}", ("LAST", 1)).status)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(ReservationStatus.RESERVED) == 3
    assert results.count(ReservationStatus.FAILED) == 9
    assert repo.items["LAST"].available == 0


# -- administration --------------------------------------------------------------------------------------------------
def test_put_creates_the_record_sets_the_threshold_and_adjusts(repo: InMemoryStock, clock: Clock) -> None:
    item, created = service.update_stock(
        UpdateStock("new-1", threshold=2, product_id="prod-1"), repo=repo, clock=clock, sleep=no_sleep
    )
    assert created
    assert (item.sku, item.on_hand, item.threshold, item.version) == ("NEW-1", 0, 2, 1)
    item, created = service.update_stock(
        UpdateStock("NEW-1", delta=7, reason="count", actor="admin-1"), repo=repo, clock=clock, sleep=no_sleep
    )
    assert not created
    assert (item.on_hand, item.version) == (7, 2)
    assert repo.ledger["NEW-1"][0].actor == "admin-1"


def test_put_on_a_sku_with_no_record_needs_its_product(repo: InMemoryStock) -> None:
    for cmd in (UpdateStock("GHOST-1", threshold=2), UpdateStock("GHOST-1", delta=5, reason="count")):
        with pytest.raises(SkuNotFound, match="product"):
            service.update_stock(cmd, repo=repo, sleep=no_sleep)
    assert (repo.items, repo.writes) == ({}, 0)  # no record linked to no product
    item, created = service.update_stock(UpdateStock("GHOST-1", threshold=2, product_id="prod-1"), repo=repo)
    assert created
    assert (item.product_id, item.threshold) == ("prod-1", 2)


def test_a_new_product_opens_its_stock_record_once(repo: InMemoryStock, clock: Clock) -> None:
    opened = service.open_stock(OpenStock("new-9", "prod-9", "corr-1"), repo=repo, clock=clock, sleep=no_sleep)
    assert opened is not None
    assert (opened.sku, opened.on_hand, opened.product_id, opened.version) == ("NEW-9", 0, "prod-9", 1)
    assert repo.items["NEW-9"] == opened
    assert repo.ledger == {}  # nothing moved: the record says no units
    writes = repo.writes
    assert service.open_stock(OpenStock("NEW-9", "prod-9"), repo=repo, sleep=no_sleep) is None  # a repeat
    assert repo.writes == writes
    # the record can be restocked at once (it used to need a PUT first)
    assert service.receive_stock(ReceiveStock("NEW-9", 4), repo=repo, sleep=no_sleep).on_hand == 4


def test_a_new_product_links_the_record_its_sku_already_had(repo: InMemoryStock) -> None:
    repo.items["OLD-1"] = StockItem("OLD-1", on_hand=6, reserved=1, version=3)  # opened before products were linked
    linked = service.open_stock(OpenStock("OLD-1", "prod-1"), repo=repo, sleep=no_sleep)
    assert linked is not None
    assert (repo.items["OLD-1"].product_id, repo.items["OLD-1"].on_hand, repo.items["OLD-1"].reserved) == (
        "prod-1",
        6,
        1,
    )
    assert repo.items["OLD-1"].version == 4
    repo.stock("KEPT-1", 2)  # linked to p-KEPT-1 already
    assert service.open_stock(OpenStock("KEPT-1", "prod-other"), repo=repo, sleep=no_sleep) is None
    assert repo.items["KEPT-1"].product_id == "p-KEPT-1"
    with pytest.raises(InvalidSku):
        service.open_stock(OpenStock("SL/15551", "prod-2"), repo=repo, sleep=no_sleep)


def test_opening_a_record_races_safely_with_an_admin_put(repo: InMemoryStock) -> None:
    original_write = repo.write
    calls = {"n": 0}

    def racing_write(changes, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # an administrator opened it with a threshold between our read and our write
            repo.items["RACE-1"] = StockItem("RACE-1", threshold=9, product_id="prod-1", version=1)
            raise StaleStock("exists")
        return original_write(changes, **kwargs)

    repo.write = racing_write  # type: ignore[method-assign]
    assert service.open_stock(OpenStock("RACE-1", "prod-1"), repo=repo, sleep=no_sleep) is None
    assert repo.items["RACE-1"].threshold == 9


def test_an_adjustment_below_what_is_reserved_is_refused_and_writes_nothing(repo: InMemoryStock) -> None:
    repo.stock("A", 5)
    reserve(repo, "o-1", ("A", 4))
    writes = repo.writes
    with pytest.raises(InsufficientStock):
        service.update_stock(UpdateStock("A", delta=-2, reason="broken", threshold=1), repo=repo, sleep=no_sleep)
    assert repo.writes == writes
    assert (repo.items["A"].on_hand, repo.items["A"].threshold) == (5, 5)
    with pytest.raises(StockRuleError):
        service.update_stock(UpdateStock("A", delta=-1), repo=repo, sleep=no_sleep)  # no reason
    with pytest.raises(StockRuleError):
        service.update_stock(UpdateStock("A"), repo=repo, sleep=no_sleep)  # nothing to do


def test_restock_needs_a_record_and_takes_a_reference_once(repo: InMemoryStock) -> None:
    with pytest.raises(SkuNotFound):
        service.receive_stock(ReceiveStock("GHOST", 5), repo=repo, sleep=no_sleep)
    repo.stock("A", 1)
    item = service.receive_stock(ReceiveStock("a", 5, reference="DN-1"), repo=repo, sleep=no_sleep)
    assert item.on_hand == 6
    with pytest.raises(DuplicateReceipt):
        service.receive_stock(ReceiveStock("A", 5, reference="DN-1"), repo=repo, sleep=no_sleep)
    assert (
        service.receive_stock(ReceiveStock("A", 5), repo=repo, sleep=no_sleep).on_hand == 11
    )  # no reference: no dedupe


def test_the_view_pages_the_ledger_newest_first(repo: InMemoryStock, clock: Clock) -> None:
    service.update_stock(
        UpdateStock("A", delta=10, reason="opening", product_id="p-A"), repo=repo, clock=clock, sleep=no_sleep
    )
    for n in range(3):
        reserve(repo, f"o-{n}", ("A", 1), clock=clock)
    first = service.view_stock(ViewStock("A", limit=3), repo=repo)
    assert [m.reference for m in first.movements] == ["o-2", "o-1", "o-0"]
    second = service.view_stock(ViewStock("A", limit=3, position=first.next_position), repo=repo)
    assert [m.kind for m in second.movements] == [MovementKind.ADJUST]
    assert second.next_position is None
    with pytest.raises(SkuNotFound):
        service.view_stock(ViewStock("B"), repo=repo)
    with pytest.raises(InvalidCursor):
        service.view_stock(ViewStock("A", position={"s": 1}), repo=repo)


def test_low_stock_lists_every_low_sku_once_across_shards(repo: InMemoryStock) -> None:
    low = {f"L{i}" for i in range(7)}
    for sku in low:
        repo.stock(sku, 2, threshold=5)
    for i in range(5):
        repo.stock(f"H{i}", 50, threshold=5)
    seen: list[str] = []
    position = None
    while True:
        page = service.list_low_stock(ListLowStock(limit=2, position=position), repo=repo)
        seen += [i.sku for i in page.items]
        assert len(page.items) <= 2
        position = page.next_position
        if position is None:
            break
    assert sorted(seen) == sorted(low)
    with pytest.raises(InvalidCursor):
        service.list_low_stock(ListLowStock(position={"s": 99, "k": None}), repo=repo)


# -- the ledger explains the figures ----------------------------------------------------------------------------------
def test_the_ledger_explains_every_figure_after_a_sequence_of_operations(repo: InMemoryStock, clock: Clock) -> None:
    def run(step):  # type: ignore[no-untyped-def]
        return step()

    for step in (
        lambda: service.update_stock(
            UpdateStock("A", delta=20, reason="opening", product_id="p-A"), repo=repo, clock=clock, sleep=no_sleep
        ),
        lambda: service.update_stock(
            UpdateStock("B", delta=4, reason="opening", threshold=2, product_id="p-B"),
            repo=repo,
            clock=clock,
            sleep=no_sleep,
        ),
        lambda: reserve(repo, "o-1", ("A", 5), ("B", 2), clock=clock),
        lambda: reserve(repo, "o-2", ("A", 3), clock=clock),
        lambda: reserve(repo, "o-3", ("B", 5), clock=clock),  # fails: nothing moves
        lambda: service.commit_order(CommitOrder("o-1"), repo=repo, clock=clock, sleep=no_sleep),
        lambda: service.cancel_order(CancelOrder("o-2"), repo=repo, clock=clock, sleep=no_sleep),
        lambda: service.receive_stock(ReceiveStock("B", 6), repo=repo, clock=clock, sleep=no_sleep),
        lambda: service.cancel_order(
            CancelOrder("o-1"), repo=repo, clock=clock, sleep=no_sleep
        ),  # paid: back on the shelf
        lambda: service.update_stock(
            UpdateStock("A", delta=-4, reason="damaged"), repo=repo, clock=clock, sleep=no_sleep
        ),
        lambda: reserve(repo, "o-4", ("A", 1), clock=clock),
    ):
        run(step)

    for sku, item in repo.items.items():
        ledger = repo.ledger[sku]
        assert item.on_hand == sum(m.on_hand_delta for m in ledger), sku
        assert item.reserved == sum(m.reserved_delta for m in ledger), sku
        assert (ledger[-1].on_hand_after, ledger[-1].reserved_after) == (item.on_hand, item.reserved)
        assert item.available >= 0
    assert (repo.items["A"].on_hand, repo.items["A"].reserved) == (16, 1)
    assert (repo.items["B"].on_hand, repo.items["B"].reserved) == (10, 0)
