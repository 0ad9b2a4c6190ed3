"""The cart and checkout use cases with in-memory ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ecommerce import shopping
from ecommerce.cart import ShippingAddress, fingerprint
from ecommerce.domain import Money, Product, ProductDetails, ProductStatus
from ecommerce.errors import (
    CartChanged,
    CartRuleViolated,
    IdempotencyKeyReused,
    NotInCart,
    ProductNotFound,
    ProductUnavailable,
)
from tests.unit.ecommerce.fakes import CatalogLookup, FakeClock, InMemoryCarts, InMemoryCheckouts, InMemoryProducts

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADDRESS = ShippingAddress("Ann", "1 High St", "Leeds", "LS1 1AA", "GB")


class World:
    def __init__(self) -> None:
        self.products = InMemoryProducts()
        self.catalog = CatalogLookup(self.products)
        self.carts = InMemoryCarts()
        self.checkouts = InMemoryCheckouts(self.carts)
        self.clock = FakeClock(NOW)

    def product(self, sku: str, amount: int = 1000, status: ProductStatus = ProductStatus.ACTIVE) -> Product:
        details = ProductDetails(f"Item {sku}", Money(amount, "GBP"), "mugs", status=status)
        return self.products.add(Product.new(sku, details, NOW))

    def put(self, user: str, product_id: str, quantity: int) -> shopping.PricedCart:
        return shopping.set_quantity(
            user, product_id, quantity, carts=self.carts, catalog=self.catalog, clock=self.clock
        )

    def view(self, user: str) -> dict:
        return shopping.view_cart(user, carts=self.carts, catalog=self.catalog, clock=self.clock).to_dict()

    def checkout(self, user: str, key: str, payment: str = "pm_card_visa") -> shopping.CheckoutResult:
        request = shopping.CheckoutRequest(ADDRESS, payment, fingerprint({"pm": payment}))
        return shopping.checkout(user, key, request, store=self.checkouts, catalog=self.catalog, clock=self.clock)


@pytest.fixture
def world() -> World:
    return World()


def test_a_customer_fills_changes_and_empties_a_cart(world: World) -> None:
    mug, plate = world.product("MUG", 1250), world.product("PLATE", 300)
    world.put("u1", mug.product_id, 2)
    priced = world.put("u1", plate.product_id, 1)
    assert priced.subtotal == Money(2800, "GBP")
    world.put("u1", mug.product_id, 5)
    assert world.view("u1")["subtotal"]["amount"] == 5 * 1250 + 300
    after = shopping.remove_line("u1", plate.product_id, carts=world.carts, catalog=world.catalog, clock=world.clock)
    assert [li.line.product_id for li in after.lines] == [mug.product_id]
    shopping.clear_cart("u1", carts=world.carts)
    assert world.view("u1")["lines"] == []
    assert world.view("u2")["lines"] == []  # another customer's cart was never touched


def test_unknown_draft_and_archived_products_cannot_be_added(world: World) -> None:
    draft = world.product("DRAFT", status=ProductStatus.DRAFT)
    archived = world.product("OLD", status=ProductStatus.ARCHIVED)
    with pytest.raises(ProductNotFound):
        world.put("u1", "no-such-product", 1)
    with pytest.raises(ProductNotFound):
        world.put("u1", draft.product_id, 1)
    with pytest.raises(ProductUnavailable):
        world.put("u1", archived.product_id, 1)
    assert world.carts.saves == 0


def test_a_full_cart_is_a_422_with_its_code(world: World) -> None:
    for i in range(50):
        world.put("u1", world.product(f"P{i}").product_id, 1)
    with pytest.raises(CartRuleViolated) as raised:
        world.put("u1", world.product("P50").product_id, 1)
    assert (raised.value.status, raised.value.code) == (422, "cart-full")


def test_removing_a_product_not_in_the_cart_is_404(world: World) -> None:
    with pytest.raises(NotInCart):
        shopping.remove_line("u1", "nope", carts=world.carts, catalog=world.catalog)


def test_a_change_that_lost_a_race_is_redone_on_the_fresh_cart(world: World) -> None:
    mug, plate = world.product("MUG"), world.product("PLATE")
    world.put("u1", mug.product_id, 1)
    world.carts.interfere = lambda: world.put("u1", plate.product_id, 2)  # another tab adds a plate meanwhile
    priced = world.put("u1", mug.product_id, 3)
    assert {li.line.product_id: li.line.quantity for li in priced.lines} == {mug.product_id: 3, plate.product_id: 2}


def test_viewing_reads_the_catalog_once_and_an_empty_cart_not_at_all(world: World) -> None:
    world.view("u1")
    assert world.catalog.reads == []
    mug, plate = world.product("MUG"), world.product("PLATE")
    world.put("u1", mug.product_id, 1)
    world.put("u1", plate.product_id, 1)
    world.catalog.reads.clear()
    world.view("u1")
    assert world.catalog.reads == [[mug.product_id, plate.product_id]]


def test_checkout_places_one_order_from_current_prices_and_empties_the_cart(world: World) -> None:
    mug = world.product("MUG", 1250)
    world.put("u1", mug.product_id, 2)
    world.products.items[mug.product_id] = replace(mug, details=replace(mug.details, price=Money(1500, "GBP")))
    result = world.checkout("u1", "key-000001")
    assert result.receipt["status"] == "PENDING"
    assert (result.receipt["subtotal"]["amount"], result.receipt["total"]["amount"]) == (3000, 3499)
    assert world.view("u1")["lines"] == []
    [order] = world.checkouts.orders.values()
    assert order.order_id == result.receipt["orderId"]
    assert order.payment_method == "pm_card_visa"


def test_the_same_key_answers_the_same_order_and_another_body_is_refused(world: World) -> None:
    mug = world.product("MUG")
    world.put("u1", mug.product_id, 1)
    first = world.checkout("u1", "key-000001")
    again = world.checkout("u1", "key-000001")
    assert (again.receipt, again.replayed) == (first.receipt, True)
    assert len(world.checkouts.orders) == 1
    with pytest.raises(IdempotencyKeyReused):
        world.checkout("u1", "key-000001", payment="pm_card_chargeDeclined")


def test_a_racing_retry_of_the_same_key_gets_the_first_answer(world: World) -> None:
    mug = world.product("MUG")
    world.put("u1", mug.product_id, 1)
    results: list[shopping.CheckoutResult] = []
    world.checkouts.before_place = lambda: results.append(world.checkout("u1", "key-000001"))
    second = world.checkout("u1", "key-000001")
    assert second.receipt["orderId"] == results[0].receipt["orderId"]
    assert len(world.checkouts.orders) == 1


def test_a_cart_changed_during_checkout_places_no_order_and_keeps_the_cart(world: World) -> None:
    mug, plate = world.product("MUG"), world.product("PLATE")
    world.put("u1", mug.product_id, 1)
    world.checkouts.before_place = lambda: world.put("u1", plate.product_id, 1)
    with pytest.raises(CartChanged):
        world.checkout("u1", "key-000001")
    assert world.checkouts.orders == {}
    assert len(world.view("u1")["lines"]) == 2


def test_empty_and_unavailable_carts_cannot_check_out(world: World) -> None:
    with pytest.raises(CartRuleViolated) as empty:
        world.checkout("u1", "key-000001")
    assert empty.value.code == "empty-cart"
    mug = world.product("MUG")
    world.put("u1", mug.product_id, 1)
    world.products.items[mug.product_id] = mug.archive(NOW)
    with pytest.raises(CartRuleViolated) as unavailable:
        world.checkout("u1", "key-000002")
    assert unavailable.value.code == "products-unavailable"
    assert unavailable.value.extra["unavailable"][0]["productId"] == mug.product_id
    assert world.checkouts.orders == {}
    assert len(world.view("u1")["lines"]) == 1
