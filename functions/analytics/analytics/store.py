"""The analytics table through the low-level DynamoDB client: an event's increments are ``ADD`` updates that must
go in one TransactWrite with the event's marker (applied once), which PynamoDB's models do not express.

Items (generic ``pk``/``sk``; see :mod:`analytics.domain` for the counters):

- ``EVENT#<eventId>#<chunk>`` / ``EVENT``: an event (chunk) applied; expires after 30 days (SQS keeps a message 14).
- ``PRODUCT#<productId>`` / ``PRODUCT``: sku, title, top-level category, version (the newest kept).
- ``ORDER#<orderId>`` / ``ORDER``: a paid order's country and category shares, for its refunds.
- ``FORECAST#<date>`` / ``<days>#<level>#<series digest>``: a forecast answer cached for the day (expires).

An event's counters go in chunks of :data:`CHUNK` items, each chunk in one transaction with its own marker; the
chunks are the same on a retry (the counters come sorted), so a crash between two chunks re-applies only the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from analytics.domain import PRODUCT_SHARDS, SALES_SHARDS, Counter, days, product_records
from analytics.service import ProductInfo, StoredOrder
from gears_shared.dynamo import dynamo_value, plain_item

CHUNK = 90  # items per transaction besides the marker (DynamoDB takes 100)
MARKER_TTL_S = 30 * 86400
EVENT, PRODUCT, ORDER, FORECAST = "EVENT", "PRODUCT", "ORDER", "FORECAST"


class DynamoAnalytics:
    """:class:`analytics.service.AnalyticsStore` over the analytics table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client

    # -- plumbing -------------------------------------------------------------------------------------------------
    def _query(self, **kw: Any) -> Iterator[dict[str, Any]]:
        request = {"TableName": self.table, **kw}
        while True:
            answer = self.client.query(**request)
            for item in answer.get("Items", []):
                yield plain_item(item)
            start = answer.get("LastEvaluatedKey")
            if not start:
                return
            request["ExclusiveStartKey"] = start

    def _between(self, pk: str, low: str, high: str) -> list[dict[str, Any]]:
        return list(
            self._query(
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues={
                    ":pk": dynamo_value(pk),
                    ":low": dynamo_value(low),
                    ":high": dynamo_value(high),
                },
            )
        )

    def _parallel(self, ranges: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=min(8, max(len(ranges), 1))) as pool:
            pages = list(pool.map(lambda r: self._between(*r), ranges))
        return [item for page in pages for item in page]

    def _update(self, counter: Counter) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds, sets = [], []
        for i, (name, value) in enumerate(sorted(counter.add.items())):
            names[f"#a{i}"] = name
            values[f":a{i}"] = dynamo_value(value)
            adds.append(f"#a{i} :a{i}")
        for i, (name, text) in enumerate(sorted(counter.put.items())):
            names[f"#s{i}"] = name
            values[f":s{i}"] = dynamo_value(text)
            sets.append(f"#s{i} = :s{i}")
        expression = "ADD " + ", ".join(adds)
        if sets:
            expression += " SET " + ", ".join(sets)
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": dynamo_value(counter.pk), "sk": dynamo_value(counter.sk)},
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    # -- products and orders --------------------------------------------------------------------------------------
    def products(self, product_ids: Sequence[str]) -> dict[str, ProductInfo]:
        found: dict[str, ProductInfo] = {}
        ids = list(dict.fromkeys(product_ids))
        for start in range(0, len(ids), 100):
            keys = [{"pk": dynamo_value(f"PRODUCT#{i}"), "sk": dynamo_value(PRODUCT)} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table, []):
                    item = plain_item(raw)
                    found[item["productId"]] = ProductInfo(
                        item["productId"],
                        item.get("sku", ""),
                        item.get("title", ""),
                        item.get("category"),
                        int(item.get("version") or 0),
                    )
                request = answer.get("UnprocessedKeys") or {}
                if request:
                    time.sleep(0.05)
        return found

    def save_product(self, product: ProductInfo) -> bool:
        item = {
            "pk": f"PRODUCT#{product.product_id}",
            "sk": PRODUCT,
            "entity": PRODUCT,
            "productId": product.product_id,
            "sku": product.sku,
            "title": product.title,
            "version": product.version,
        }
        if product.category:
            item["category"] = product.category
        try:
            self.client.put_item(
                TableName=self.table,
                Item={k: dynamo_value(v) for k, v in item.items()},
                ConditionExpression="attribute_not_exists(pk) OR version < :v",
                ExpressionAttributeValues={":v": dynamo_value(product.version)},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def order(self, order_id: str) -> StoredOrder | None:
        raw = self.client.get_item(
            TableName=self.table,
            Key={"pk": dynamo_value(f"ORDER#{order_id}"), "sk": dynamo_value(ORDER)},
            ConsistentRead=True,
        ).get("Item")
        if not raw:
            return None
        item = plain_item(raw)
        return StoredOrder(order_id, item.get("country", ""), int(item["total"]), dict(item.get("shares") or {}))

    def apply(self, event_id: str, counters: list[Counter], orders: Sequence[StoredOrder] = ()) -> bool:
        chunks = _chunks(counters)
        applied = False
        expires = int(time.time()) + MARKER_TTL_S
        for n, chunk in enumerate(chunks):
            marker = {"pk": f"EVENT#{event_id}#{n}", "sk": EVENT, "entity": EVENT, "expiresAt": expires}
            actions: list[dict[str, Any]] = [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {k: dynamo_value(v) for k, v in marker.items()},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
            actions.extend(self._update(c) for c in chunk)
            if n == 0:
                for o in orders:
                    item = {
                        "pk": f"ORDER#{o.order_id}",
                        "sk": ORDER,
                        "entity": ORDER,
                        "orderId": o.order_id,
                        "country": o.country,
                        "total": o.total,
                        "shares": o.shares,
                    }
                    actions.append(
                        {"Put": {"TableName": self.table, "Item": {k: dynamo_value(v) for k, v in item.items()}}}
                    )
            try:
                self.client.transact_write_items(TransactItems=actions)
                applied = True
            except self.client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons") or []
                if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
                    raise
        return applied

    # -- reading --------------------------------------------------------------------------------------------------
    def day_totals(self, first: date, last: date) -> dict[date, dict[str, int]]:
        low, high = f"DAY#{first.isoformat()}", f"DAY#{last.isoformat()}"
        items = self._parallel([(f"SALES#{s}", low, high) for s in range(SALES_SHARDS)])
        out: dict[date, dict[str, int]] = {}
        for item in items:
            day = date.fromisoformat(str(item["sk"]).removeprefix("DAY#"))
            counters = out.setdefault(day, {})
            for name, value in item.items():
                if name not in ("pk", "sk") and isinstance(value, int):
                    counters[name] = counters.get(name, 0) + value
        return out

    def product_days(self, first: date, last: date) -> list[dict[str, Any]]:
        months = sorted({d.isoformat()[:7] for d in days(first, last)})
        low, high = first.isoformat(), last.isoformat()
        ranges = [(f"PRODUCT_DAY#{m}#{s}", low, high) for m in months for s in range(PRODUCT_SHARDS)]
        return [record for item in self._parallel(ranges) for record in product_records(item)]

    def product_months(self, first: str, last: str) -> list[dict[str, Any]]:
        items = self._parallel([(f"PRODUCT_MONTH#{s}", first, last) for s in range(PRODUCT_SHARDS)])
        return [record for item in items for record in product_records(item)]

    def cached(self, key: str) -> dict[str, Any] | None:
        day = key.split("#", 1)[0]
        raw = self.client.get_item(
            TableName=self.table, Key={"pk": dynamo_value(f"{FORECAST}#{day}"), "sk": dynamo_value(key)}
        ).get("Item")
        return json.loads(raw["answer"]["S"]) if raw else None

    def cache(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        day = key.split("#", 1)[0]
        item = {
            "pk": f"{FORECAST}#{day}",
            "sk": key,
            "entity": FORECAST,
            "answer": json.dumps(value, separators=(",", ":")),
            "expiresAt": int(time.time()) + ttl_s,
        }
        self.client.put_item(TableName=self.table, Item={k: dynamo_value(v) for k, v in item.items()})


def _chunks(counters: list[Counter]) -> list[list[Counter]]:
    """The counters in transactions of at most :data:`CHUNK`, none naming an item twice (DynamoDB refuses that: the
    parts of a split product item go in transactions of their own). The same counters always chunk the same."""
    chunks: list[list[Counter]] = [[]]
    keys: set[tuple[str, str]] = set()
    for counter in counters:
        key = (counter.pk, counter.sk)
        if len(chunks[-1]) >= CHUNK or key in keys:
            chunks.append([])
            keys = set()
        chunks[-1].append(counter)
        keys.add(key)
    return chunks
