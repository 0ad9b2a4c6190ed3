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
- an index query reads just the items whose index hash key is the one asked for (in the table's order, which moto
  sorts again by the index's keys). The items of each index are grouped by hash key once and the grouping kept
  until the next write to any table (every DynamoDB request is counted below, so none slips past): a catalog page
  was a pass over every item of the e-commerce table (about 90 ms with the demo data), and is now a dictionary
  look-up while the table is not being written; likewise the candidates' sort by the index's keys (a whole shard
  of the catalog sorted for a page of 20) is kept for the same candidates until the next write.

Applied in the local cloud's process only (``gears.local.cloud``); the tests' in-process moto is untouched.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
from collections import Counter
from typing import Any

_hint = threading.local()


def apply() -> None:
    """Every patch (for the local cloud's process)."""
    make_requests_atomic()
    speed_up_query()
    speed_up_transactions()
    speed_up_item_size()
    speed_up_condition_lexing()
    speed_up_simple_updates()


def speed_up_condition_lexing() -> None:
    """moto lexes a condition expression anew for every request, compiling its token patterns each time (most of
    the cost of a conditional write's condition). The tokens depend on the expression's text alone, so each text's
    are kept (fresh token objects each time: later stages may change them) and given again."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    cls = ConditionExpressionParser
    if getattr(cls, "_gears_lexed", False):
        return
    original = cls._lex_condition_expression
    lexed: dict[str, list[tuple[Any, ...]]] = {}

    def lex(self: Any) -> Any:
        from collections import deque

        text = self.condition_expression
        cached = lexed.get(text)
        if cached is None:
            nodes = original(self)  # raises as moto does for an expression it cannot lex; nothing is kept then
            if len(lexed) < 10_000:
                lexed[text] = [(n.nonterminal, n.kind, n.text, n.value) for n in nodes]
            return nodes
        return deque(self.Node(nonterminal=a, kind=b, text=c, value=d, children=[]) for a, b, c, d in cached)

    cls._lex_condition_expression = lex  # type: ignore[method-assign]
    cls._gears_lexed = True  # type: ignore[attr-defined]


def speed_up_item_size() -> None:
    """moto checks an item's 400 KB limit as each attribute is set by summing the sizes of all the attributes set
    before it, so building an item cost the square of its attribute count (a third of a BatchWriteItem of demo
    products). While an item is being built nothing else changes it, so the same sum is kept as it goes: the same
    check, the same error, at the same attribute. Later changes to an item are checked as moto checks them."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    cls = dynamo_type.Item
    if getattr(cls, "_gears_sized", False):
        return

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = dynamo_type.LimitedSizeDict()
        total = 0
        for key, value in attrs.items():
            typed = dynamo_type.DynamoType(value)
            total += bytesize(key) + typed.size()
            if total > 405000:  # moto's limit (DynamoDB's 400 KB, as measured)
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)

    cls.__init__ = item_init  # type: ignore[method-assign]
    cls._gears_sized = True  # type: ignore[attr-defined]


# Operations served, by kind, for `make bench` ("DynamoDB writes per order"): writes count the items written, so a
# transaction or batch of n puts counts n.
OPERATIONS: dict[str, int] = {}
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


# DynamoDB requests that write nothing; any other request moves WRITES on, which drops the index groupings.
READS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "ListTables",
        "ListTagsOfResource",
    }
)
WRITES_SEEN = [0]


