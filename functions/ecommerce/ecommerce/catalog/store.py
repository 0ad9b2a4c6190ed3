"""The catalog in the e-commerce table: PynamoDB models (bound with :func:`gears_shared.store.bind`) and the
repositories that map them to the domain. PynamoDB because every write is one item, conditional on its
``VersionAttribute``, and every read one GetItem or one Query of a sparse index.

Items (one table, keys fixed by ``template.yaml``):

=============  ==================  ===========  ===========================  =========================
item           pk                  sk           gsi1pk / gsi1sk              gsi2pk / gsi2sk
=============  ==================  ===========  ===========================  =========================
product        ``PRODUCT#<id>``    ``PRODUCT``  ``ACTIVE#<shard>`` / id      ``CAT#<cat>#<shard>`` / id
category       ``CATEGORY``        ``CATEGORY#<id>``
=============  ==================  ===========  ===========================  =========================

Only active products carry the gsi keys (sparse indexes), so listing is a Query of the index partitions and never a
Scan. ``version`` is a PynamoDB ``VersionAttribute``: every save is conditional on the version the writer read.
``correlationId`` records the request that made the last change, for the stream publisher to carry on.

Models are bound to a table by name (:func:`product_model`), so the functions use ``TABLE_NAME`` while the seed
and the tests can name any table. Cart, checkout and availability items share the table (:mod:`ecommerce.cart.store`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from ecommerce.catalog.domain import (
    UNKNOWN_AVAILABILITY,
    Availability,
    Category,
    Money,
    Partition,
    Product,
    ProductDetails,
    ProductStatus,
    StockLevel,
    utc_iso,
)
from ecommerce.errors import InvalidCursor, ProductExists, StaleProduct
from gears_shared.store import Gsi1, Gsi2, MoneyAttribute, bind

PRODUCT = "Product"
CATEGORY = "Category"
PRODUCT_PREFIX = "PRODUCT#"
PRODUCT_SK = "PRODUCT"
CATEGORY_PK = "CATEGORY"
CATEGORY_PREFIX = "CATEGORY#"
BATCH_GET = 100
MAX_ID_LENGTH = 128
WRITTEN_BY_CATALOG = "catalog"
WRITTEN_BY_AVAILABILITY = "availability"


def product_key(product_id: str) -> tuple[str, str]:
    return PRODUCT_PREFIX + product_id, PRODUCT_SK


def partition_key(partition: Partition) -> tuple[str, str]:
    """The index and the hash key value of a listing partition."""
    if partition.category is None:
        return "gsi1", f"ACTIVE#{partition.shard}"
    return "gsi2", f"CAT#{partition.category}#{partition.shard}"


# -- models ----------------------------------------------------------------------------------------------------------
class AvailabilityAttribute(MapAttribute[str, Any]):
    level = UnicodeAttribute()
    available = NumberAttribute(null=True)


class ProductItem(Model):
    """A product item. Unbound (no table): use :func:`product_model`; ``from_raw_data`` works on it directly."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute(default=PRODUCT)
    product_id = UnicodeAttribute(attr_name="productId")
    sku = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    price = MoneyAttribute()
    category = UnicodeAttribute()
    brand = UnicodeAttribute(null=True)
    images = ListAttribute(of=UnicodeAttribute, default=list)
    product_attributes: MapAttribute[str, Any] = MapAttribute(attr_name="attributes", default=dict)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    version = VersionAttribute()
    correlation_id = UnicodeAttribute(attr_name="correlationId", null=True)
    # Inventory's word on the product (ecommerce.cart.consumers), written by an UpdateItem of its own: not a detail.
    availability = AvailabilityAttribute(null=True)
    availability_at = UnicodeAttribute(attr_name="availabilityAt", null=True)
    # Who wrote the item last: "catalog" (every write of the catalog's), or "availability" (the consumer's
    # UpdateItem). The stream publisher's FilterCriteria takes only the catalog's, since Lambda's filters cannot
    # compare an old image with a new one and an availability change alone publishes nothing (template.yaml).
    written_by = UnicodeAttribute(attr_name="writtenBy", null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)

    active_index = Gsi1()
    category_index = Gsi2()


