"""The search table, through the low-level DynamoDB client (each write is one conditional ``UpdateItem``: the
condition is the whole rule, "newest wins").

One item per product, ``PRODUCT#<productId>`` / ``PRODUCT``:

- ``product``: what search indexes of it (sku, title, description, price, category, categoryPath, image, status,
  createdAt) and ``version``, the catalog's; a product event is applied only when its version is newer
  (``deleted`` marks a product the catalog removed or archived, so an older event cannot bring it back);
- ``level`` and ``levelAsOf``: inventory's stock level and its event's time; applied only when newer. A level may
  come before the product (the item then holds the level alone; the indexer skips it until the product comes);
- ``gsi1pk`` = ``PRODUCTS#<shard>`` (one of :data:`SHARDS`, from the product id) / ``gsi1sk`` = product id: how the
  indexer reads every product for a full rebuild, a query per shard (no Scan, and no one partition holds them all);
- ``gsi2pk`` = ``SKU#<sku>``: a stock event that names no product id finds its product by SKU.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from gears_shared.dynamo import dynamo_value, plain_item
from search.domain import Level

SHARDS = 16
PRODUCT = "Product"
NAMES = ("entity", "product", "version", "deleted", "level")  # written as #name (some are DynamoDB reserved words)


def shard_of(product_id: str) -> int:
    return int(hashlib.sha256(product_id.encode()).hexdigest()[:8], 16) % SHARDS


def product_key(product_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "PRODUCT"}}


class DynamoSearchStore:
    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.client = client
        self.table = table_name

    def _update(self, product_id: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        """One conditional update; ``False`` when its condition (newest wins) kept the item as it was."""
        names = {f"#{n}": n for n in NAMES if f"#{n}" in expression or f"#{n}" in condition}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=product_key(product_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={k: dynamo_value(v) for k, v in values.items()},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def put_product(self, product_id: str, sku: str, product: dict[str, Any], version: int) -> bool:
        """Keep ``product`` at ``version``; ``False`` when the item holds that version or a newer one."""
        shard = f"PRODUCTS#{shard_of(product_id):02d}"
        return self._update(
            product_id,
            "SET #entity = :e, productId = :id, #product = :p, #version = :v, #deleted = :f, "
            "gsi1pk = :g1, gsi1sk = :id, gsi2pk = :g2, gsi2sk = :s2",
            "attribute_not_exists(#version) OR #version < :v",
            {
                ":e": PRODUCT,
                ":id": product_id,
                ":p": product,
                ":v": version,
                ":f": False,
                ":g1": shard,
                ":g2": f"SKU#{sku}",
                ":s2": "PRODUCT",
            },
        )

    def delete_product(self, product_id: str, sku: str, version: int) -> bool:
        """Mark the product gone as of ``version`` (a removal repeats the last version, so that version included)."""
        shard = f"PRODUCTS#{shard_of(product_id):02d}"
        return self._update(
            product_id,
            "SET #entity = :e, productId = :id, #version = :v, #deleted = :t, gsi1pk = :g1, gsi1sk = :id, "
            "gsi2pk = :g2, gsi2sk = :s2 REMOVE #product",
            "attribute_not_exists(#version) OR #version <= :v",
            {
                ":e": PRODUCT,
                ":id": product_id,
                ":v": version,
                ":t": True,
                ":g1": shard,
                ":g2": f"SKU#{sku}",
                ":s2": "PRODUCT",
            },
        )

    def put_level(self, product_id: str, level: Level, as_of: str) -> bool:
        """Keep the stock level said at ``as_of``; ``False`` when a level said later is kept."""
        return self._update(
            product_id,
            "SET #entity = :e, productId = :id, #level = :l, levelAsOf = :t",
            "attribute_not_exists(levelAsOf) OR levelAsOf < :t",
            {":e": PRODUCT, ":id": product_id, ":l": level, ":t": as_of},
        )

    def product_id_for_sku(self, sku: str) -> str | None:
        found = (
            self.client.query(
                TableName=self.table,
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :k",
                ExpressionAttributeValues={":k": {"S": f"SKU#{sku}"}},
                Limit=1,
            ).get("Items")
            or []
        )
        return found[0]["pk"]["S"].removeprefix("PRODUCT#") if found else None  # gsi2 projects keys only

    def products(self) -> Iterator[dict[str, Any]]:
        """Every product item, shard by shard (the indexer's full rebuild)."""
        for shard in range(SHARDS):
            start: dict[str, Any] | None = None
            while True:
                page = self.client.query(
                    TableName=self.table,
                    IndexName="gsi1",
                    KeyConditionExpression="gsi1pk = :k",
                    ExpressionAttributeValues={":k": {"S": f"PRODUCTS#{shard:02d}"}},
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                for item in page.get("Items") or []:
                    yield plain_item(item)
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
