"""Search's use cases: keep the products and their stock from the shop's events (the consumer), keep the index and
its snapshots (the one writer), and answer a search from the newest snapshot (the query function).

Ports: :class:`SearchStore` (the table; :class:`search.store.DynamoSearchStore`) and
:class:`search.snapshots.Snapshots` (the bucket). Tests hand in fakes of both.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from gears_shared.clock import normal_iso
from search import events as ev
from search.domain import MAX_RESULTS, PRICE_BANDS, Level, SearchProduct, SearchRequest
from search.errors import IndexUnavailable
from search.snapshots import Pointer, Snapshots

log = logging.getLogger(__name__)

POINTER_CHECK_S = 2.0  # a query function looks for a newer snapshot at most this often


class SearchStore(Protocol):
    def put_product(self, product_id: str, sku: str, product: dict[str, Any], version: int) -> bool: ...

    def delete_product(self, product_id: str, sku: str, version: int) -> bool: ...

    def put_level(self, product_id: str, level: Level, as_of: str) -> bool: ...

    def product_id_for_sku(self, sku: str) -> str | None: ...

    def products(self) -> Iterator[dict[str, Any]]: ...


# -- the consumer ------------------------------------------------------------------------------------------------
def product_changed(data: ev.ProductChanged, store: SearchStore) -> bool:
    """Keep the product as the event tells it; ``False`` when a newer version is kept already."""
    product = {
        "sku": data.sku,
        "title": data.title,
        "description": data.description,
        "price": {"amount": data.price.amount, "currency": data.price.currency},
        "category": data.category,
        "categoryPath": list(data.categoryPath),
        "image": data.images[0] if data.images else None,
        "status": data.status,
        "createdAt": data.createdAt,
    }
    return store.put_product(data.productId, data.sku, product, data.version)


def product_deleted(data: ev.ProductDeleted, store: SearchStore) -> bool:
    return store.delete_product(data.productId, data.sku, data.version)


def stock_level_changed(data: ev.StockLevelChanged, said_at: str, store: SearchStore) -> bool:
    """Keep the level unless a later one is kept; ``False`` too for a SKU no product event has named yet (the next
    stock change after the product comes sets it)."""
    product_id = data.productId or store.product_id_for_sku(data.sku)
    if not product_id:
        return False
    return store.put_level(product_id, data.level, normal_iso(said_at))


# -- the writer --------------------------------------------------------------------------------------------------
def changes_from_stream(
    images: Iterable[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
) -> dict[str, SearchProduct | None]:
    """What a stream batch changed in what search shows: product id -> the product as it now is (``None``: no
    longer shown). A change search does not show (a level's time only) is left out; the last change of a product
    wins (a shard's records come in order)."""
    changes: dict[str, SearchProduct | None] = {}
    for _name, old, new in images:
        item = new or old or {}
        if item.get("entity") != "Product" or not item.get("productId"):
            continue
        after = SearchProduct.from_item(new) if new else None
        before = SearchProduct.from_item(old) if old else None
        if after == before and str(item["productId"]) not in changes:
            continue
        changes[str(item["productId"])] = after
    return changes


class Indexer:
    """The one writer's index (``SearchIndexerFunction``, reserved concurrency 1): kept in a directory of its own
    across warm invocations, brought up to date from the bucket's newest snapshot when another container wrote
    since, built whole from the table when there is no snapshot yet."""

    def __init__(self, store: SearchStore, snapshots: Snapshots, root: str | None = None) -> None:
        self.store = store
        self.snapshots = snapshots
        self.root = root or tempfile.gettempdir()
        self.index: Any = None  # search.engine.SearchIndex
        self.version: int | None = None

    def _fresh_dir(self) -> str:
        return tempfile.mkdtemp(prefix="gears-search-writer-", dir=self.root)

    def _replace(self, index: Any, version: int | None) -> None:
        if self.index is not None and self.index.path != index.path:
            shutil.rmtree(self.index.path, ignore_errors=True)
        self.index, self.version = index, version

    def rebuild(self, changes: Mapping[str, SearchProduct | None] | None = None) -> dict[str, Any]:
        """The whole index from the table, published as the next snapshot. ``changes`` (a stream batch's) are
        applied on top: the table's index may not show the batch's own writes yet."""
        from search.engine import SearchIndex

        started = time.perf_counter()
        products = (SearchProduct.from_item(item) for item in self.store.products())
        index = SearchIndex.create(self._fresh_dir(), (p for p in products if p is not None))
        if changes:
            _apply(index, changes)
        pointer = self.snapshots.publish(index.path, index.num_docs)
        self._replace(index, pointer.version)
        return {"rebuilt": True, "version": pointer.version, "docs": pointer.docs, "seconds": _since(started)}

    def apply(self, changes: Mapping[str, SearchProduct | None]) -> dict[str, Any]:
        """Delete and add the changed products on the newest snapshot, and publish it as the next one."""
        from search.engine import SearchIndex

        if not changes:
            return {"changed": 0}
        started = time.perf_counter()
        pointer = self.snapshots.pointer()
        if pointer is None:
            return {**self.rebuild(changes), "changed": len(changes)}
        if self.index is None or self.version != pointer.version:
            path = self._fresh_dir()
            self.snapshots.fetch(pointer, path)
            self._replace(SearchIndex.open(path), pointer.version)
        _apply(self.index, changes)
        published = self.snapshots.publish(self.index.path, self.index.num_docs)
        self.version = published.version
        return {
            "changed": len(changes),
            "version": published.version,
            "docs": published.docs,
            "seconds": _since(started),
        }


def _apply(index: Any, changes: Mapping[str, SearchProduct | None]) -> None:
    index.apply(upserts=[p for p in changes.values() if p], deletes=[i for i, p in changes.items() if p is None])


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# -- the query function ------------------------------------------------------------------------------------------
class IndexReader:
    """A query function's copy of the newest snapshot, in a directory of its own under ``/tmp`` (tantivy cannot
    open an index on a read-only file system; workers share ``/tmp`` locally, so the name is unique per process).
    It looks for a newer snapshot at most every :data:`POINTER_CHECK_S` seconds; if the bucket cannot be read, the
    copy it has goes on answering."""

    def __init__(
        self,
        snapshots: Snapshots,
        root: str | None = None,
        *,
        check_every_s: float = POINTER_CHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.snapshots = snapshots
        self.root = root or tempfile.gettempdir()
        self.check_every_s = check_every_s
        self.clock = clock
        self.index: Any = None
        self.pointer: Pointer | None = None
        self.checked_at: float | None = None

    def current(self) -> Any:
        """The newest index this function has (a :class:`search.engine.SearchIndex`), or ``None`` before the
        first snapshot."""
        now = self.clock()
        if self.checked_at is not None and now - self.checked_at < self.check_every_s:
            return self.index
        self.checked_at = now
        try:
            pointer = self.snapshots.pointer()
            if pointer is not None and (self.pointer is None or pointer.version != self.pointer.version):
                self._load(pointer)
        except Exception as exc:
            if self.index is None:
                raise IndexUnavailable("The search index could not be loaded; try again shortly.") from exc
            log.warning("search: newer snapshot not loaded; answering from version %s", self.pointer, exc_info=True)
        return self.index

    def _load(self, pointer: Pointer) -> None:
        from search.engine import SearchIndex

        path = tempfile.mkdtemp(prefix=f"gears-search-{os.getpid()}-", dir=self.root)
        try:
            self.snapshots.fetch(pointer, path)
            index = SearchIndex.open(path)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        old, self.index, self.pointer = self.index, index, pointer
        if old is not None:
            shutil.rmtree(old.path, ignore_errors=True)


def search(request: SearchRequest, reader: IndexReader) -> dict[str, Any]:
    """The answer to ``GET /search`` (without ``nextCursor``'s encoding: ``nextOffset``)."""
    index = reader.current()
    if index is None:  # nothing indexed yet: an empty shop
        total, items = 0, []
        facets: dict[str, Any] = {
            "categories": [],
            "priceBands": [{"min": low, "max": high, "count": 0} for low, high in PRICE_BANDS],
            "availability": [],
        }
    else:
        found = index.search(request)
        total = found.total
        items = [{**hit.item, "score": hit.score} for hit in found.hits]
        facets = {"categories": found.categories, "priceBands": found.price_bands, "availability": found.availability}
    end = request.offset + len(items)
    more = bool(items) and end < min(total, MAX_RESULTS)
    return {
        "query": (request.q or "").strip() or None,
        "total": total,
        "items": items,
        "facets": facets,
        "nextOffset": end if more else None,
    }
