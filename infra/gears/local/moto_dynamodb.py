"""Make moto's DynamoDB behave like DynamoDB where the shop depends on it: atomic requests, and Query cost.

**Atomic requests.** DynamoDB applies each request (a conditional write, a TransactWriteItems) atomically. moto
under a threaded server does not: a transaction checks its conditions, writes, and on failure restores a copy of
the table, and concurrent requests interleave in between, so "reserve the last units" could oversell locally. Every
DynamoDB request is applied under one lock here, which is what DynamoDB guarantees per item and per transaction
(and more: it also serialises unrelated requests, which only costs local throughput).

**Query cost.**

moto answers every Query by listing *all* items of the table, sorted (``Table.all_items``), then filtering by the
key condition. With the demo catalog that is ~90 ms for a one-partition query and more on an index, so a local
shop would be slow for reasons that AWS does not have. Results stay exactly moto's; only the candidate list
changes:

- a base-table query reads just its partition (the items that moto's filter would have kept, in the same order);
- an index query skips the table-wide sort, because moto sorts the index candidates again by the index's keys.

Applied in the local cloud's process only (``gears.local.cloud``); the tests' in-process moto is untouched.
"""

from __future__ import annotations

import threading
from typing import Any

_hint = threading.local()


def apply() -> None:
    """Both patches (for the local cloud's process)."""
    make_requests_atomic()
    speed_up_query()


def make_requests_atomic() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_gears_atomic", False):
        return
    original = DynamoHandler.call_action
    lock = threading.RLock()

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoHandler._gears_atomic = True  # type: ignore[attr-defined]


def speed_up_query() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_gears_speedups", False):
        return
    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self: Any) -> list[Any]:
        hint = getattr(_hint, "value", None)
        if hint is None or hint[0] is not self:
            return original_all_items(self)
        _, mode, hash_key = hint
        if mode == "partition":
            partition = self.items.get(hash_key)
            if partition is None:
                return []
            if not self.range_key_attr:
                return [partition]
            return sorted(partition.values(), key=lambda item: item.range_key)
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name")
        if index_name is None and len(args) >= 7:
            index_name = args[6]
        mode = "unsorted" if index_name else ("partition" if hash_key is not None else None)
        previous = getattr(_hint, "value", None)
        _hint.value = (self, mode, hash_key) if mode else None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _hint.value = previous

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table._gears_speedups = (original_query, original_all_items)  # type: ignore[attr-defined]


def remove_query_speedup() -> None:
    from moto.dynamodb.models.table import Table

    originals = getattr(Table, "_gears_speedups", None)
    if originals:
        Table.query, Table.all_items = originals  # type: ignore[method-assign]
        Table._gears_speedups = False  # type: ignore[attr-defined]
