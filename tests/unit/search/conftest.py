"""A search shop in memory: the fake table, snapshots in a directory, the one writer and a query function's reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from search import service
from search.domain import SearchProduct, search_request
from search.service import Indexer, IndexReader
from search.snapshots import DirectorySnapshots
from tests.unit.search.fakes import FakeSearchStore, product_data, stock


@dataclass
class SearchShop:
    store: FakeSearchStore
    snapshots: DirectorySnapshots
    indexer: Indexer
    reader: IndexReader
    now: list[float] = field(default_factory=lambda: [0.0])

    def add(self, title: str, **fields: Any) -> str:
        """A product told by the catalog (and its stock, ``level=``), indexed as the writer would."""
        level = fields.pop("level", "in_stock")
        data = product_data(title=title, **fields)
        service.product_changed(data, self.store)
        if level:
            service.stock_level_changed(stock(data.productId, level), "2026-01-01T00:00:00Z", self.store)
        self.index(data.productId)
        return data.productId

    def index(self, *product_ids: str) -> dict[str, Any]:
        """The writer's batch for these products, as the table's stream would bring them."""
        return self.indexer.apply({p: SearchProduct.from_item(self.store.items[p]) for p in product_ids})

    def search(self, **params: Any) -> dict[str, Any]:
        self.now[0] += 10  # past the reader's pointer check
        args: dict[str, Any] = {
            "q": None,
            "category": None,
            "min_price": None,
            "max_price": None,
            "in_stock": None,
            "sort": None,
            "limit": 20,
            "offset": 0,
        }
        args.update(params)
        return service.search(search_request(**args), self.reader)

    def titles(self, **params: Any) -> list[str]:
        return [item["title"] for item in self.search(**params)["items"]]


@pytest.fixture
def shop(tmp_path: Path) -> SearchShop:
    store = FakeSearchStore()
    snapshots = DirectorySnapshots(str(tmp_path / "bucket"))
    now = [0.0]
    reader = IndexReader(snapshots, str(tmp_path), clock=lambda: now[0])
    return SearchShop(store, snapshots, Indexer(store, snapshots, str(tmp_path)), reader, now)
