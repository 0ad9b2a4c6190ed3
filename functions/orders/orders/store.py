"""Orders in the orders table: the PynamoDB model and the repository that maps it to :class:`Order`. PynamoDB, not
the low-level client: the conditions orders need (a new id; the version a writer read) are the model's own.

- order: pk ``ORDER#<id>``, sk ``ORDER``; gsi1 ``USER#<userId>`` / placed key; gsi2 ``STATUS#<status>#<shard>`` /
  placed key.
- inbox: pk ``INBOX#orders#<eventId>``, sk ``INBOX`` (:class:`gears_shared.consumers.DynamoInbox`).
- imported history (:mod:`orders.history`; :class:`DynamoHistoryRepository`, through the low-level client for its
  conditional TransactWrite): a batch, pk ``HISTORYBATCH#<batchId>``, sk ``BATCH`` (its order ids, and its orders
  as the event carries them in one JSON string: up to 500 lines as nested maps cost every reader a parse per
  attribute, some 50x the time locally, for nothing DynamoDB would do with them), and a marker per imported order,
  pk ``HISTORY#<orderId>``, sk ``HISTORY`` (its batch id).

The *placed key* is ``<placedAt>#<orderId>``: it sorts by time and is unique. gsi1 lists a customer's orders
newest first; gsi2 lists orders by status and date range, write-sharded (``LISTING_SHARDS``) so that a busy status
is no hot partition. Listings merge their partitions by the placed key and page with it (``before``), so a page is
never a Scan and never skips or repeats an order.

The order itself is kept as one map attribute (``order``, the domain's :meth:`Order.to_dict`); ``version`` is a
PynamoDB ``VersionAttribute``, so every save is conditional on the version the writer read (the consumers and the
routes write the same order). ``correlationId`` is the request's or event's, for the stream publisher to carry on.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pynamodb.attributes import MapAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from gears_shared.store import Gsi1, Gsi2, bind
from orders.domain import LISTING_SHARDS, Order, OrderStatus, listing_shard
from orders.errors import StaleOrder
from orders.history import HistoryBatch, HistoryOrder, HistoryRaced, utc_iso

ENTITY = "Order"
ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
MAX_ID_LENGTH = 128
FLOOR = "0"  # below every placed key (they start with a year)


def order_key(order_id: str) -> tuple[str, str]:
    return ORDER_PREFIX + order_id, ORDER_SK


def placed_key(order: Order) -> str:
    return f"{order.placed_at}#{order.order_id}"


def user_partition(user_id: str) -> str:
    return f"USER#{user_id}"


def status_partition(status: OrderStatus, shard: int) -> str:
    return f"STATUS#{status.value}#{shard}"


class OrderItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute(default=ENTITY)
    order_id = UnicodeAttribute(attr_name="orderId")
    user_id = UnicodeAttribute(attr_name="userId")
    status = UnicodeAttribute()
    placed_at = UnicodeAttribute(attr_name="placedAt")
    order: MapAttribute[str, Any] = MapAttribute()
    version = VersionAttribute()
    correlation_id = UnicodeAttribute(attr_name="correlationId", null=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()

    user_index = Gsi1()
    status_index = Gsi2()


def order_model(table_name: str) -> type[OrderItem]:
    """:class:`OrderItem` bound to a table (one class, and so one connection, per table and process)."""
    return bind(OrderItem, table_name)


def _plain(value: Any) -> Any:
    """A stored value as plain Python (maps as dicts, DynamoDB numbers as int)."""
    if isinstance(value, MapAttribute):
        value = value.as_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    return value


def to_domain(item: OrderItem) -> Order:
    document = _plain(item.order)
    document["version"] = int(item.version or 0)
    return Order.from_dict(document)


def order_from_image(image: dict[str, Any] | None) -> tuple[Order, str] | None:
    """An order and the correlation id of its last change from a stream image already made plain
    (:func:`gears_shared.events.stream_images`); ``None`` for an item that is not an order (an inbox entry)."""
    if not image or image.get("entity") != ENTITY or not isinstance(image.get("order"), dict):
        return None
    document = dict(image["order"])
    document["version"] = int(image.get("version") or 0)
    return Order.from_dict(document), str(image.get("correlationId") or "")


def to_item(model: type[OrderItem], order: Order, *, correlation_id: str = "") -> OrderItem:
    pk, sk = order_key(order.order_id)
    document = order.to_dict()
    document.pop("version", None)
    item = model(
        pk,
        sk,
        order_id=order.order_id,
        user_id=order.user_id,
        status=order.status.value,
        placed_at=order.placed_at,
        order=MapAttribute(**document),
        correlation_id=correlation_id or None,
        gsi1pk=user_partition(order.user_id),
        gsi1sk=placed_key(order),
        gsi2pk=status_partition(order.status, listing_shard(order.order_id)),
        gsi2sk=placed_key(order),
    )
    if order.version:
        item.version = order.version
    return item


class DynamoOrderRepository:
    """:class:`orders.service.OrderRepository` over the orders table."""

    def __init__(self, table_name: str) -> None:
        self.model = order_model(table_name)

    def get(self, order_id: str) -> Order | None:
        if not order_id or len(order_id) > MAX_ID_LENGTH:
            return None  # never issued; an over-long key would be a 500 from DynamoDB
        try:
            return to_domain(self.model.get(*order_key(order_id), consistent_read=True))
        except self.model.DoesNotExist:
            return None

    def add(self, order: Order, *, correlation_id: str = "") -> bool:
        """Store a new order; ``False`` if an order with its id is already stored (a repeated OrderPlaced)."""
        item = to_item(self.model, replace(order, version=0), correlation_id=correlation_id)  # saved as version 1
        try:
            item.save(condition=self.model.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def save(self, order: Order, *, correlation_id: str = "") -> Order:
        """Replace the order if it is still at ``order.version`` (the version it was read at)."""
        item = to_item(self.model, order, correlation_id=correlation_id)
        try:
            item.save()  # conditional on version == order.version, thanks to the VersionAttribute
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise StaleOrder("The order was changed meanwhile; read it again.") from exc
            raise
        return to_domain(item)

    # -- listings ------------------------------------------------------------------------------------------------
    def list_for_user(self, user_id: str, *, limit: int, before: str | None) -> tuple[list[Order], str | None]:
        return self._merge(self.model.user_index, [user_partition(user_id)], "gsi1sk", "", before, limit)

    def list_by_status(
        self, statuses: Sequence[OrderStatus], *, lower: str, upper: str, limit: int, before: str | None
    ) -> tuple[list[Order], str | None]:
        partitions = [status_partition(s, shard) for s in statuses for shard in range(LISTING_SHARDS)]
        return self._merge(self.model.status_index, partitions, "gsi2sk", lower, min(upper, before or upper), limit)

    def _merge(
        self,
        index: Any,
        partitions: Iterable[str],
        range_name: str,
        lower: str,
        upper: str | None,
        limit: int,
    ) -> tuple[list[Order], str | None]:
        """Newest first across ``partitions``: up to ``limit`` orders with a placed key in [lower, upper), and the
        key to go on before (``None`` when nothing is left)."""
        attribute = getattr(self.model, range_name)
        runs: list[list[OrderItem]] = []
        more = False
        for partition in partitions:
            condition = attribute.between(lower or FLOOR, upper) if upper else (attribute >= lower if lower else None)
            items = [
                item
                for item in index.query(
                    partition, condition, scan_index_forward=False, limit=limit + 1, page_size=limit + 1
                )
                if getattr(item, range_name) != upper
            ]
            more = more or len(items) > limit
            runs.append(items[:limit])
        merged = list(heapq.merge(*runs, key=lambda item: getattr(item, range_name), reverse=True))
        page = merged[:limit]
        more = more or len(merged) > limit
        next_before = getattr(page[-1], range_name) if page and more else None
        return [to_domain(item) for item in page], next_before


# -- imported history ------------------------------------------------------------------------------------------------
HISTORY_BATCH = "HistoryBatch"
HISTORY_MARKER = "HistoryMarker"
HISTORY_PREFIX = "HISTORY#"
HISTORY_SK = "HISTORY"
HISTORY_BATCH_PREFIX = "HISTORYBATCH#"
HISTORY_BATCH_SK = "BATCH"
BATCH_GET = 100


def history_marker_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": HISTORY_PREFIX + order_id}, "sk": {"S": HISTORY_SK}}


def history_batch_key(batch_id: str) -> dict[str, Any]:
    return {"pk": {"S": HISTORY_BATCH_PREFIX + batch_id}, "sk": {"S": HISTORY_BATCH_SK}}


def history_batch_item(batch: HistoryBatch, *, correlation_id: str = "") -> dict[str, Any]:
    """The batch as stored (plain values): its stream record is what publishes ``OrderHistoryImported.v1``."""
    data = batch.event_data()
    return {
        "pk": HISTORY_BATCH_PREFIX + batch.batch_id,
        "sk": HISTORY_BATCH_SK,
        "entity": HISTORY_BATCH,
        "batchId": batch.batch_id,
        "importedAt": data["importedAt"],
        "orderIds": batch.order_ids,
        "orders": json.dumps(data["orders"], separators=(",", ":"), ensure_ascii=False),
        "correlationId": correlation_id,
    }


def history_batch_orders(image: dict[str, Any]) -> list[dict[str, Any]]:
    """The orders of a stored batch (an item or stream image made plain)."""
    orders = image.get("orders") or "[]"
    return list(json.loads(orders) if isinstance(orders, str) else orders)


def history_marker_item(batch: HistoryBatch, order: HistoryOrder) -> dict[str, Any]:
    return {
        "pk": HISTORY_PREFIX + order.order_id,
        "sk": HISTORY_SK,
        "entity": HISTORY_MARKER,
        "orderId": order.order_id,
        "batchId": batch.batch_id,
        "placedAt": utc_iso(order.placed_at),
        "kind": order.kind,
        "importedAt": utc_iso(batch.imported_at),
    }


class DynamoHistoryRepository:
    """:class:`orders.history.HistoryRepository` over the orders table: a BatchGetItem says which orders are known,
    one TransactWrite puts the batch and every marker, each marker on the condition that it is new."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client

    def imported(self, order_ids: Sequence[str]) -> set[str]:
        from boto3.dynamodb.types import TypeDeserializer

        plain = TypeDeserializer()
        wanted = list(dict.fromkeys(order_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), BATCH_GET):
            keys = [history_marker_key(i) for i in wanted[start : start + BATCH_GET]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "pk"}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table, []):
                    found.add(str(plain.deserialize(raw["pk"]))[len(HISTORY_PREFIX) :])
                request = answer.get("UnprocessedKeys") or {}
        return found

    def add_batch(self, batch: HistoryBatch, *, correlation_id: str = "") -> None:
        from boto3.dynamodb.types import TypeSerializer

        typed = TypeSerializer()

        def put(item: dict[str, Any]) -> dict[str, Any]:
            return {
                "Put": {
                    "TableName": self.table,
                    "Item": {k: typed.serialize(v) for k, v in item.items()},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }

        actions = [put(history_batch_item(batch, correlation_id=correlation_id))]
        actions += [put(history_marker_item(batch, order)) for order in batch.orders]
        try:
            self.client.transact_write_items(TransactItems=actions)
        except self.client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if {"ConditionalCheckFailed", "TransactionConflict"} & set(codes):
                raise HistoryRaced(f"the import was cancelled ({codes})") from exc
            raise