def _track_writes() -> None:
    """Move :data:`WRITES_SEEN` on for every DynamoDB request that may write (before it does)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_gears_tracked", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        writes = str(self.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1] not in READS
        if writes:
            WRITES_SEEN[0] += 1
        try:
            return original(self)
        finally:
            if writes:
                WRITES_SEEN[0] += 1  # and after: a query that ran meanwhile (without the lock) kept nothing stale

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoHandler._gears_tracked = True  # type: ignore[attr-defined]


# Items written per partition (table, partition key value), for `make bench` and `gears chaos`: the largest key's
# share of all writes is where a busy shop would first meet DynamoDB's per-partition limit (1,000 writes/s).
PARTITION_WRITES: Counter[tuple[str, str]] = Counter()


def _partition(table: str, key: dict[str, Any] | None) -> tuple[str, str]:
    """(table, the partition key's value) of an item or key in DynamoDB JSON (``pk`` by this project's rule)."""
    key = key or {}
    value: Any = key.get("pk") or next(iter(key.values()), {})
    return table, str(next(iter(value.values()), "")) if isinstance(value, dict) else str(value)


def _writes(action: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The partitions a write request writes, one entry per item written."""
    if action in ("PutItem", "UpdateItem", "DeleteItem"):
        return [_partition(str(body.get("TableName")), body.get("Item") or body.get("Key"))]
    if action == "BatchWriteItem":
        return [
            _partition(table, (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key"))
            for table, requests in (body.get("RequestItems") or {}).items()
            for r in requests
        ]
    if action == "TransactWriteItems":
        out = []
        for entry in body.get("TransactItems") or []:
            kind, op = next(iter(entry.items()), ("", {}))
            op = op if isinstance(op, dict) else {}
            if kind != "ConditionCheck":
                out.append(_partition(str(op.get("TableName")), op.get("Item") or op.get("Key")))
        return out
    return []


def _count(handler: Any) -> None:
    action = str(handler.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1]
    if not action:
        return
    OPERATIONS[action] = OPERATIONS.get(action, 0) + 1
    if action not in (*WRITES, "BatchWriteItem", "TransactWriteItems"):
        return
    try:
        body = json.loads(handler.body or "{}")
    except ValueError:
        body = {}
    partitions = _writes(action, body if isinstance(body, dict) else {})
    PARTITION_WRITES.update(partitions)
    OPERATIONS["items_written"] = OPERATIONS.get("items_written", 0) + len(partitions)


def partition_report(top: int = 10) -> dict[str, Any]:
    """The writes per partition so far: how many, over how many keys, and the busiest keys with their share."""
    total = sum(PARTITION_WRITES.values())
    return {
        "items_written": total,
        "partitions": len(PARTITION_WRITES),
        "top": [
            {"table": table, "key": key, "writes": n, "share": n / total if total else 0.0}
            for (table, key), n in PARTITION_WRITES.most_common(top)
        ],
    }


def make_requests_atomic() -> None:
    """One DynamoDB request at a time, and stream reads between them, never inside one: a transaction appends its
    stream records as it goes and takes them back if it fails, so a GetRecords in the middle read records that were
    then taken back, moved its iterator past their sequence numbers, and skipped the records of the next write that
    reused them (an OrderPlaced lost while twenty checkouts raced for a discount code's last uses)."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    from gears.local.moto_fast import REQUESTS_LOCK

    if getattr(DynamoHandler, "_gears_atomic", False):
        return
    original = DynamoHandler.call_action
    original_streams = DynamoDBStreamsHandler.call_action
    lock = REQUESTS_LOCK  # a stream read that waits for a write lets it go while it waits (moto_fast)

    def call_action(self: Any) -> Any:
        with lock:
            _count(self)
            return original(self)

    def call_streams_action(self: Any) -> Any:
        with lock:
            return original_streams(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBStreamsHandler.call_action = call_streams_action  # type: ignore[method-assign]
    DynamoHandler._gears_atomic = True  # type: ignore[attr-defined]


def speed_up_query() -> None:  # noqa: C901 - a patch of moto's methods; its closures' branches count here
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_gears_speedups", False):
        return
    _track_writes()
    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self: Any) -> list[Any]:
        hint = getattr(_hint, "value", None)
        if hint is None or hint[0] is not self:
            return original_all_items(self)
        _, mode, hash_key = hint
        if mode == "index":
            return _index_partition(self, *hash_key)
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

    signature = inspect.signature(original_query)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, hash_key, *args, **kwargs).arguments
        index_name = bound.get("index_name")
        mode: str | None = None
        hint_key: Any = hash_key
        if index_name:
            mode = "unsorted"
            index = next((i for i in self.all_indexes() if i.name == index_name), None)
            hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] if index else []
            wanted = dict(bound.get("hash_key_conditions") or [])
            if len(hash_attrs) == 1 and hash_attrs[0] in wanted:
                mode, hint_key = "index", (index_name, hash_attrs[0], wanted[hash_attrs[0]])
        elif hash_key is not None:
            mode = "partition"
        previous = getattr(_hint, "value", None)
        _hint.value = (self, mode, hint_key) if mode else None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _hint.value = previous

    original_sorted_items = Table.sorted_items
    sorted_memo: dict[Any, list[Any]] = {}

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> Any:
        key = (id(self), tuple(hash_key_attrs), tuple(range_key_attrs), tuple(map(id, items)))
        seen = WRITES_SEEN[0]
        if sorted_memo.get("seen") != seen:
            sorted_memo.clear()
            sorted_memo["seen"] = seen  # type: ignore[assignment]
        ordered = sorted_memo.get(key)
        if ordered is None:
            ordered = sorted_memo[key] = list(original_sorted_items(self, hash_key_attrs, range_key_attrs, items))
        items[:] = ordered
        return items

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]
    Table._gears_speedups = (original_query, original_all_items, original_sorted_items)  # type: ignore[attr-defined]


_GROUPINGS: dict[tuple[int, str], tuple[int, dict[Any, list[Any]]]] = {}


def _index_partition(table: Any, index_name: str, hash_attr: str, value: Any) -> list[Any]:
    """The table's items whose ``hash_attr`` is ``value``, in the table's order (an index partition's candidates)."""
    key = (id(table), index_name)
    cached = _GROUPINGS.get(key)
    if cached is None or cached[0] != WRITES_SEEN[0]:
        groups: dict[Any, list[Any]] = {}
        for partition in table.items.values():
            for item in partition.values() if table.range_key_attr else [partition]:
                found = item.attrs.get(hash_attr)
                if found:
                    groups.setdefault(found, []).append(item)
        cached = _GROUPINGS[key] = (WRITES_SEEN[0], groups)
    return list(cached[1].get(value, []))


def remove_query_speedup() -> None:
    from moto.dynamodb.models.table import Table

    originals = getattr(Table, "_gears_speedups", None)
    if originals:
        Table.query, Table.all_items, Table.sorted_items = originals  # type: ignore[method-assign]
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


# -- plain ADD / SET updates ---------------------------------------------------------------------------------------
_KEYWORD = re.compile(r"(?:^|\s)(ADD|SET)\s")
_ADD_CLAUSE = re.compile(r"^(#\w+)\s+(:\w+)$")
_SET_CLAUSE = re.compile(r"^(#\w+)\s*=\s*(:\w+)$")


def simple_update(
    expression: str, names: dict[str, str], values: dict[str, Any], keys: set[str | None]
) -> list[tuple[str, str, dict[str, Any]]] | None:
    """The (action, attribute, value) of an update expression made only of ``ADD #name :number`` and ``SET #name =
    :value`` clauses on top-level attributes other than the key; ``None`` for anything else (moto's own parser takes
    it: paths, functions, arithmetic, REMOVE, DELETE, sets, an attribute named twice)."""
    parts = _KEYWORD.split(" " + expression.strip())
    if parts[0].strip() or len(parts) < 3:
        return None
    ops: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
        if keyword in seen:
            return None
        seen.add(keyword)
        pattern = _ADD_CLAUSE if keyword == "ADD" else _SET_CLAUSE
        for clause in body.split(","):
            match = pattern.match(clause.strip())
            if match is None or match.group(1) not in names or match.group(2) not in values:
                return None
            value = values[match.group(2)]
            if not isinstance(value, dict) or len(value) != 1 or (keyword == "ADD" and "N" not in value):
                return None
            ops.append((keyword, names[match.group(1)], value))
    attributes = [name for _, name, _ in ops]
    if len(set(attributes)) != len(attributes) or keys.intersection(attributes):
        return None
    return ops


def speed_up_simple_updates() -> None:  # noqa: C901 - a patch of moto's method; its closure's branches count here
    """moto parses and validates every update expression into a tree, deep-copies the item for the stream's old
    image, and checks the item's 400 KB limit attribute by attribute with a full sum each time: measured on the
    analytics service's counters (``ADD #a0 :a0, ...``, hundreds of clauses an item), that took most of the local
    cloud's CPU while the demo history loaded and every other consumer timed out behind it. An update of plain ``ADD``
    and ``SET`` clauses without a condition is applied here instead, as DynamoDB applies it: numbers added (an absent
    attribute starts at the value), values set, the size checked once, one stream record (moto writes two for an
    update that creates its item). Anything else, and any error, goes to moto's own code, which raises as it does."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict, bytesize

    if getattr(DynamoDBBackend, "_gears_simple_updates", None) is not None:
        return
    original = DynamoDBBackend.update_item

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:  # noqa: C901 - DynamoDB's rules for a plain update, in order
        call = dict(
            zip(
                (
                    "update_expression",
                    "expression_attribute_names",
                    "expression_attribute_values",
                    "attribute_updates",
                    "expected",
                    "condition_expression",
                    "return_values_on_condition_check_failure",
                ),
                args,
                strict=False,
            ),
            **kwargs,
        )
        table = self.tables.get(table_name)
        expression = call.get("update_expression")
        if table is None or not expression or call.get("attribute_updates") or call.get("expected"):
            return original(self, table_name, key, *args, **kwargs)
        if call.get("condition_expression") or set(key) != {table.hash_key_attr, table.range_key_attr} - {None}:
            return original(self, table_name, key, *args, **kwargs)
        ops = simple_update(
            expression,
            call.get("expression_attribute_names") or {},
            call.get("expression_attribute_values") or {},
            {table.hash_key_attr, table.range_key_attr},
        )
        if ops is None:
            return original(self, table_name, key, *args, **kwargs)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        if hash_value.type != table.hash_key_type or (range_value and range_value.type != table.range_key_type):
            return original(self, table_name, key, *args, **kwargs)
        item = table.get_item(hash_value, range_value)
        attrs = dict(item.attrs) if item is not None else {k: DynamoType(v) for k, v in key.items()}
        for action, name, value in ops:
            new = DynamoType(value)
            if action == "ADD" and name in attrs:
                if not attrs[name].is_number():
                    return original(self, table_name, key, *args, **kwargs)  # moto's error for the type
                new = attrs[name] + new
            attrs[name] = new
        if sum(bytesize(k) + v.size() for k, v in attrs.items()) > 405000:
            return original(self, table_name, key, *args, **kwargs)  # moto's error for the size
        limited = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(limited, attrs)
        if item is None:
            old = None
            item = Item(hash_value, range_value, {})
            item.attrs = limited
            if range_value is not None:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item
        else:
            # The old image: the item as it was (its attributes are replaced below, never changed in place).
            old = Item(item.hash_key, item.range_key, {})
            old.attrs = item.attrs
            item.attrs = limited
        if table.stream_shard is not None:
            table.stream_shard.add(old, item)
        return item

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoDBBackend._gears_simple_updates = original  # type: ignore[attr-defined]


def remove_simple_updates() -> None:
    """moto's own update again (tests compare the two)."""
    from moto.dynamodb.models import DynamoDBBackend

    original = getattr(DynamoDBBackend, "_gears_simple_updates", None)
    if original is not None:
        DynamoDBBackend.update_item = original  # type: ignore[method-assign]
        DynamoDBBackend._gears_simple_updates = None  # type: ignore[attr-defined]
