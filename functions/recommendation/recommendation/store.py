"""The recommendation table through the low-level DynamoDB client (conditional updates keep the newest product
version and stock level; batch reads and writes for lists), and the model's snapshot in S3.

Items (generic keys ``pk``/``sk``; ``entity`` names the kind):

=============  ======================================  =============================================================
entity         key                                     notes
=============  ======================================  =============================================================
``Product``    ``PRODUCT#<productId>`` / ``PRODUCT``   title, sku, price, image, status, categoryPath at ``version``;
                                                       stock ``level`` at ``stockAt`` (the event's time)
``Related``    ``PRODUCT#<productId>`` / ``RELATED``   its related list (JSON ``[[productId, score], ...]``), written
                                                       by the job only; one Query reads a product and its list
``Basket``     ``BASKETS#<shard>`` / ``<day>#<id>``    a paid (or past) order's products and unit; 16 partitions, so no
                                                       key takes every order; gsi1 ``USER#<userId>`` / ``<paidAt>#<id>``
                                                       (a customer's paid orders, newest first)
``List``       ``LIST#<name>`` / ``LIST``              popular, trending, ``popular#<categoryId>``: written by the job
=============  ======================================  =============================================================

The model's snapshot (the purchases folded so far, the categories, the digests of the lists last written) is one
gzip'd JSON object in the service's bucket; only the job reads and writes it.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from gears_shared.dynamo import dynamo_item, dynamo_value, plain_item
from recommendation import events as ev
from recommendation.domain import BASKET_SHARDS, Product, shard_of
from recommendation.model import Basket

PRODUCT = "Product"
RELATED = "Related"
BASKET = "Basket"
LIST = "List"
BATCH_GET = 100
BATCH_WRITE = 25
SNAPSHOT_KEY = "model/snapshot.json.gz"
LIST_CACHE_S = 10.0

Ranked = list[tuple[str, float]]


def product_key(product_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "PRODUCT"}}


def related_key(product_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "RELATED"}}


def list_key(name: str) -> dict[str, Any]:
    return {"pk": {"S": f"LIST#{name}"}, "sk": {"S": "LIST"}}


def basket_partition(shard: int) -> str:
    return f"BASKETS#{shard}"


def product_from(values: dict[str, Any]) -> Product:
    price = values.get("price") or {}
    return Product(
        product_id=str(values.get("productId") or str(values["pk"]).removeprefix("PRODUCT#")),
        sku=str(values.get("sku") or ""),
        title=str(values.get("title") or ""),
        price=int(price.get("amount") or 0),
        currency=str(price.get("currency") or "GBP"),
        image=values.get("image") or None,
        status=str(values.get("status") or ""),
        category_path=tuple(values.get("categoryPath") or ()),
        level=values.get("level"),
    )


def basket_item(basket: Basket, *, user_id: str | None = None, at: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {
        "pk": basket_partition(shard_of(basket.basket_id)),
        "sk": f"{basket.day}#{basket.basket_id}",
        "entity": BASKET,
        "basketId": basket.basket_id,
        "unit": basket.unit,
        "day": basket.day,
        "items": list(basket.items),
    }
    if user_id:
        values.update(gsi1pk=f"USER#{user_id}", gsi1sk=f"{at}#{basket.basket_id}")
    return dynamo_item(values)


def basket_from(values: Mapping[str, Any]) -> Basket:
    return Basket(
        str(values["basketId"]), str(values.get("unit") or ""), str(values["day"]), tuple(values.get("items") or ())
    )


def _ranked(raw: Any) -> Ranked:
    if not raw:
        return []
    return [(str(i), float(s)) for i, s in json.loads(raw)]


class DynamoRecommendations:
    """:class:`recommendation.service.RecommendationStore` over the service's table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client
        self._lists: dict[str, tuple[float, Ranked]] = {}

    # -- products ------------------------------------------------------------------------------------------------
    def _conditional_update(self, **kw: Any) -> bool:
        try:
            self.client.update_item(TableName=self.table, **kw)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def save_product(self, data: ev.ProductData) -> bool:
        values = {
            ":e": "Product",
            ":id": data.productId,
            ":sku": data.sku,
            ":title": data.title,
            ":price": {"amount": data.price.amount, "currency": data.price.currency},
            ":status": data.status,
            ":path": list(data.categoryPath) or ([data.category] if data.category else []),
            ":v": data.version,
        }
        image = data.images[0] if data.images else None
        sets = "entity = :e, productId = :id, sku = :sku, title = :title, price = :price, #status = :status, "
        sets += "categoryPath = :path, version = :v"
        if image:
            values[":image"] = image
            update = f"SET {sets}, image = :image"
        else:
            update = f"SET {sets} REMOVE image"
        return self._conditional_update(
            Key=product_key(data.productId),
            UpdateExpression=update,
            ConditionExpression="attribute_not_exists(version) OR version < :v",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={k: dynamo_value(v) for k, v in values.items()},
        )

    def delete_product(self, product_id: str, version: int) -> bool:
        return self._conditional_update(
            Key=product_key(product_id),
            UpdateExpression="SET entity = :e, productId = :id, #status = :deleted, version = :v",
            ConditionExpression="attribute_not_exists(version) OR version < :v",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":e": {"S": PRODUCT},
                ":id": {"S": product_id},
                ":deleted": {"S": "deleted"},
                ":v": {"N": str(version)},
            },
        )

    def set_level(self, product_id: str, level: str, at: str) -> bool:
        return self._conditional_update(
            Key=product_key(product_id),
            UpdateExpression="SET entity = :e, productId = :id, #level = :level, stockAt = :at",
            ConditionExpression="attribute_not_exists(stockAt) OR stockAt < :at",
            ExpressionAttributeNames={"#level": "level"},
            ExpressionAttributeValues={
                ":e": {"S": PRODUCT},
                ":id": {"S": product_id},
                ":level": {"S": level},
                ":at": {"S": at},
            },
        )

    def product(self, product_id: str) -> tuple[Product | None, Ranked]:
        answer = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"PRODUCT#{product_id}"}},
        )
        product, related = None, []
        for raw in answer.get("Items", []):
            item = plain_item(raw)
            if item["sk"] == "PRODUCT":
                product = product_from(item)
            elif item["sk"] == "RELATED":
                related = _ranked(item.get("items"))
        return product, related

    def _batch_get(self, keys: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        unique = list({json.dumps(k, sort_keys=True): k for k in keys}.values())
        for start in range(0, len(unique), BATCH_GET):
            request: dict[str, Any] = {self.table: {"Keys": unique[start : start + BATCH_GET]}}
            for attempt in range(8):
                answer = self.client.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table, []):
                    yield plain_item(raw)
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.02 * 2**attempt)

    def products(self, product_ids: Iterable[str]) -> dict[str, Product]:
        keys = [product_key(p) for p in product_ids]
        found = (product_from(item) for item in self._batch_get(keys))
        return {p.product_id: p for p in found}

    # -- baskets -------------------------------------------------------------------------------------------------
    def add_baskets(self, baskets: Sequence[Basket], *, user_id: str | None = None, at: str = "") -> None:
        """Each basket put under its own id: a repeat puts the same item, which DynamoDB does not put on the
        stream again (and the job folds a basket id once besides)."""
        puts = [{"PutRequest": {"Item": basket_item(b, user_id=user_id, at=at)}} for b in baskets]
        self._batch_write(puts)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[start : start + BATCH_WRITE]}
            for attempt in range(8):
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.02 * 2**attempt)
            if pending:
                raise RuntimeError("recommendation writes left unprocessed")

    def user_baskets(self, user_id: str, limit: int) -> list[Basket]:
        answer = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"USER#{user_id}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [basket_from(plain_item(raw)) for raw in answer.get("Items", [])]

    def all_baskets(self) -> Iterator[Basket]:
        for shard in range(BASKET_SHARDS):
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": basket_partition(shard)}},
            }
            while True:
                answer = self.client.query(**request)
                for raw in answer.get("Items", []):
                    yield basket_from(plain_item(raw))
                if not answer.get("LastEvaluatedKey"):
                    break
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # -- lists ---------------------------------------------------------------------------------------------------
    def related_lists(self, product_ids: Iterable[str]) -> dict[str, Ranked]:
        found = self._batch_get([related_key(p) for p in product_ids])
        return {str(item["pk"]).removeprefix("PRODUCT#"): _ranked(item.get("items")) for item in found}

    def named_list(self, name: str) -> Ranked:
        """A popular or trending list, kept :data:`LIST_CACHE_S` in the container: every new customer's answer reads
        the popular list, and the job rewrites it at most every few seconds (a hot read, never a hot write)."""
        now = time.monotonic()
        cached = self._lists.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self.client.get_item(TableName=self.table, Key=list_key(name)).get("Item")
        ranked = _ranked(plain_item(found).get("items")) if found else []
        self._lists[name] = (now + LIST_CACHE_S, ranked)
        return ranked

    def save_related(self, lists: Mapping[str, Ranked], at: str) -> None:
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            **related_key(product_id),
                            "entity": {"S": RELATED},
                            "items": {"S": json.dumps(ranked, separators=(",", ":"))},
                            "computedAt": {"S": at},
                        }
                    }
                }
                for product_id, ranked in lists.items()
            ]
        )

    def save_lists(self, lists: Mapping[str, Ranked], at: str) -> None:
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            **list_key(name),
                            "entity": {"S": LIST},
                            "name": {"S": name},
                            "items": {"S": json.dumps(ranked, separators=(",", ":"))},
                            "computedAt": {"S": at},
                        }
                    }
                }
                for name, ranked in lists.items()
            ]
        )


class S3Snapshots:
    """:class:`recommendation.service.SnapshotStore`: one gzip'd JSON object in the service's bucket."""

    def __init__(self, bucket: str, client: Any = None, key: str = SNAPSHOT_KEY) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket = bucket
        self.client = client
        self.key = key

    def load(self) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        value = json.loads(gzip.decompress(body))
        return value if isinstance(value, dict) else None

    def save(self, snapshot: dict[str, Any]) -> None:
        body = gzip.compress(json.dumps(snapshot, separators=(",", ":")).encode(), compresslevel=6, mtime=0)
        self.client.put_object(
            Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json", ContentEncoding="gzip"
        )
