"""Discount codes and their usage shards in the e-commerce table, over the low-level DynamoDB client (a code and its
shards are written together in one transaction, and a checkout claims a use in its own; see
:mod:`ecommerce.cart.store`).

==============  ==================================  ============  ==========================  ==========================
item            pk                                  sk            gsi1pk / gsi1sk             what
==============  ==================================  ============  ==========================  ==========================
discount code   ``DISCOUNT#<code>``                 ``DISCOUNT``  ``DISCOUNTS`` / code        the terms, ``shards``,
                                                                                              ``version``
usage shard     ``DISCOUNT#<code>#USAGE#<n>``       ``USAGE``                                 ``used``, ``allowance``
                                                                                              (absent: no limit)
==============  ==================================  ============  ==========================  ==========================

A placed order that used a code keeps ``discountCode`` and ``discountShard`` on its record
(:mod:`ecommerce.cart.store`); giving the use back (:class:`DynamoUsageReleases`) marks it ``discountReleasedAt``
in the same transaction as the shard's decrement, so a use goes back once whatever the events do.

Each usage shard is a partition of its own: a popular code's checkouts spread their writes over its shards instead
of all updating one item. The codes' listing is one index partition (``DISCOUNTS``): only an administrator writes
a code item, so it is never hot (a checkout writes shards, never the code). Nothing here is published: the stream
publisher's filter lets only placed orders and products through.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ecommerce.cart.store import _batch_get, _dynamo, from_image, order_key
from ecommerce.catalog.domain import Money, utc_iso
from ecommerce.discounts.domain import (
    CODE_PATTERN,
    DiscountCode,
    DiscountTerms,
    Usage,
    parse_time,
    split_allowance,
)
from ecommerce.discounts.service import Reallocation, UsageMoved
from ecommerce.errors import DiscountExists, StaleDiscount

DISCOUNT = "Discount"
DISCOUNT_USAGE = "DiscountUsage"
LISTING = "DISCOUNTS"
BATCH_GET = 100


def discount_key(code: str) -> dict[str, Any]:
    return {"pk": {"S": f"DISCOUNT#{code}"}, "sk": {"S": "DISCOUNT"}}


def usage_key(code: str, shard: int) -> dict[str, Any]:
    return {"pk": {"S": f"DISCOUNT#{code}#USAGE#{shard}"}, "sk": {"S": "USAGE"}}


def claim_update(table: str, code: str, shard: int) -> dict[str, Any]:
    """One use of ``code`` on ``shard``, for a checkout's transaction: only while the shard has allowance left (a
    shard without an allowance counts a code that has no limit)."""
    return {
        "Update": {
            "TableName": table,
            "Key": usage_key(code, shard),
            "UpdateExpression": "SET used = used + :one",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(allowance) OR used < allowance)",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def _money(value: Money | None) -> dict[str, Any]:
    return {"NULL": True} if value is None else _dynamo({"amount": value.amount, "currency": value.currency})


def _number(value: int | None) -> dict[str, Any]:
    return {"NULL": True} if value is None else {"N": str(value)}


def discount_item(discount: DiscountCode) -> dict[str, Any]:
    terms = discount.terms
    return {
        **discount_key(discount.code),
        "entity": {"S": DISCOUNT},
        "code": {"S": discount.code},
        "percentOff": _number(terms.percent_off),
        "amountOff": _money(terms.amount_off),
        "validFrom": {"S": utc_iso(terms.valid_from)} if terms.valid_from else {"NULL": True},
        "validUntil": {"S": utc_iso(terms.valid_until)} if terms.valid_until else {"NULL": True},
        "usageLimit": _number(terms.usage_limit),
        "minSubtotal": _money(terms.min_subtotal),
        "active": {"BOOL": terms.active},
        "shards": {"N": str(discount.shards)},
        "createdAt": {"S": utc_iso(discount.created_at)},
        "updatedAt": {"S": utc_iso(discount.updated_at)},
        "version": {"N": str(discount.version)},
        "gsi1pk": {"S": LISTING},
        "gsi1sk": {"S": discount.code},
    }


def _money_of(value: Any) -> Money | None:
    return None if not isinstance(value, dict) else Money(int(value["amount"]), str(value["currency"]))


def discount_from_item(item: Mapping[str, Any] | None) -> DiscountCode | None:
    data = from_image(item)
    if not data or data.get("entity") != DISCOUNT:
        return None
    since, until = data.get("validFrom"), data.get("validUntil")
    terms = DiscountTerms(
        valid_from=parse_time(str(since)) if since else None,
        percent_off=data.get("percentOff"),
        amount_off=_money_of(data.get("amountOff")),
        valid_until=parse_time(str(until)) if until else None,
        usage_limit=data.get("usageLimit"),
        min_subtotal=_money_of(data.get("minSubtotal")),
        active=bool(data.get("active")),
    )
    return DiscountCode(
        code=str(data["code"]),
        terms=terms,
        shards=int(data["shards"]),
        created_at=parse_time(str(data["createdAt"])),
        updated_at=parse_time(str(data["updatedAt"])),
        version=int(data.get("version") or 0),
    )


def _shard_item(code: str, shard: int, allowance: int | None) -> dict[str, Any]:
    item = {
        **usage_key(code, shard),
        "entity": {"S": DISCOUNT_USAGE},
        "code": {"S": code},
        "shard": {"N": str(shard)},
        "used": {"N": "0"},
    }
    if allowance is not None:
        item["allowance"] = {"N": str(allowance)}
    return item


def _reasons(exc: Any) -> list[str | None]:
    return [r.get("Code") for r in exc.response.get("CancellationReasons") or []]


class DynamoDiscountRepository:
    """:class:`ecommerce.discounts.service.DiscountRepository` (and the checkout's
    :class:`ecommerce.cart.service.DiscountLookup`)."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def get(self, code: str) -> DiscountCode | None:
        if not CODE_PATTERN.match(code):
            return None  # no such code can exist (and an over-long key would be a 500 from DynamoDB)
        answer = self.client.get_item(TableName=self.table, Key=discount_key(code), ConsistentRead=True)
        return discount_from_item(answer.get("Item"))

    def usages(self, discounts: list[DiscountCode]) -> dict[str, Usage]:
        keys = [usage_key(d.code, n) for d in discounts for n in range(d.shards)]
        counts: dict[tuple[str, int], int] = {}
        for start in range(0, len(keys), BATCH_GET):
            for raw in _batch_get(self.client, self.table, keys[start : start + BATCH_GET], consistent=True):
                data = from_image(raw) or {}
                counts[(str(data["code"]), int(data["shard"]))] = int(data.get("used") or 0)
        return {d.code: Usage(tuple(counts.get((d.code, n), 0) for n in range(d.shards))) for d in discounts}

    def usage(self, discount: DiscountCode) -> Usage:
        return self.usages([discount])[discount.code]

    def add(self, discount: DiscountCode) -> DiscountCode:
        stored = DiscountCode(
            discount.code, discount.terms, discount.shards, discount.created_at, discount.updated_at, version=1
        )
        limit = discount.terms.usage_limit
        allowances = split_allowance(limit, [0] * discount.shards) if limit is not None else None
        items = [discount_item(stored)] + [
            _shard_item(discount.code, n, allowances[n] if allowances else None) for n in range(discount.shards)
        ]
        puts = [
            {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            for item in items
        ]
        try:
            self.client.transact_write_items(TransactItems=puts)
        except self.client.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                raise DiscountExists("This discount code already exists.", discountCode=discount.code) from exc
            raise
        return stored

    def save(self, discount: DiscountCode, *, expected_version: int, reallocation: Reallocation | None) -> DiscountCode:
        stored = DiscountCode(
            discount.code,
            discount.terms,
            discount.shards,
            discount.created_at,
            discount.updated_at,
            version=expected_version + 1,
        )
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": discount_item(stored),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
                }
            }
        ]
        if reallocation is not None:
            writes += self._reallocate(discount, reallocation)
        try:
            if len(writes) == 1:
                self.client.put_item(**writes[0]["Put"])
            else:
                self.client.transact_write_items(TransactItems=writes)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise StaleDiscount("The discount code was changed meanwhile.") from exc
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = _reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise StaleDiscount("The discount code was changed meanwhile.") from exc
            if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons[1:]):
                raise UsageMoved(discount.code) from exc
            raise
        return stored

    def _reallocate(self, discount: DiscountCode, reallocation: Reallocation) -> list[dict[str, Any]]:
        """Each existing shard's new allowance (conditioned on the uses it counted when read), and the new shards."""
        allowances = reallocation.allowances
        writes: list[dict[str, Any]] = []
        for n, counted in enumerate(reallocation.counted):
            change: dict[str, Any] = {
                "TableName": self.table,
                "Key": usage_key(discount.code, n),
                "ConditionExpression": "used = :counted",
                "ExpressionAttributeValues": {":counted": {"N": str(counted)}},
            }
            if allowances is None:
                change["UpdateExpression"] = "REMOVE allowance"
            else:
                change["UpdateExpression"] = "SET allowance = :allowance"
                change["ExpressionAttributeValues"][":allowance"] = {"N": str(allowances[n])}
            writes.append({"Update": change})
        for n in range(len(reallocation.counted), discount.shards):
            item = _shard_item(discount.code, n, allowances[n] if allowances is not None else None)
            writes.append(
                {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
        return writes

    def page(self, limit: int, after: str | None) -> tuple[list[DiscountCode], str | None]:
        values: dict[str, Any] = {":listing": {"S": LISTING}}
        condition = "gsi1pk = :listing"
        if after is not None:
            condition += " AND gsi1sk > :after"
            values[":after"] = {"S": after}
        answer = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            Limit=limit,
        )
        found = [d for raw in answer.get("Items", []) if (d := discount_from_item(raw)) is not None]
        more = bool(answer.get("LastEvaluatedKey")) and len(found) == limit
        return found, (found[-1].code if more and found else None)


class DynamoUsageReleases:
    """:class:`ecommerce.discounts.service.UsageReleases`: the order record says which shard counted its use."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table = table_name
        self.client = client

    def release(self, order_id: str, now: datetime) -> bool:
        if not order_id or len(order_id) > 128:
            return False
        found = self.client.get_item(
            TableName=self.table,
            Key=order_key(order_id),
            ConsistentRead=True,
            ProjectionExpression="discountCode, discountShard, discountReleasedAt",
        ).get("Item")
        data = from_image(found) or {}
        if "discountCode" not in data or "discountReleasedAt" in data:
            return False
        code, shard = str(data["discountCode"]), int(data["discountShard"])
        released = {
            "Update": {
                "TableName": self.table,
                "Key": order_key(order_id),
                "UpdateExpression": "SET discountReleasedAt = :now",
                "ConditionExpression": "attribute_exists(discountCode) AND attribute_not_exists(discountReleasedAt)",
                "ExpressionAttributeValues": {":now": {"S": utc_iso(now)}},
            }
        }
        given_back = {
            "Update": {
                "TableName": self.table,
                "Key": usage_key(code, shard),
                "UpdateExpression": "SET used = used - :one",
                "ConditionExpression": "used >= :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
        try:
            self.client.transact_write_items(TransactItems=[released, given_back])
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = _reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # given back meanwhile (a duplicate delivery)
            raise  # a conflict: the event comes back and is applied again
        return True
