"""Carts, checkouts and availability in the e-commerce table, over the low-level DynamoDB client.

Items (same table as the catalog, see :mod:`ecommerce.catalog.store`):

==================  ==================================  ============  =============================================
item                pk                                  sk            what
==================  ==================================  ============  =============================================
cart                ``CART#<userId>``                   ``CART``      lines [{productId, quantity, sku, title,
                                                                      addedAt}], ``version``, ``expiresAt`` (TTL:
                                                                      30 days after the last change)
checkout key        ``CHECKOUT#<userId>#<key>``         ``CHECKOUT``  orderId, request fingerprint, the receipt
                                                                      answered (TTL: 7 days)
checkout receipt    ``RECEIPT#<userId>#<orderId>``      ``RECEIPT``   the receipt again, by customer and order id,
                                                                      for ``GET /checkout/{orderId}`` (TTL: 7 days)
order placed        ``ORDER#<orderId>``                 ``ORDER``     ``order``: OrderPlaced.v1's data (the outbox
                                                                      the stream publisher reads; TTL: 90 days);
                                                                      with a discount, ``discountCode`` and the
                                                                      ``discountShard`` its use was counted on
==================  ==================================  ============  =============================================

A checkout with a discount code adds one item to its transaction: one use on a usage shard of the code
(:func:`ecommerce.discounts.store.claim_update`), conditioned on the shard having a use left.

The client (not PynamoDB) because a checkout reads a cart and a key record of two kinds in one BatchGetItem and
writes four items of four kinds in one TransactWriteItems. Products are read with BatchGetItem and mapped with the
catalog's own model (:func:`ecommerce.catalog.store.product_from_image`), so there is one mapping of a product.
Availability is written onto the product item with an UpdateItem that touches nothing else (no version, no
``updatedAt``): an availability change is not a change of the product.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from ecommerce.cart.domain import Cart, CartLine, PlacedOrder
from ecommerce.cart.service import CheckoutRecord, KeyTaken, ShardBusy, ShardExhausted, UsageClaim
from ecommerce.catalog.domain import Availability, Product, utc_iso
from ecommerce.catalog.store import (
    BATCH_GET,
    MAX_ID_LENGTH,
    WRITTEN_BY_AVAILABILITY,
    product_from_image,
    product_key,
)
from ecommerce.errors import CartChanged
from gears_shared.dynamo import plain_item

CART = "Cart"
CHECKOUT = "Checkout"
RECEIPT = "Receipt"
ORDER_PLACED = "OrderPlaced"
CHECKOUT_KEEP = timedelta(days=7)
ORDER_KEEP = timedelta(days=90)
BATCH_RETRIES = 5

_serializer = TypeSerializer()


def cart_key(user_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CART#{user_id}"}, "sk": {"S": "CART"}}


def checkout_key(user_id: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": f"CHECKOUT#{user_id}#{key}"}, "sk": {"S": "CHECKOUT"}}


def receipt_key(user_id: str, order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RECEIPT#{user_id}#{order_id}"}, "sk": {"S": "RECEIPT"}}


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


def _dynamo(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def from_image(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A DynamoDB JSON item (or stream image) as plain Python values."""
    return plain_item(dict(image)) if image else None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _batch_get(client: Any, table: str, keys: list[dict[str, Any]], *, consistent: bool = False) -> list[dict]:
    """Every item found among ``keys`` (at most 100), asking again for keys DynamoDB left unprocessed."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": consistent}}
    for attempt in range(BATCH_RETRIES):
        answer = client.batch_get_item(RequestItems=request)
        found.extend(answer.get("Responses", {}).get(table, []))
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(0.02 * 2**attempt)
    raise RuntimeError("DynamoDB left keys unprocessed after retries")


# -- products --------------------------------------------------------------------------------------------------------
class DynamoProductLookup:
    """:class:`ecommerce.cart.service.ProductLookup`: products by id in one BatchGetItem (per 100)."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        ids = [pid for pid in dict.fromkeys(product_ids) if pid and len(pid) <= MAX_ID_LENGTH]
        out: dict[str, Product] = {}
        for start in range(0, len(ids), BATCH_GET):
            keys = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in map(product_key, ids[start : start + BATCH_GET])]
            for raw in _batch_get(self.client, self.table, keys):
                found = product_from_image(raw)
                if found is not None:
                    out[found[0].product_id] = found[0]
        return out


