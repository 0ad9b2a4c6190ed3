from __future__ import annotations

import pytest

from ecommerce.catalog import service
from ecommerce.catalog.domain import Category, InvalidSku, Money, ProductDetails, ProductStatus, product_id_for_sku
from ecommerce.catalog.service import ArchiveProduct, CategoryCatalog, CreateProduct, ShowProduct, UpdateProduct
from ecommerce.errors import InvalidProduct, ProductExists, ProductNotFound, StaleProduct, UnknownCategory
from tests.unit.ecommerce.fakes import TREE, FakeClock, InMemoryCategories, InMemoryProducts, Monotonic


@pytest.fixture
def products() -> InMemoryProducts:
    return InMemoryProducts()


@pytest.fixture
def source() -> InMemoryCategories:
    return InMemoryCategories(TREE)


@pytest.fixture
def categories(source: InMemoryCategories) -> CategoryCatalog:
    return CategoryCatalog(source, clock=Monotonic())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def mug(category: str = "mugs", status: ProductStatus = ProductStatus.DRAFT, amount: int = 350) -> ProductDetails:
    return ProductDetails(title="Mug", price=Money(amount, "GBP"), category=category, status=status)


def test_create_stores_version_one_under_the_skus_id(products, categories, clock) -> None:
    created = service.create_product(CreateProduct("m-1", mug(), correlation_id="c-1"), products, categories, clock)
    assert created.version == 1
    assert created.product_id == product_id_for_sku("M-1")
    assert created.created_at == clock.now
    assert products.correlation[created.product_id] == "c-1"


def test_the_same_sku_twice_is_a_conflict_whatever_its_case(products, categories) -> None:
    service.create_product(CreateProduct("m-1", mug()), products, categories)
    with pytest.raises(ProductExists):
        service.create_product(CreateProduct("M-1", mug()), products, categories)


def test_create_refuses_unknown_categories_and_archived_products(products, categories) -> None:
    with pytest.raises(UnknownCategory):
        service.create_product(CreateProduct("m-1", mug(category="nope")), products, categories)
    with pytest.raises(InvalidProduct):
        service.create_product(CreateProduct("m-1", mug(status=ProductStatus.ARCHIVED)), products, categories)
    assert products.items == {}


def test_a_sku_with_a_slash_is_refused_before_anything_is_stored(products, categories) -> None:
    with pytest.raises(InvalidSku) as refused:
        service.create_product(CreateProduct("SL/15551", mug()), products, categories)
    assert "'/'" in str(refused.value)
    assert products.items == {}


def test_a_category_added_after_the_tree_was_cached_is_found(products, source, categories) -> None:
    categories.tree()
    source.categories.append(Category("new", "New"))
    categories._clock.value += 5  # type: ignore[attr-defined]
    assert service.create_product(CreateProduct("m-1", mug(category="new")), products, categories).version == 1


def test_update_replaces_details_and_moves_the_version_on(products, categories, clock) -> None:
    created = service.create_product(CreateProduct("m-1", mug()), products, categories, clock)
    clock.tick(60)
    cmd = UpdateProduct(created.product_id, mug(amount=400, status=ProductStatus.ACTIVE), expected_version=1)
    updated = service.update_product(cmd, products, categories, clock)
    assert (updated.version, updated.details.price.amount, updated.updated_at) == (2, 400, clock.now)
    assert updated.created_at == created.created_at


def test_a_stale_update_is_a_conflict_that_says_the_current_version(products, categories) -> None:
    created = service.create_product(CreateProduct("m-1", mug()), products, categories)
    service.update_product(UpdateProduct(created.product_id, mug(amount=1), expected_version=1), products, categories)
    with pytest.raises(StaleProduct) as caught:
        service.update_product(
            UpdateProduct(created.product_id, mug(amount=2), expected_version=1), products, categories
        )
    assert caught.value.extra["currentVersion"] == 2
    assert products.items[created.product_id].details.price.amount == 1


def test_update_without_a_version_takes_the_current_one(products, categories) -> None:
    created = service.create_product(CreateProduct("m-1", mug()), products, categories)
    cmd = UpdateProduct(created.product_id, mug(amount=5), expected_version=None)
    updated = service.update_product(cmd, products, categories)
    assert updated.version == 2


def test_the_sku_cannot_change(products, categories) -> None:
    created = service.create_product(CreateProduct("m-1", mug()), products, categories)
    with pytest.raises(InvalidProduct):
        service.update_product(
            UpdateProduct(created.product_id, mug(), expected_version=1, sku="m-2"), products, categories
        )
    same = service.update_product(
        UpdateProduct(created.product_id, mug(), expected_version=1, sku="m-1"), products, categories
    )
    assert same.sku == "M-1"


def test_update_of_a_missing_product_is_not_found(products, categories) -> None:
    with pytest.raises(ProductNotFound):
        service.update_product(UpdateProduct("nope", mug(), expected_version=1), products, categories)


def test_archive_hides_the_product_and_can_be_repeated(products, categories) -> None:
    created = service.create_product(CreateProduct("m-1", mug(status=ProductStatus.ACTIVE)), products, categories)
    assert service.get_active_product(ShowProduct(created.product_id), products) == created
    archived = service.archive_product(ArchiveProduct(created.product_id), products)
    assert archived.status is ProductStatus.ARCHIVED
    assert service.archive_product(ArchiveProduct(created.product_id), products).version == archived.version
    with pytest.raises(ProductNotFound):
        service.get_active_product(ShowProduct(created.product_id), products)
    with pytest.raises(StaleProduct):
        service.archive_product(ArchiveProduct(created.product_id, expected_version=1), products)


def test_archived_products_can_be_restored(products, categories) -> None:
    created = service.create_product(CreateProduct("m-1", mug(status=ProductStatus.ACTIVE)), products, categories)
    archived = service.archive_product(ArchiveProduct(created.product_id), products)
    cmd = UpdateProduct(created.product_id, mug(status=ProductStatus.ACTIVE), expected_version=archived.version)
    restored = service.update_product(cmd, products, categories)
    assert service.get_active_product(ShowProduct(created.product_id), products) == restored


def test_drafts_are_not_public(products, categories) -> None:
    created = service.create_product(CreateProduct("m-1", mug()), products, categories)
    with pytest.raises(ProductNotFound):
        service.get_active_product(ShowProduct(created.product_id), products)


def test_the_category_tree_is_cached_for_a_minute(source) -> None:
    clock = Monotonic()
    catalog = CategoryCatalog(source, ttl=60, clock=clock)
    catalog.tree()
    clock.value += 59
    catalog.tree()
    assert source.loads == 1
    clock.value += 1
    catalog.tree()
    assert source.loads == 2


def test_unknown_categories_reload_at_most_once_a_second(source) -> None:
    clock = Monotonic()
    catalog = CategoryCatalog(source, clock=clock, miss_interval=1)
    catalog.tree()
    for _ in range(5):
        assert "made-up" not in catalog.tree_with("made-up")
    assert source.loads == 1
    clock.value += 1
    catalog.tree_with("made-up")
    assert source.loads == 2
