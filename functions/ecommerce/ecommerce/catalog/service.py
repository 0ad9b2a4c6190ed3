"""The catalog's use cases: plain functions, each taking one command and its ports (a product repository, the
category catalog, a clock).

The HTTP layer turns requests into commands; tests hand in the in-memory fakes of ``tests/unit/ecommerce``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ecommerce.catalog.domain import (
    Category,
    CategoryTree,
    Partition,
    Product,
    ProductDetails,
    ProductStatus,
    listing_partitions,
    normalise_sku,
)
from ecommerce.errors import (
    InvalidCursor,
    InvalidProduct,
    ProductNotFound,
    StaleProduct,
    UnknownCategory,
    UnknownCategoryFilter,
)
from gears_shared.clock import utc_now

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CATEGORY_TTL_SECONDS = 60.0

Clock = Callable[[], datetime]


# -- ports -----------------------------------------------------------------------------------------------------------
class ProductRepository(Protocol):
    def get(self, product_id: str) -> Product | None: ...

    def add(self, product: Product, *, correlation_id: str = "") -> Product:
        """Store a new product (version 1); :class:`ProductExists` when its id is taken."""
        ...

    def save(self, product: Product, *, expected_version: int, correlation_id: str = "") -> Product:
        """Replace a stored product if it is still at ``expected_version``; :class:`StaleProduct` otherwise."""
        ...

    def query_active(
        self, partition: Partition, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Product], dict[str, Any] | None]:
        """Up to ``limit`` active products of one partition after ``start``, and where to go on (``None``: done).

        ``start`` is whatever an earlier call returned, handed back through a client: the repository checks it
        and raises :class:`InvalidCursor` for anything it did not make for this partition.
        """
        ...


class CategorySource(Protocol):
    def all(self) -> list[Category]: ...


class CategoryCatalog:
    """The category tree, loaded from its source and kept in-process for ``ttl`` seconds.

    Categories change rarely and every listing needs them; a warm function reads them once a minute at most. A
    request that names a category the cached tree lacks reloads it first (:meth:`tree_with`), at most once every
    ``miss_interval`` seconds so that requests for made-up categories cannot turn into a read each.
    """

    def __init__(
        self,
        source: CategorySource,
        ttl: float = CATEGORY_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        miss_interval: float = 1.0,
    ) -> None:
        self._source = source
        self._ttl = ttl
        self._clock = clock
        self._miss_interval = miss_interval
        self._tree: CategoryTree | None = None
        self._loaded_at = 0.0

    def tree(self) -> CategoryTree:
        if self._tree is None or self._clock() - self._loaded_at >= self._ttl:
            return self.refresh()
        return self._tree

    def tree_with(self, category_id: str) -> CategoryTree:
        """The tree, reloaded first if it lacks ``category_id`` and was not just loaded."""
        tree = self.tree()
        if category_id not in tree and self._clock() - self._loaded_at >= self._miss_interval:
            tree = self.refresh()
        return tree

    def refresh(self) -> CategoryTree:
        self._tree = CategoryTree(self._source.all())
        self._loaded_at = self._clock()
        return self._tree

    def invalidate(self) -> None:
        """Forget the cached tree (the next read loads it)."""
        self._tree = None


# -- commands and results --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShowProduct:
    product_id: str


@dataclass(frozen=True)
class ListProducts:
    """One page of the active products: of ``category`` (and its subcategories) when given, from ``position`` (a
    page's ``next_position``) when given, at most ``limit`` (see :func:`clamp_limit`)."""

    category: str | None = None
    limit: int | None = None
    position: dict[str, Any] | None = None


@dataclass(frozen=True)
class CreateProduct:
    sku: str
    details: ProductDetails
    correlation_id: str = ""


@dataclass(frozen=True)
class UpdateProduct:
    """Replace a product's details. ``expected_version=None`` means "the version just read" (``If-Match: *``);
    ``sku``, when given, must be the stored one."""

    product_id: str
    details: ProductDetails
    expected_version: int | None
    sku: str | None = None
    correlation_id: str = ""


@dataclass(frozen=True)
class ArchiveProduct:
    product_id: str
    expected_version: int | None = None
    correlation_id: str = ""


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    next_position: dict[str, Any] | None


def _require_category(categories: CategoryCatalog, category: str) -> None:
    if category in categories.tree_with(category):
        return
    raise UnknownCategory(f"There is no category {category!r}.", category=category)


# -- reads -----------------------------------------------------------------------------------------------------------
def get_active_product(query: ShowProduct, products: ProductRepository) -> Product:
    """A product a shopper may see; drafts and archived products do not exist for them (404)."""
    product = products.get(query.product_id)
    if product is None or not product.is_active:
        raise ProductNotFound("There is no such product.")
    return product


def clamp_limit(limit: int | None) -> int:
    """The page size actually served: the default when absent, at most :data:`MAX_LIMIT`."""
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def list_active_products(query: ListProducts, products: ProductRepository, categories: CategoryCatalog) -> ProductPage:
    """One page of active products, optionally of a category (and its subcategories).

    The listing reads its partitions (see :func:`ecommerce.catalog.domain.listing_partitions`) one after the other;
    a position names the partition to go on with and the storage key inside it, so every product is served exactly
    once across pages while the catalog does not change. Order is by partition, then by product id within it.
    """
    size = clamp_limit(query.limit)
    category = query.category
    tree = categories.tree() if category is None else categories.tree_with(category)
    if category is not None and category not in tree:
        raise UnknownCategoryFilter(f"There is no category {category!r}.", category=category)
    partitions = listing_partitions(tree, category)
    index, key = _resume(partitions, query.position)
    items: list[Product] = []
    while index < len(partitions):
        got, last = products.query_active(partitions[index], size - len(items), key)
        items.extend(got)
        if len(items) >= size:
            if last is not None:
                return ProductPage(items, _position(partitions[index], last))
            if index + 1 < len(partitions):
                return ProductPage(items, _position(partitions[index + 1], None))
            return ProductPage(items, None)
        index, key = index + 1, None
    return ProductPage(items, None)


def _position(partition: Partition, key: dict[str, Any] | None) -> dict[str, Any]:
    return {"c": partition.category, "s": partition.shard, "k": key}


def _resume(partitions: Sequence[Partition], position: dict[str, Any] | None) -> tuple[int, dict[str, Any] | None]:
    if not position:
        return 0, None
    shard, key = position.get("s"), position.get("k")
    wanted = (position.get("c"), shard)
    for i, partition in enumerate(partitions):
        if (partition.category, partition.shard) == wanted and isinstance(shard, int):
            if key is not None and not isinstance(key, dict):
                break
            return i, key
    raise InvalidCursor("The cursor does not belong to this listing; start again without it.")


def category_tree(categories: CategoryCatalog) -> CategoryTree:
    return categories.tree()


# -- writes ----------------------------------------------------------------------------------------------------------
def create_product(
    cmd: CreateProduct, products: ProductRepository, categories: CategoryCatalog, clock: Clock = utc_now
) -> Product:
    """A new product (draft or active). The id comes from the SKU, so a SKU already in the catalog is a conflict.

    A malformed SKU raises :class:`ecommerce.catalog.domain.InvalidSku`, before anything else is looked at.
    """
    sku = normalise_sku(cmd.sku)
    if cmd.details.status is ProductStatus.ARCHIVED:
        raise InvalidProduct("A new product is a draft or active; archive it later with DELETE.")
    _require_category(categories, cmd.details.category)
    product = Product.new(sku, cmd.details, clock())
    return products.add(product, correlation_id=cmd.correlation_id)


def _current(products: ProductRepository, product_id: str, expected_version: int | None) -> Product:
    """The stored product, if it is at ``expected_version`` (any version when ``None``)."""
    current = products.get(product_id)
    if current is None:
        raise ProductNotFound("There is no such product.")
    if expected_version is not None and current.version != expected_version:
        raise StaleProduct(
            f"The product is at version {current.version}, not {expected_version}; read it again.",
            currentVersion=current.version,
        )
    return current


def update_product(
    cmd: UpdateProduct, products: ProductRepository, categories: CategoryCatalog, clock: Clock = utc_now
) -> Product:
    """Replace a product's details if nobody changed it since ``cmd.expected_version`` (else 409).

    ``expected_version=None`` means "the version just read" (``If-Match: *``): the write is still conditional, so a
    concurrent change between the read and the write is a 409 all the same.

    Any status may be set, so an archived product can be restored. The SKU is the product's identity: one that
    differs from the stored SKU is refused.
    """
    current = _current(products, cmd.product_id, cmd.expected_version)
    if cmd.sku is not None and normalise_sku(cmd.sku) != current.sku:
        raise InvalidProduct("The SKU of a product cannot change; create a new product instead.")
    if cmd.details.category != current.details.category:
        _require_category(categories, cmd.details.category)
    revised = current.revise(cmd.details, clock())
    return products.save(revised, expected_version=current.version, correlation_id=cmd.correlation_id)


def archive_product(cmd: ArchiveProduct, products: ProductRepository, clock: Clock = utc_now) -> Product:
    """Archive a product (what DELETE means): it leaves every listing and public read, its record stays.

    Archiving an archived product changes nothing and succeeds, so DELETE can be retried.
    """
    current = _current(products, cmd.product_id, cmd.expected_version)
    if current.status is ProductStatus.ARCHIVED:
        return current
    return products.save(current.archive(clock()), expected_version=current.version, correlation_id=cmd.correlation_id)
