"""The inventory in its DynamoDB table, through the low-level DynamoDB client rather than PynamoDB: every write is a
TransactWrite of mixed conditional Puts, and the cancellation reason of each of its items decides the error.

Items (one table, keys fixed by ``template.yaml``):

===========  ============================  =====================================  =================================
item         pk                            sk                                     gsi1pk / gsi1sk
===========  ============================  =====================================  =================================
stock        ``SKU#<sku>``                 ``STOCK``                              ``LOW#<shard>`` / sku, only while
                                                                                  available <= threshold
movement     ``SKU#<sku>``                 ``MOVE#<time>#<reference>#<kind>``
receipt      ``SKU#<sku>``                 ``RECEIPT#<reference>``
reservation  ``RESERVATION#<orderId>``     ``RESERVATION``
inbox        ``INBOX#<consumer>#<id>``     ``INBOX``                              (gears_shared.consumers)
===========  ============================  =====================================  =================================

A SKU's ledger lives in the same partition as its stock item, so the item and the movement that explains a change
go in one TransactWrite, and the ledger reads newest first with one Query. The low-stock index is sparse and
write-sharded: only low items carry ``gsi1pk``, spread over :data:`inventory.domain.SHARDS` partitions.

Every stock write is a Put of the whole item conditioned on the ``version`` it was read at (and, for a
reservation, on ``available >= qty``), so the figures, the ``available`` attribute and the index key are always
written together, from one decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from inventory.domain import (
    Movement,
    MovementKind,
    OrderLine,
    Reservation,
    ReservationStatus,
    Shortage,
    StockChange,
    StockItem,
    utc_iso,
)
from inventory.errors import DuplicateReceipt, InvalidCursor, ReservationConflict, StaleStock

STOCK = "Stock"
MOVEMENT = "Movement"
RESERVATION = "Reservation"
RECEIPT = "Receipt"
SKU_PREFIX = "SKU#"
STOCK_SK = "STOCK"
MOVE_PREFIX = "MOVE#"
RECEIPT_PREFIX = "RECEIPT#"
RESERVATION_PREFIX = "RESERVATION#"
RESERVATION_SK = "RESERVATION"
LOW_PREFIX = "LOW#"
LOW_INDEX = "gsi1"
BATCH_GET = 100
MAX_ID_LENGTH = 256

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def stock_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": SKU_PREFIX + sku}, "sk": {"S": STOCK_SK}}


def reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": RESERVATION_PREFIX + order_id}, "sk": {"S": RESERVATION_SK}}


def movement_sk(movement: Movement) -> str:
    return f"{MOVE_PREFIX}{utc_iso(movement.at)}#{movement.reference}#{movement.kind.value}"


def low_partition(shard: int) -> str:
    return f"{LOW_PREFIX}{shard}"


def _dynamo(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _number(_deserializer.deserialize(v)) for k, v in item.items()}


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return value


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


# -- mapping ---------------------------------------------------------------------------------------------------------
def stock_item(item: StockItem, version: int, correlation_id: str = "") -> dict[str, Any]:
    """The stored form of a stock item at ``version``, with the low-stock index key exactly when it is low."""
    values: dict[str, Any] = {
        "pk": SKU_PREFIX + item.sku,
        "sk": STOCK_SK,
        "entity": STOCK,
        "sku": item.sku,
        "productId": item.product_id,
        "onHand": item.on_hand,
        "reserved": item.reserved,
        "available": item.available,
        "threshold": item.threshold,
        "version": version,
        "updatedAt": utc_iso(item.updated_at) if item.updated_at else None,
        "correlationId": correlation_id or None,
    }
    if item.is_low:
        values["gsi1pk"] = low_partition(item.shard)
        values["gsi1sk"] = item.sku
    return _dynamo(values)


def stock_from_plain(values: dict[str, Any]) -> StockItem:
    return StockItem(
        sku=values["sku"],
        on_hand=int(values.get("onHand", 0)),
        reserved=int(values.get("reserved", 0)),
        threshold=int(values.get("threshold", 0)),
        product_id=values.get("productId"),
        version=int(values.get("version", 0)),
        updated_at=_time(values.get("updatedAt")),
    )


def movement_item(movement: Movement, correlation_id: str = "") -> dict[str, Any]:
    return _dynamo(
        {
            "pk": SKU_PREFIX + movement.sku,
            "sk": movement_sk(movement),
            "entity": MOVEMENT,
            "sku": movement.sku,
            "kind": movement.kind.value,
            "onHandDelta": movement.on_hand_delta,
            "reservedDelta": movement.reserved_delta,
            "onHandAfter": movement.on_hand_after,
            "reservedAfter": movement.reserved_after,
            "at": utc_iso(movement.at),
            "reference": movement.reference,
            "reason": movement.reason,
            "actor": movement.actor,
            "correlationId": correlation_id or None,
        }
    )


def movement_from_plain(values: dict[str, Any]) -> Movement:
    return Movement(
        sku=values["sku"],
        kind=MovementKind(values["kind"]),
        on_hand_delta=int(values["onHandDelta"]),
        reserved_delta=int(values["reservedDelta"]),
        on_hand_after=int(values["onHandAfter"]),
        reserved_after=int(values["reservedAfter"]),
        at=datetime.fromisoformat(values["at"]),
        reference=values["reference"],
        reason=values.get("reason", ""),
        actor=values.get("actor"),
    )


def reservation_item(reservation: Reservation, correlation_id: str = "") -> dict[str, Any]:
    return _dynamo(
        {
            "pk": RESERVATION_PREFIX + reservation.order_id,
            "sk": RESERVATION_SK,
            "entity": RESERVATION,
            "orderId": reservation.order_id,
            "status": reservation.status.value,
            "lines": [{k: v for k, v in line.to_dict().items() if v is not None} for line in reservation.lines],
            "unavailable": [s.to_dict() for s in reservation.unavailable],
            "reason": reservation.reason,
            "createdAt": utc_iso(reservation.created_at) if reservation.created_at else None,
            "updatedAt": utc_iso(reservation.updated_at) if reservation.updated_at else None,
            "correlationId": correlation_id or None,
        }
    )


def reservation_from_plain(values: dict[str, Any]) -> Reservation:
    return Reservation(
        order_id=values["orderId"],
        status=ReservationStatus(values["status"]),
        lines=tuple(
            OrderLine(line["sku"], int(line["quantity"]), line.get("productId")) for line in values.get("lines") or []
        ),
        unavailable=tuple(
            Shortage(s["sku"], int(s["requested"]), int(s["available"])) for s in values.get("unavailable") or []
        ),
        reason=values.get("reason"),
        created_at=_time(values.get("createdAt")),
        updated_at=_time(values.get("updatedAt")),
    )


# -- the repository --------------------------------------------------------------------------------------------------
class DynamoStockRepository:
    """:class:`inventory.service.StockRepository` over the inventory table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client

    # -- reads ---------------------------------------------------------------------------------------------------
    def get(self, sku: str) -> StockItem | None:
        got = self.client.get_item(TableName=self.table, Key=stock_key(sku), ConsistentRead=True).get("Item")
        return stock_from_plain(_plain(got)) if got else None

    def get_many(self, skus: Iterable[str]) -> dict[str, StockItem]:
        wanted = sorted(set(skus))
        found: dict[str, StockItem] = {}
        for start in range(0, len(wanted), BATCH_GET):
            keys = [stock_key(sku) for sku in wanted[start : start + BATCH_GET]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table, []):
                    item = stock_from_plain(_plain(raw))
                    found[item.sku] = item
                request = answer.get("UnprocessedKeys") or {}
        return found

    def get_reservation(self, order_id: str) -> Reservation | None:
        if not order_id or len(order_id) > MAX_ID_LENGTH:
            return None
        got = self.client.get_item(TableName=self.table, Key=reservation_key(order_id), ConsistentRead=True).get("Item")
        return reservation_from_plain(_plain(got)) if got else None

    def movements(
        self, sku: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Movement], dict[str, Any] | None]:
        pk = SKU_PREFIX + sku
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :move)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":move": {"S": MOVE_PREFIX}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start is not None:
            _check_key(start, {"pk", "sk"})
            if start["pk"]["S"] != pk or not start["sk"]["S"].startswith(MOVE_PREFIX):
                raise InvalidCursor("The cursor is not valid.")
            params["ExclusiveStartKey"] = start
        answer = self.client.query(**params)
        items = [movement_from_plain(_plain(raw)) for raw in answer.get("Items", [])]
        return items, answer.get("LastEvaluatedKey")

    def low_stock(
        self, shard: int, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[StockItem], dict[str, Any] | None]:
        partition = low_partition(shard)
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LOW_INDEX,
            "KeyConditionExpression": "gsi1pk = :low",
            "ExpressionAttributeValues": {":low": {"S": partition}},
            "Limit": limit,
        }
        if start is not None:
            _check_key(start, {"pk", "sk", "gsi1pk", "gsi1sk"})
            if start["gsi1pk"]["S"] != partition or not start["pk"]["S"].startswith(SKU_PREFIX):
                raise InvalidCursor("The cursor is not valid.")
            params["ExclusiveStartKey"] = start
        answer = self.client.query(**params)
        items = [stock_from_plain(_plain(raw)) for raw in answer.get("Items", [])]
        return items, answer.get("LastEvaluatedKey")

    # -- the one write ---------------------------------------------------------------------------------------------
    def write(
        self,
        changes: Sequence[StockChange],
        *,
        reservation: Reservation | None = None,
        expected_status: ReservationStatus | None = None,
        receipt: str | None = None,
        correlation_id: str = "",
    ) -> None:
        actions: list[tuple[str, dict[str, Any]]] = []  # (role, Put): the role names the refusal of a failed Put
        for change in changes:
            actions.append(("stock", self._stock_put(change, correlation_id)))
            if change.movement is not None:
                actions.append(("movement", self._movement_put(change.movement, correlation_id)))
        if receipt is not None and changes:
            actions.append(("receipt", self._receipt_put(changes[0].after, receipt)))
        if reservation is not None:
            actions.append(("reservation", self._reservation_put(reservation, expected_status, correlation_id)))
        self._send(actions)

    def _send(self, actions: list[tuple[str, dict[str, Any]]]) -> None:
        """One Put alone, or all of them in one TransactWrite; a refused condition becomes the error its role says."""
        if not actions:
            return
        roles = [role for role, _ in actions]
        try:
            if len(actions) == 1:
                self.client.put_item(**actions[0][1])
            else:
                self.client.transact_write_items(TransactItems=[{"Put": put} for _, put in actions])
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise _refusal(roles[0]) from exc
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = [(roles[i], r.get("Code")) for i, r in enumerate(reasons) if i < len(roles)]
            failed = [role for role, code in codes if code not in (None, "None")]
            conditional = {role for role, code in codes if code == "ConditionalCheckFailed"}
            for role in ("receipt", "reservation"):
                if role in conditional:
                    raise _refusal(role) from exc
            raise StaleStock(f"The transaction was cancelled ({', '.join(failed) or 'conflict'}).") from exc

    def _movement_put(self, movement: Movement, correlation_id: str) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Item": movement_item(movement, correlation_id),
            # A ledger entry is never overwritten; a clash of keys is retried with a new time.
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def _receipt_put(self, item: StockItem, reference: str) -> dict[str, Any]:
        receipt = {
            "pk": SKU_PREFIX + item.sku,
            "sk": RECEIPT_PREFIX + reference,
            "entity": RECEIPT,
            "reference": reference,
            "at": utc_iso(item.updated_at) if item.updated_at else None,
        }
        return {"TableName": self.table, "Item": _dynamo(receipt), "ConditionExpression": "attribute_not_exists(pk)"}

    def _reservation_put(
        self, reservation: Reservation, expected_status: ReservationStatus | None, correlation_id: str
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": reservation_item(reservation, correlation_id)}
        if expected_status is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#status = :expected"
            put["ExpressionAttributeNames"] = {"#status": "status"}
            put["ExpressionAttributeValues"] = {":expected": {"S": expected_status.value}}
        return put

    def _stock_put(self, change: StockChange, correlation_id: str) -> dict[str, Any]:
        before = change.before
        version = (before.version if before else 0) + 1
        put: dict[str, Any] = {"TableName": self.table, "Item": stock_item(change.after, version, correlation_id)}
        if before is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            condition = "#version = :version"
            values: dict[str, Any] = {":version": {"N": str(before.version)}}
            if change.needs_available:
                # Implied by the version check; stated so that the invariant holds even if versions were misused.
                condition += " AND available >= :needed"
                values[":needed"] = {"N": str(change.needs_available)}
            put["ConditionExpression"] = condition
            put["ExpressionAttributeNames"] = {"#version": "version"}
            put["ExpressionAttributeValues"] = values
        return put

    # -- bulk, for the seed ----------------------------------------------------------------------------------------
    def existing_skus(self, skus: Iterable[str]) -> set[str]:
        """Which of these SKUs have a stock record (BatchGetItem, keys only)."""
        wanted = sorted(set(skus))
        found: set[str] = set()
        for start in range(0, len(wanted), BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [stock_key(sku) for sku in wanted[start : start + BATCH_GET]],
                    "ProjectionExpression": "pk",
                }
            }
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table, []):
                    found.add(raw["pk"]["S"].removeprefix(SKU_PREFIX))
                request = answer.get("UnprocessedKeys") or {}
        return found

    def put_opening_stock(self, items: Iterable[tuple[StockItem, Movement]], correlation_id: str = "") -> int:
        """Write new stock items, each with the movement that explains its figures, in BatchWriteItem calls of 25
        (unconditional: the caller wrote only SKUs it found missing)."""
        requests: list[dict[str, Any]] = []
        count = 0
        for item, movement in items:
            requests.append({"PutRequest": {"Item": movement_item(movement, correlation_id)}})
            requests.append({"PutRequest": {"Item": stock_item(item, 1, correlation_id)}})
            count += 1
        for start in range(0, len(requests), 24):  # a stock item and its movement always in the same call
            pending: dict[str, Any] = {self.table: requests[start : start + 24]}
            while pending:
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return count


def _refusal(role: str) -> Exception:
    if role == "receipt":
        return DuplicateReceipt("A restock with this reference was already received for this SKU.")
    if role == "reservation":
        return ReservationConflict("The reservation exists already or changed meanwhile.")
    return StaleStock("The stock changed meanwhile.")


def _check_key(start: dict[str, Any], names: set[str]) -> None:
    """A cursor's storage key must be one this Query could have returned: string keys, exactly these."""
    if set(start) != names:
        raise InvalidCursor("The cursor is not valid.")
    for value in start.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str) and value["S"]):
            raise InvalidCursor("The cursor is not valid.")