class CategoryItem(Model):
    pk = UnicodeAttribute(hash_key=True, default=CATEGORY_PK)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute(default=CATEGORY)
    category_id = UnicodeAttribute(attr_name="categoryId")
    name = UnicodeAttribute()
    parent = UnicodeAttribute(null=True)
    position = NumberAttribute(default=0)


def product_model(table_name: str) -> type[ProductItem]:
    """:class:`ProductItem` bound to a table (one class, and so one connection, per table and process)."""
    return bind(ProductItem, table_name)


def category_model(table_name: str) -> type[CategoryItem]:
    return bind(CategoryItem, table_name)


# -- mapping ---------------------------------------------------------------------------------------------------------
def _plain_map(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    raw = value.as_dict() if isinstance(value, MapAttribute) else dict(value)
    return {str(k): str(v) for k, v in raw.items()}


def to_domain(item: ProductItem) -> Product:
    details = ProductDetails(
        title=item.title,
        price=Money(int(item.price.amount), item.price.currency),
        category=item.category,
        description=item.description or "",
        brand=item.brand,
        images=tuple(str(url) for url in item.images or ()),
        attributes=_plain_map(item.product_attributes),
        status=ProductStatus(item.status),
    )
    return Product(
        product_id=item.product_id,
        sku=item.sku,
        details=details,
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
        version=int(item.version or 0),
        availability=_availability(item),
    )


def _availability(item: ProductItem) -> Availability:
    stored = item.availability
    if stored is None or not item.availability_at:
        return UNKNOWN_AVAILABILITY
    try:
        level = StockLevel(stored.level)
    except ValueError:
        return UNKNOWN_AVAILABILITY
    units = stored.available
    return Availability(level, None if units is None else int(units), item.availability_at)


def to_item(model: type[ProductItem], product: Product, *, correlation_id: str = "") -> ProductItem:
    """The item for a product, with the gsi keys set exactly when it is active."""
    d = product.details
    pk, sk = product_key(product.product_id)
    item = model(
        pk,
        sk,
        product_id=product.product_id,
        sku=product.sku,
        title=d.title,
        description=d.description,
        price=MoneyAttribute(amount=d.price.amount, currency=d.price.currency),
        category=d.category,
        brand=d.brand,
        images=list(d.images),
        product_attributes=MapAttribute(**dict(d.attributes)),
        status=d.status.value,
        created_at=utc_iso(product.created_at),
        updated_at=utc_iso(product.updated_at),
        correlation_id=correlation_id or None,
        written_by=WRITTEN_BY_CATALOG,
    )
    if product.version:
        item.version = product.version
    if product.availability.as_of:
        a = product.availability
        item.availability = AvailabilityAttribute(level=a.level.value, available=a.available)
        item.availability_at = a.as_of
    if product.is_active:
        item.gsi1pk = partition_key(Partition(None, product.shard))[1]
        item.gsi1sk = product.product_id
        item.gsi2pk = partition_key(Partition(d.category, product.shard))[1]
        item.gsi2sk = product.product_id
    return item


def product_from_image(image: dict[str, Any] | None) -> tuple[Product, str] | None:
    """A product and the correlation id of its last change from a stream image (DynamoDB JSON); ``None`` when the
    image is not a product."""
    if not image or image.get("entity", {}).get("S") != PRODUCT:
        return None
    item = ProductItem.from_raw_data(image)
    return to_domain(item), item.correlation_id or ""


# -- repositories ----------------------------------------------------------------------------------------------------
class DynamoProductRepository:
    """:class:`ecommerce.catalog.service.ProductRepository` over the e-commerce table."""

    def __init__(self, table_name: str) -> None:
        self.model = product_model(table_name)

    def get(self, product_id: str) -> Product | None:
        if not product_id or len(product_id) > MAX_ID_LENGTH:
            return None  # no such id was ever issued, and an over-long key would be a 500 from DynamoDB
        pk, sk = product_key(product_id)
        try:
            return to_domain(self.model.get(pk, sk))
        except self.model.DoesNotExist:
            return None

    def add(self, product: Product, *, correlation_id: str = "") -> Product:
        item = to_item(self.model, replace(product, version=0), correlation_id=correlation_id)
        try:
            item.save(condition=self.model.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ProductExists(
                    f"SKU {product.sku} already has a product ({product.product_id}).", productId=product.product_id
                ) from exc
            raise
        return to_domain(item)

    def save(self, product: Product, *, expected_version: int, correlation_id: str = "") -> Product:
        """Replace the item if still at ``expected_version``. The put carries the availability read with the
        product, so it is also conditional on that availability: if inventory changed it meanwhile (which bumps
        no version), the write is redone with the fresh availability instead of putting back a stale one."""
        for _ in range(3):
            item = to_item(self.model, replace(product, version=expected_version), correlation_id=correlation_id)
            as_of = product.availability.as_of
            unchanged = self.model.availability_at == as_of if as_of else self.model.availability_at.does_not_exist()
            try:
                item.save(condition=unchanged)  # the VersionAttribute adds version == expected_version
            except PutError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                current = self.get(product.product_id)
                if current is None or current.version != expected_version:
                    extra = {"currentVersion": current.version} if current else {}
                    raise StaleProduct("The product was changed or removed meanwhile; read it again.", **extra) from exc
                product = replace(product, availability=current.availability)
                continue
            return to_domain(item)
        raise StaleProduct("The product kept changing meanwhile; read it again.")

    def query_active(
        self, partition: Partition, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Product], dict[str, Any] | None]:
        index_name, hash_value = partition_key(partition)
        index = self.model.active_index if index_name == "gsi1" else self.model.category_index
        if start is not None:
            _check_start_key(start, index_name, hash_value)
        results = index.query(hash_value, limit=limit, page_size=limit, last_evaluated_key=start)
        items = [to_domain(item) for item in results]
        return items, results.last_evaluated_key

    # -- bulk, for the seed ------------------------------------------------------------------------------------
    def existing_ids(self, product_ids: Iterable[str]) -> set[str]:
        """Which of these products are stored (BatchGetItem, keys only)."""
        ids = list(dict.fromkeys(product_ids))
        found: set[str] = set()
        for start in range(0, len(ids), BATCH_GET):
            keys = [product_key(pid) for pid in ids[start : start + BATCH_GET]]
            for item in self.model.batch_get(keys, attributes_to_get=["pk"]):
                found.add(item.pk.removeprefix(PRODUCT_PREFIX))
        return found

    def put_many(self, products: Iterable[Product], *, correlation_id: str = "") -> int:
        """Write products unconditionally in BatchWriteItem calls of 25 (each stored as given, version >= 1)."""
        count = 0
        with self.model.batch_write() as batch:
            for product in products:
                stored = product if product.version >= 1 else replace(product, version=1)
                batch.save(to_item(self.model, stored, correlation_id=correlation_id))
                count += 1
        return count


_ACTIVE_KEYS = {"gsi1": ("gsi1pk", "gsi1sk"), "gsi2": ("gsi2pk", "gsi2sk")}


def _check_start_key(start: dict[str, Any], index_name: str, hash_value: str) -> None:
    """A cursor's storage key must be one this partition's Query could have returned."""
    hash_name, range_name = _ACTIVE_KEYS[index_name]
    if set(start) != {"pk", "sk", hash_name, range_name}:
        raise InvalidCursor("The cursor is not valid.")
    for value in start.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str) and value["S"]):
            raise InvalidCursor("The cursor is not valid.")
    if start[hash_name]["S"] != hash_value or not start["pk"]["S"].startswith(PRODUCT_PREFIX):
        raise InvalidCursor("The cursor is not valid.")


class DynamoCategorySource:
    """:class:`ecommerce.catalog.service.CategorySource`: every category is in one partition, read with one Query."""

    def __init__(self, table_name: str) -> None:
        self.model = category_model(table_name)

    def all(self) -> list[Category]:
        return [
            Category(c.category_id, c.name, c.parent, int(c.position or 0))
            for c in self.model.query(CATEGORY_PK, self.model.sk.startswith(CATEGORY_PREFIX))
        ]

    def put_many(self, categories: Iterable[Category]) -> int:
        count = 0
        with self.model.batch_write() as batch:
            for c in categories:
                batch.save(
                    self.model(
                        CATEGORY_PK,
                        CATEGORY_PREFIX + c.category_id,
                        category_id=c.category_id,
                        name=c.name,
                        parent=c.parent,
                        position=c.position,
                    )
                )
                count += 1
        return count
