"""Make moto's DynamoDB behave like DynamoDB where the shop depends on it: atomic requests, and Query cost.

**Atomic requests.** DynamoDB applies each request (a conditional write, a TransactWriteItems) atomically. moto
under a threaded server does not: a transaction checks its conditions, writes, and on failure restores a copy of
the table, and concurrent requests interleave in between, so "reserve the last units" could oversell locally. Every
DynamoDB request is applied under one lock here, which is what DynamoDB guarantees per item and per transaction
(and more: it also serialises unrelated requests, which only costs local throughput).

**Transaction cost.** moto backs up a transaction by deep-copying every table it touches, once per item: a
checkout copied the whole catalog three times (about a second). Under the lock above nothing else runs during a
transaction, so a backup of just the items it touches (and of each stream's length) restores exactly the same
state when it is cancelled.

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

import json
import threading
from typing import Any

_hint = threading.local()


def apply() -> None:
    """Every patch (for the local cloud's process)."""
    make_requests_atomic()
    speed_up_query()
    speed_up_transactions()


# Operations served, by kind, for `make bench` ("DynamoDB writes per order"): writes count the items written, so a
# transaction or batch of n puts counts n.
OPERATIONS: dict[str, int] = {}
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


def _count(handler: Any) -> None:
    action = str(handler.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1]
    if not action:
        return
    OPERATIONS[action] = OPERATIONS.get(action, 0) + 1
    written = 0
    if action in WRITES:
        written = 1
    elif action in ("BatchWriteItem", "TransactWriteItems"):
        try:
            body = json.loads(handler.body or "{}")
        except ValueError:
            body = {}
        if action == "BatchWriteItem":
            written = sum(len(v) for v in (body.get("RequestItems") or {}).values())
        else:
            written = sum(1 for item in body.get("TransactItems") or [] if "ConditionCheck" not in item)
    OPERATIONS["items_written"] = OPERATIONS.get("items_written", 0) + written


def make_requests_atomic() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_gears_atomic", False):
        return
    original = DynamoHandler.call_action
    lock = threading.RLock()

    def call_action(self: Any) -> Any:
        with lock:
            _count(self)
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoHandler._gears_atomic = True  # type: ignore[attr-defined]


def speed_up_query() -> None:  # noqa: C901 - a patch of moto's methods; its closures' branches count here
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


class _CopyShim:
    """moto's module-level ``copy``: a table is not copied while a transaction keeps its own item backup."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_hint, "in_transaction", False) and isinstance(value, Table):
            return value
        return self.real.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def speed_up_transactions() -> None:  # noqa: C901 - a patch of moto's methods; its closures' branches count here
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType

    backend_cls = models.DynamoDBBackend
    if getattr(backend_cls, "_gears_transactions", False):
        return
    original = backend_cls.transact_write_items
    models.copy = _CopyShim(copy)  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:  # noqa: C901 - DynamoDB's own rules for a transaction, in its order
        backups: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, old item or None)
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op = next(iter(entry.values())) if len(entry) == 1 else {}
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or {
                k: v for k, v in (op.get("Item") or {}).items() if k in (table.hash_key_attr, table.range_key_attr)
            }
            if table.hash_key_attr not in key:
                continue
            h = DynamoType(key[table.hash_key_attr])
            r = DynamoType(key[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in key else None
            if table.range_key_attr:
                old = table.items.get(h, {}).get(r) if r is not None else None
            else:
                old = table.items.get(h)
            backups.append((table, h, r, copy.deepcopy(old)))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        _hint.in_transaction = True
        try:
            return original(self, transact_items)
        except BaseException:
            for table, h, r, old in reversed(backups):
                if table.range_key_attr:
                    partition = table.items.get(h)
                    if old is not None:
                        table.items.setdefault(h, {})[r] = old
                    elif partition is not None:
                        partition.pop(r, None)
                        if not partition:
                            table.items.pop(h, None)
                elif old is not None:
                    table.items[h] = old
                else:
                    table.items.pop(h, None)
            for shard, length in streams.values():
                del shard.items[length:]
            raise
        finally:
            _hint.in_transaction = False

    backend_cls.transact_write_items = transact_write_items  # type: ignore[method-assign]
    backend_cls._gears_transactions = True  # type: ignore[attr-defined]
