"""The cart and checkout use cases with in-memory ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ecommerce.cart import service
from ecommerce.cart.api import ERRORS
from ecommerce.cart.domain import CartRuleError, PricedCart, ShippingAddress, fingerprint
from ecommerce.catalog.domain import Availability, Money, Product, ProductDetails, ProductStatus, StockLevel
from ecommerce.errors import (
    CartChanged,
    CheckoutNotFound,
    IdempotencyKeyReused,
    NotInCart,
    ProductNotFound,
    ProductUnavailable,
)
from gears_shared.errors import status_of
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

    def put(self, user: str, product_id: str, quantity: int) -> PricedCart:
        return service.set_quantity(
            service.SetQuantity(user, product_id, quantity), self.carts, self.catalog, self.clock
        )

    def view(self, user: str) -> dict:
        return service.view_cart(service.ViewCart(user), self.carts, self.catalog, self.clock).to_dict()

    def checkout(
        self, user: str, key: str, payment: str = "pm_card_visa", public_url: str = ""
    ) -> service.CheckoutResult:
        cmd = service.Checkout(user, key, ADDRESS, payment, fingerprint({"pm": payment}), public_url=public_url)
        return service.checkout(cmd, self.checkouts, self.catalog, self.clock)

    def stock(self, product: Product, available: int) -> None:
        """Inventory said ``available`` units of ``product`` are available (the availability consumer kept it)."""
        level = StockLevel.OUT if available == 0 else StockLevel.IN_STOCK
        known = replace(product, availability=Availability(level, available, "2024-05-01T12:00:00.000Z"))
        self.products.items[product.product_id] = known


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
    after = service.remove_line(service.RemoveLine("u1", plate.product_id), world.carts, world.catalog, world.clock)
    assert [li.line.product_id for li in after.lines] == [mug.product_id]
    service.clear_cart(service.ClearCart("u1"), world.carts)
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
    with pytest.raises(CartRuleError) as raised:
        world.put("u1", world.product("P50").product_id, 1)
    assert (status_of(raised.value, ERRORS), raised.value.code) == (422, "cart-full")


def test_removing_a_product_not_in_the_cart_is_404(world: World) -> None:
    with pytest.raises(NotInCart):
        service.remove_line(service.RemoveLine("u1", "nope"), world.carts, world.catalog)


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
    results: list[service.CheckoutResult] = []
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
    with pytest.raises(CartRuleError) as empty:
        world.checkout("u1", "key-000001")
    assert empty.value.code == "empty-cart"
    mug = world.product("MUG")
    world.put("u1", mug.product_id, 1)
    world.products.items[mug.product_id] = mug.archive(NOW)
    with pytest.raises(CartRuleError) as unavailable:
        world.checkout("u1", "key-000002")
    assert unavailable.value.code == "products-unavailable"
    assert unavailable.value.extra["unavailable"][0]["productId"] == mug.product_id
    assert world.checkouts.orders == {}
    assert len(world.view("u1")["lines"]) == 1


# -- what the cart knows of stock ------------------------------------------------------------------------------------
def test_a_line_asking_more_than_the_stock_known_is_not_available_and_says_how_many_are_left(world: World) -> None:
    mug, plate = world.product("MUG", 1000), world.product("PLATE", 300)
    world.stock(mug, 3)
    world.put("u1", mug.product_id, 5)  # accepted: the cart shows what it knows, the customer decides
    world.put("u1", plate.product_id, 1)  # nothing known of its stock: available, as before
    view = world.view("u1")
    lines = {li["productId"]: li for li in view["lines"]}
    assert (lines[mug.product_id]["available"], lines[mug.product_id]["reason"]) == (False, "insufficient-stock")
    assert (lines[mug.product_id]["availableQuantity"], lines[mug.product_id]["message"]) == (3, "only 3 left")
    assert (lines[plate.product_id]["available"], lines[plate.product_id]["availableQuantity"]) == (True, None)
    assert view["checkoutReady"] is False
    assert view["subtotal"]["amount"] == 300  # the short line counts in no total, as any line that cannot be bought

    world.put("u1", mug.product_id, 3)
    assert world.view("u1")["checkoutReady"] is True


def test_checkout_refuses_a_cart_asking_more_than_the_stock_known_before_placing_anything(world: World) -> None:
    mug = world.product("MUG")
    world.stock(mug, 3)
    world.put("u1", mug.product_id, 5)
    with pytest.raises(CartRuleError) as refused:
        world.checkout("u1", "key-000001")
    assert (status_of(refused.value, ERRORS), refused.value.code) == (422, "products-unavailable")
    [line] = refused.value.extra["unavailable"]
    assert (line["productId"], line["quantity"], line["availableQuantity"]) == (mug.product_id, 5, 3)
    assert (line["reason"], line["message"]) == ("insufficient-stock", "only 3 left")
    assert "only 3 left" in str(refused.value)
    assert world.checkouts.orders == {}
    assert len(world.view("u1")["lines"]) == 1


def test_an_out_of_stock_line_says_so_and_a_product_with_no_stock_news_checks_out(world: World) -> None:
    mug, plate = world.product("MUG"), world.product("PLATE")
    world.stock(mug, 0)
    world.put("u1", mug.product_id, 1)
    [line] = world.view("u1")["lines"]
    assert (line["available"], line["message"]) == (False, "out of stock")
    world.put("u2", plate.product_id, 99)  # inventory has said nothing of plates: the order saga decides
    assert world.checkout("u2", "key-000002").receipt["status"] == "PENDING"


# -- a checkout read back --------------------------------------------------------------------------------------------
def test_a_checkout_answers_at_once_for_its_customer_only(world: World) -> None:
    mug = world.product("MUG", 1250)
    world.put("u1", mug.product_id, 2)
    receipt = world.checkout("u1", "key-000001").receipt
    shown = service.show_checkout(service.ShowCheckout("u1", receipt["orderId"]), world.checkouts)
    assert shown == {**receipt, "order": f"/orders/{receipt['orderId']}"}
    assert (shown["status"], shown["total"]["amount"]) == ("PENDING", 2999)
    with pytest.raises(CheckoutNotFound):
        service.show_checkout(service.ShowCheckout("u2", receipt["orderId"]), world.checkouts)
    with pytest.raises(CheckoutNotFound):
        service.show_checkout(service.ShowCheckout("u1", "no-such-order"), world.checkouts)


# -- how the order is paid -------------------------------------------------------------------------------------------
def test_a_paypal_checkout_places_a_paypal_order_and_answers_the_link_to_paypal(world: World) -> None:
    mug = world.product("MUG", 1250)
    world.put("u1", mug.product_id, 1)
    result = world.checkout("u1", "key-000001", payment="paypal", public_url="https://api.shop.test/")
    order_id = result.receipt["orderId"]
    assert result.receipt["payment"] == {
        "method": "paypal",
        "approvalUrl": f"https://api.shop.test/payments/paypal/approve?orderId={order_id}",
    }
    [order] = world.checkouts.orders.values()
    assert order.to_event_data()["paymentMethod"] == "paypal"  # OrderPlaced carries it as the customer chose
    shown = service.show_checkout(service.ShowCheckout("u1", order_id), world.checkouts)
    assert shown["payment"] == result.receipt["payment"]  # a buyer who left before approving finds the link again
    again = world.checkout("u1", "key-000001", payment="paypal", public_url="https://api.shop.test/")
    assert (again.receipt, again.replayed) == (result.receipt, True)


def test_a_card_checkout_has_no_link_to_follow(world: World) -> None:
    mug = world.product("MUG")
    world.put("u1", mug.product_id, 1)
    receipt = world.checkout("u1", "key-000001", public_url="https://api.shop.test").receipt
    assert receipt["payment"] == {"method": "card", "approvalUrl": None}
    [order] = world.checkouts.orders.values()
    assert order.to_event_data()["paymentMethod"] == "pm_card_visa"


def test_the_same_key_cannot_switch_a_card_order_to_paypal(world: World) -> None:
    mug = world.product("MUG")
    world.put("u1", mug.product_id, 1)
    world.checkout("u1", "key-000001")
    with pytest.raises(IdempotencyKeyReused):
        world.checkout("u1", "key-000001", payment="paypal")
    assert len(world.checkouts.orders) == 1


def test_a_receipt_kept_from_before_paypal_reads_as_paid_by_card(world: World) -> None:
    old = {"orderId": "o1", "status": "PENDING", "discount": None}
    assert service.as_answered(old)["payment"] == {"method": "card", "approvalUrl": None}
    world.checkouts.receipts[("u1", "o1")] = old
    shown = service.show_checkout(service.ShowCheckout("u1", "o1"), world.checkouts)
    assert shown["payment"] == {"method": "card", "approvalUrl": None}
