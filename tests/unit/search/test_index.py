"""The writer and the readers: newest-wins for events, incremental snapshots, a full rebuild when there is none, and
a query function that picks up a newer snapshot (and keeps answering when the bucket fails)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from search import service
from search.domain import SearchProduct
from search.errors import IndexUnavailable
from search.service import IndexReader
from search.snapshots import DirectorySnapshots, Pointer
from tests.unit.search.conftest import SearchShop
from tests.unit.search.fakes import product_data, stock


def test_an_older_or_repeated_product_event_changes_nothing(shop: SearchShop) -> None:
    data = product_data(title="Walnut board", version=3)
    assert service.product_changed(data, shop.store)
    older = product_data(data.productId, title="Oak board", version=2)
    assert not service.product_changed(older, shop.store)
    assert not service.product_changed(data, shop.store)
    shop.index(data.productId)
    assert shop.titles(q="board") == ["Walnut board"]


def test_a_deleted_product_leaves_the_index_and_an_older_update_does_not_bring_it_back(shop: SearchShop) -> None:
    product_id = shop.add("Copper kettle", version=4)
    deleted = service.ev.ProductDeleted.model_validate({"productId": product_id, "sku": "K", "version": 4})
    assert service.product_deleted(deleted, shop.store)
    assert not service.product_changed(product_data(product_id, title="Copper kettle", version=4), shop.store)
    shop.index(product_id)
    assert shop.titles(q="kettle") == []


def test_stock_levels_keep_the_newest_and_may_come_before_the_product(shop: SearchShop) -> None:
    data = product_data(title="Linen apron", sku="APRON-1")
    assert service.stock_level_changed(stock(data.productId, "low"), "2026-02-01T10:00:00+01:00", shop.store)
    service.product_changed(data, shop.store)
    assert not service.stock_level_changed(stock(data.productId, "out"), "2026-02-01T08:59:59Z", shop.store)
    shop.index(data.productId)
    assert [i["availability"] for i in shop.search(q="apron")["items"]] == ["low"]
    # A level that names only the SKU finds its product by it; one for a SKU never seen is dropped.
    assert service.stock_level_changed(stock(None, "out", sku="APRON-1"), "2026-02-02T00:00:00Z", shop.store)
    assert not service.stock_level_changed(stock(None, "out", sku="NOPE"), "2026-02-02T00:00:00Z", shop.store)
    shop.index(data.productId)
    assert shop.search(q="apron", in_stock="true")["total"] == 0


def test_each_batch_publishes_the_next_snapshot_incrementally(shop: SearchShop) -> None:
    first = shop.add("Wicker basket")
    pointer = shop.snapshots.pointer()
    assert pointer is not None
    assert (pointer.version, pointer.key, pointer.docs) == (1, "snapshots/0000000001.tar.gz", 1)
    repriced = product_data(first, title="Wicker basket", amount=2999, version=2)
    service.product_changed(repriced, shop.store)
    summary = shop.index(first)
    assert summary["version"] == 2
    assert summary["docs"] == 1
    assert "rebuilt" not in summary
    assert [i["price"]["amount"] for i in shop.search(q="basket")["items"]] == [2999]


def test_a_new_writer_container_starts_from_the_newest_snapshot(shop: SearchShop, tmp_path: Path) -> None:
    shop.add("Bread bin")
    other = service.Indexer(shop.store, shop.snapshots, str(tmp_path))  # a cold start of the writer
    late = product_data(title="Bread knife")
    service.product_changed(late, shop.store)
    other.apply({late.productId: SearchProduct.from_item(shop.store.items[late.productId])})
    assert sorted(shop.titles(q="bread")) == ["Bread bin", "Bread knife"]


def test_with_no_snapshot_the_writer_builds_the_whole_index_from_the_table(shop: SearchShop) -> None:
    for title in ("Cake tin", "Cake stand", "Tea towel"):
        service.product_changed(product_data(title=title), shop.store)
    trigger = next(iter(shop.store.items))
    summary = shop.index(trigger)
    assert summary["rebuilt"]
    assert summary["docs"] == 3
    assert sorted(shop.titles(q="cake")) == ["Cake stand", "Cake tin"]


def test_a_change_search_does_not_show_is_left_out_of_the_batch() -> None:
    item = {
        "entity": "Product",
        "productId": "p1",
        "version": 1,
        "level": "low",
        "levelAsOf": "a",
        "product": {"sku": "S", "title": "T", "price": {"amount": 1, "currency": "GBP"}, "status": "active"},
    }
    same = service.changes_from_stream([("MODIFY", item, {**item, "levelAsOf": "b"})])
    moved = service.changes_from_stream([("MODIFY", item, {**item, "level": "out"})])
    inbox = service.changes_from_stream([("INSERT", None, {"pk": "INBOX#x"})])
    assert same == {}
    assert inbox == {}
    assert moved["p1"] is not None
    assert moved["p1"].level == "out"


def test_the_reader_picks_up_a_newer_snapshot_and_drops_the_old_copy(shop: SearchShop) -> None:
    shop.add("Tin whistle")
    assert shop.titles(q="whistle") == ["Tin whistle"]
    old_copy = shop.reader.index.path
    shop.add("Steel whistle")
    assert sorted(shop.titles(q="whistle")) == ["Steel whistle", "Tin whistle"]
    assert not os.path.exists(old_copy)


def test_the_reader_checks_the_pointer_at_most_every_two_seconds(shop: SearchShop) -> None:
    shop.add("Fruit bowl")
    clock = [100.0]
    reader = IndexReader(shop.snapshots, shop.indexer.root, clock=lambda: clock[0])
    assert reader.current().num_docs == 1
    shop.add("Fruit bowl cover")
    clock[0] += 1.0
    assert reader.current().num_docs == 1  # not looked yet
    clock[0] += 1.5
    assert reader.current().num_docs == 2


class FailingSnapshots(DirectorySnapshots):
    failing = False

    def pointer(self) -> Pointer | None:
        if self.failing:
            raise OSError("bucket unreachable")
        return super().pointer()


def test_a_bucket_outage_leaves_the_copy_answering_and_a_cold_start_is_a_502(shop: SearchShop) -> None:
    shop.add("Rolling pin")
    snapshots = FailingSnapshots(shop.snapshots.root)
    clock = [0.0]
    reader = IndexReader(snapshots, shop.indexer.root, clock=lambda: clock[0])
    assert reader.current().num_docs == 1
    snapshots.failing = True
    clock[0] += 5
    assert reader.current().num_docs == 1
    with pytest.raises(IndexUnavailable):
        IndexReader(snapshots, shop.indexer.root).current()
