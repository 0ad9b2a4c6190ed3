"""The catalog's domain: products, their prices and life cycle, the category tree, and how listings are partitioned.

Standard library only: no storage, no HTTP, no framework. The rules here hold whoever writes a product (the admin
API, the seed, a future import).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# Active listings are spread over this many partitions so that no single GSI partition takes every write.
SHARDS = 8
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
# The one rule for a SKU, the same in the inventory's domain: no '/', so that every SKU is one path segment of
# ``/inventory/{sku}`` (a '/' made a product that could be created here but never stocked there).
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,63}$")
SKU_RULE = "A SKU is 1-64 letters, digits, '_', '.' or '-' (no '/'), starting with a letter or digit."
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
# Product ids are derived from the SKU, so the same SKU is the same product everywhere (seed, admin API, reseed).
PRODUCT_ID_NAMESPACE = uuid.UUID("5b0f7c1e-2b7a-4c61-9a43-0d9e3f6c8a11")


class CatalogRuleError(ValueError):
    """A product or category breaks a rule of the catalog (the API answers 422 ``invalid-product``)."""

    title = "Invalid product"
    code = "invalid-product"


class InvalidSku(CatalogRuleError):
    """Not a SKU (see :data:`SKU_RULE`): a malformed request rather than a broken rule (the API answers 400)."""

    title = "Invalid SKU"
    code = "invalid-sku"


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class StockLevel(StrEnum):
    """How much of a product the shop can sell, as inventory last told us. ``unknown``: inventory has said
    nothing yet (a new product, or a shop without stock records); shoppers may still order it and the order saga
    decides (a reservation that fails cancels the order)."""

    UNKNOWN = "unknown"
    IN_STOCK = "in_stock"
    LOW = "low"
    OUT = "out"


@dataclass(frozen=True)
class Availability:
    """A product's availability, kept from inventory's ``StockLevelChanged`` events (not part of the product's
    details: it changes no version and publishes no product event). ``as_of`` is the time of the event it came
    from, so an older event never overwrites a newer one."""

    level: StockLevel = StockLevel.UNKNOWN
    available: int | None = None
    as_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level.value, "available": self.available, "asOf": self.as_of}


UNKNOWN_AVAILABILITY = Availability()


def normalise_sku(sku: str) -> str:
    """SKUs are case-insensitive codes: stored trimmed and upper-cased (``85123a`` is ``85123A``)."""
    value = sku.strip().upper()
    if not SKU_PATTERN.match(value):
        raise InvalidSku(SKU_RULE)
    return value


def product_id_for_sku(sku: str) -> str:
    """The product id a SKU always maps to (a UUID 5), so that creating a product twice is a conflict."""
    return str(uuid.uuid5(PRODUCT_ID_NAMESPACE, normalise_sku(sku)))


def shard_of(product_id: str, shards: int = SHARDS) -> int:
    """A stable shard for a product (not Python's ``hash``, which changes from process to process)."""
    digest = hashlib.sha256(product_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % shards


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, the one time format the catalog stores and shows."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Money:
    """An amount in minor units (pence, cents) of an ISO 4217 currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise CatalogRuleError("A price is a whole, non-negative number of minor units.")
        if not CURRENCY_PATTERN.match(self.currency):
            raise CatalogRuleError("A currency is an ISO 4217 code: three upper-case letters.")


@dataclass(frozen=True)
class ProductDetails:
    """What an administrator decides about a product: everything but its identity and bookkeeping."""

    title: str
    price: Money
    category: str
    description: str = ""
    brand: str | None = None
    images: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    status: ProductStatus = ProductStatus.DRAFT

    def __post_init__(self) -> None:
        title = self.title.strip()
        if not title or len(title) > TITLE_MAX:
            raise CatalogRuleError(f"A title has 1 to {TITLE_MAX} characters.")
        if len(self.description) > DESCRIPTION_MAX:
            raise CatalogRuleError(f"A description has at most {DESCRIPTION_MAX} characters.")
        if not self.category:
            raise CatalogRuleError("A product belongs to a category.")
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "status", ProductStatus(self.status))
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "attributes", dict(self.attributes))


@dataclass(frozen=True)
class Product:
    """A product of the catalog. ``version`` counts stored revisions (0: never stored)."""

    product_id: str
    sku: str
    details: ProductDetails
    created_at: datetime
    updated_at: datetime
    version: int = 0
    availability: Availability = UNKNOWN_AVAILABILITY

    @classmethod
    def new(cls, sku: str, details: ProductDetails, now: datetime) -> Product:
        sku = normalise_sku(sku)
        return cls(product_id=product_id_for_sku(sku), sku=sku, details=details, created_at=now, updated_at=now)

    @property
    def status(self) -> ProductStatus:
        return self.details.status

    @property
    def is_active(self) -> bool:
        return self.details.status is ProductStatus.ACTIVE

    @property
    def shard(self) -> int:
        return shard_of(self.product_id)

    def revise(self, details: ProductDetails, now: datetime) -> Product:
        """The product with new details; the SKU (and so the id) never changes."""
        return replace(self, details=details, updated_at=now)

    def archive(self, now: datetime) -> Product:
        """Archived products leave every listing but stay readable by id for orders that refer to them."""
        return replace(self, details=replace(self.details, status=ProductStatus.ARCHIVED), updated_at=now)

    def to_dict(self) -> dict[str, Any]:
        """The product as the API and the events show it."""
        d = self.details
        return {
            "productId": self.product_id,
            "sku": self.sku,
            "title": d.title,
            "description": d.description,
            "price": {"amount": d.price.amount, "currency": d.price.currency},
            "category": d.category,
            "brand": d.brand,
            "images": list(d.images),
            "attributes": dict(d.attributes),
            "status": d.status.value,
            "createdAt": utc_iso(self.created_at),
            "updatedAt": utc_iso(self.updated_at),
            "version": self.version,
        }

    def to_view(self) -> dict[str, Any]:
        """The product as the API shows it: :meth:`to_dict` (what the product events carry) and its availability."""
        return {**self.to_dict(), "availability": self.availability.to_dict()}


# -- categories ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Category:
    category_id: str
    name: str
    parent: str | None = None
    position: int = 0


class CategoryTree:
    """The categories as a tree: every parent exists, no cycles, children ordered by position then name."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._by_id: dict[str, Category] = {}
        for category in categories:
            if category.category_id in self._by_id:
                raise CatalogRuleError(f"Category {category.category_id!r} is defined twice.")
            self._by_id[category.category_id] = category
        self._children: dict[str | None, list[Category]] = {}
        for category in self._by_id.values():
            if category.parent is not None and category.parent not in self._by_id:
                raise CatalogRuleError(f"Category {category.category_id!r} has an unknown parent {category.parent!r}.")
            self._children.setdefault(category.parent, []).append(category)
        for siblings in self._children.values():
            siblings.sort(key=lambda c: (c.position, c.name, c.category_id))
        reachable = self._walk(None)
        if len(reachable) != len(self._by_id):
            raise CatalogRuleError("The categories contain a cycle.")

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, category_id: str) -> Category | None:
        return self._by_id.get(category_id)

    def children(self, category_id: str | None) -> list[Category]:
        return list(self._children.get(category_id, []))

    def _walk(self, root: str | None) -> list[str]:
        out: list[str] = [] if root is None else [root]
        stack = list(reversed(self._children.get(root, [])))
        while stack:
            category = stack.pop()
            out.append(category.category_id)
            stack.extend(reversed(self._children.get(category.category_id, [])))
        return out

    def subtree(self, category_id: str) -> list[str]:
        """The category and all its descendants, depth first, in display order."""
        if category_id not in self._by_id:
            raise KeyError(category_id)
        return self._walk(category_id)

    def path(self, category_id: str) -> list[str]:
        """The ids from the root down to the category."""
        out: list[str] = []
        current: str | None = category_id
        while current is not None:
            out.append(current)
            current = self._by_id[current].parent
        return list(reversed(out))

    def as_nested(self) -> list[dict[str, Any]]:
        """The tree as the API shows it: ``{id, name, parent, children}`` from the roots down."""

        def node(category: Category) -> dict[str, Any]:
            return {
                "id": category.category_id,
                "name": category.name,
                "parent": category.parent,
                "children": [node(c) for c in self._children.get(category.category_id, [])],
            }

        return [node(c) for c in self._children.get(None, [])]


# -- listing partitions ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Partition:
    """One partition of the active-product listing: a shard of everything, or a shard of one category."""

    category: str | None
    shard: int


def listing_partitions(tree: CategoryTree, category: str | None = None, shards: int = SHARDS) -> list[Partition]:
    """The partitions a listing reads, in the order it pages through them.

    Without a category: every shard of all active products. With one: every shard of that category and of each
    category below it, so that "Decorations" lists its Christmas decorations too.
    """
    if category is None:
        return [Partition(None, shard) for shard in range(shards)]
    return [Partition(c, shard) for c in tree.subtree(category) for shard in range(shards)]