# -- carts -----------------------------------------------------------------------------------------------------------
def cart_from_item(user_id: str, item: Mapping[str, Any] | None, now: datetime) -> Cart:
    data = from_image(item)
    if not data:
        return Cart(user_id)
    version = int(data.get("version") or 0)
    expires = data.get("expiresAt")
    if isinstance(expires, int) and expires <= _epoch(now):
        return Cart(user_id, version=version)  # abandoned: the TTL has not removed it yet, but it is gone
    lines = tuple(
        CartLine(
            product_id=str(li["productId"]),
            quantity=int(li["quantity"]),
            sku=str(li.get("sku") or ""),
            title=str(li.get("title") or ""),
            added_at=str(li.get("addedAt") or ""),
        )
        for li in data.get("lines") or []
    )
    updated = data.get("updatedAt")
    return Cart(user_id, lines, version, datetime.fromisoformat(updated) if updated else None)


class DynamoCartRepository:
    """:class:`ecommerce.cart.service.CartRepository`: one item per customer, saved conditionally on its version."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def get(self, user_id: str, now: datetime) -> Cart:
        answer = self.client.get_item(TableName=self.table, Key=cart_key(user_id), ConsistentRead=True)
        return cart_from_item(user_id, answer.get("Item"), now)

    def save(self, cart: Cart, *, expected_version: int) -> Cart:
        assert cart.updated_at is not None
        version = expected_version + 1
        expires = cart.expires_at()
        item = {
            **cart_key(cart.user_id),
            "entity": {"S": CART},
            "userId": {"S": cart.user_id},
            "lines": _dynamo(
                [
                    {
                        "productId": li.product_id,
                        "quantity": li.quantity,
                        "sku": li.sku,
                        "title": li.title,
                        "addedAt": li.added_at,
                    }
                    for li in cart.lines
                ]
            ),
            "version": {"N": str(version)},
            "updatedAt": {"S": utc_iso(cart.updated_at)},
            "expiresAt": {"N": str(_epoch(expires))} if expires else {"NULL": True},
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_version == 0
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        try:
            self.client.put_item(TableName=self.table, Item=item, **condition)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise CartChanged("The cart was changed meanwhile.") from exc
        return Cart(cart.user_id, cart.lines, version, cart.updated_at)

    def delete(self, user_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key=cart_key(user_id))


# -- checkout --------------------------------------------------------------------------------------------------------
def _record(item: Mapping[str, Any] | None) -> CheckoutRecord | None:
    data = from_image(item)
    if not data:
        return None
    return CheckoutRecord(str(data["orderId"]), str(data["fingerprint"]), json.loads(str(data["receipt"])))


class DynamoCheckoutStore:
    """:class:`ecommerce.cart.service.CheckoutStore`."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def begin(self, user_id: str, key: str, now: datetime) -> tuple[Cart, CheckoutRecord | None]:
        items = _batch_get(self.client, self.table, [cart_key(user_id), checkout_key(user_id, key)], consistent=True)
        by_pk = {item["pk"]["S"]: item for item in items}
        cart = cart_from_item(user_id, by_pk.get(cart_key(user_id)["pk"]["S"]), now)
        return cart, _record(by_pk.get(checkout_key(user_id, key)["pk"]["S"]))

    def record(self, user_id: str, key: str) -> CheckoutRecord | None:
        answer = self.client.get_item(TableName=self.table, Key=checkout_key(user_id, key), ConsistentRead=True)
        return _record(answer.get("Item"))

    def receipt(self, user_id: str, order_id: str) -> dict[str, Any] | None:
        if not order_id or len(order_id) > MAX_ID_LENGTH:
            return None  # no such id was ever issued, and an over-long key would be a 500 from DynamoDB
        answer = self.client.get_item(TableName=self.table, Key=receipt_key(user_id, order_id), ConsistentRead=True)
        data = from_image(answer.get("Item"))
        return None if data is None else dict(json.loads(str(data["receipt"])))

    def place(
        self,
        order: PlacedOrder,
        record: CheckoutRecord,
        *,
        key: str,
        cart: Cart,
        correlation_id: str,
        usage: UsageClaim | None = None,
    ) -> None:
        from ecommerce.discounts.store import claim_update  # here: that module imports this one's helpers

        placed = order.placed_at
        created = {"createdAt": {"S": utc_iso(placed)}}
        kept_as_checkout = {**created, "expiresAt": {"N": str(_epoch(placed + CHECKOUT_KEEP))}}
        receipt = {
            "orderId": {"S": record.order_id},
            "receipt": {"S": json.dumps(record.receipt, separators=(",", ":"))},
        }
        order_item = {
            **order_key(order.order_id),
            "entity": {"S": ORDER_PLACED},
            "orderId": {"S": order.order_id},
            "userId": {"S": order.user_id},
            "order": _dynamo(order.to_event_data()),
            "correlationId": {"S": correlation_id},
            **created,
            "expiresAt": {"N": str(_epoch(placed + ORDER_KEEP))},
        }
        if usage is not None:
            order_item["discountCode"] = {"S": usage.code}
            order_item["discountShard"] = {"N": str(usage.shard)}
        key_item = {
            **checkout_key(order.user_id, key),
            "entity": {"S": CHECKOUT},
            **receipt,
            "fingerprint": {"S": record.fingerprint},
            **kept_as_checkout,
        }
        # The receipt again, under the customer and the order id: the 202's Location reads it by key from now on.
        receipt_item = {
            **receipt_key(order.user_id, order.order_id),
            "entity": {"S": RECEIPT},
            **receipt,
            **kept_as_checkout,
        }
        new_items = [order_item, key_item, receipt_item]
        cart_deleted = {
            "TableName": self.table,
            "Key": cart_key(order.user_id),
            "ConditionExpression": "version = :read",
            "ExpressionAttributeValues": {":read": {"N": str(cart.version)}},
        }
        puts = [
            {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            for item in new_items
        ]
        claimed = [] if usage is None else [claim_update(self.table, usage.code, usage.shard)]
        try:
            self.client.transact_write_items(TransactItems=[*puts, {"Delete": cart_deleted}, *claimed])
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if any(code == "ConditionalCheckFailed" for code in reasons[: len(puts)]):
                raise KeyTaken(order.order_id) from exc
            if len(reasons) > len(puts) and reasons[len(puts)] == "ConditionalCheckFailed":
                raise CartChanged("The cart changed during checkout; review it and check out again.") from exc
            shard = reasons[len(puts) + 1] if claimed and len(reasons) > len(puts) + 1 else None
            if shard == "ConditionalCheckFailed":
                raise ShardExhausted(usage) from exc
            if shard == "TransactionConflict":
                raise ShardBusy(usage) from exc
            raise


# -- availability ----------------------------------------------------------------------------------------------------
class DynamoAvailability:
    """Writes a product's availability onto its item, unless the item is gone or knows a newer level."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def apply(self, product_id: str, availability: Availability) -> bool:
        """``True`` if stored; ``False`` for an unknown product or an event older than the stored level."""
        pk, sk = product_key(product_id)
        value: dict[str, Any] = {"level": availability.level.value}
        if availability.available is not None:
            value["available"] = availability.available
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                # writtenBy: the publisher's filter skips this write (an availability change publishes nothing)
                UpdateExpression="SET availability = :a, availabilityAt = :t, writtenBy = :by",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(availabilityAt) "
                "OR availabilityAt <= :t)",
                ExpressionAttributeValues={
                    ":a": _dynamo(value),
                    ":t": {"S": availability.as_of or ""},
                    ":by": {"S": WRITTEN_BY_AVAILABILITY},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
