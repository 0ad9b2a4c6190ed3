"""The cart's rules without storage: bounds, current prices, flagged lines, shipping, totals, the order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ecommerce.cart.domain import (
    CART_TTL,
    MAX_LINES,
    Cart,
    CartFull,
    CurrencyMismatch,
    EmptyCart,
    QuantityOutOfRange,
    ShippingAddress,
    UnavailableLines,
    check_currency,
    fingerprint,
    order_id_for,
    place_order,
    price_cart,
    shipping_for,
)
from ecommerce.catalog.domain import Availability, Money, Product, ProductDetails, ProductStatus, StockLevel

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADDRESS = ShippingAddress("Ann", "1 High St", "Leeds", "LS1 1AA", "GB")


def product(
    sku: str, amount: int = 1000, status: ProductStatus = ProductStatus.ACTIVE, currency: str = "GBP"
) -> Product:
    details = ProductDetails(f"Item {sku}", Money(amount, currency), "mugs", status=status)
    return replace(Product.new(sku, details, NOW), version=1)


def test_adding_and_changing_a_line_keeps_one_line_per_product() -> None:
    mug = product("MUG")
    cart = Cart("u1").with_quantity(mug, 2, NOW).with_quantity(mug, 5, NOW + timedelta(minutes=1))
    assert [(li.product_id, li.quantity) for li in cart.lines] == [(mug.product_id, 5)]
    assert cart.lines[0].sku == "MUG"
    assert cart.expires_at() == NOW + timedelta(minutes=1) + CART_TTL


@pytest.mark.parametrize("quantity", [0, -1, 100, 10**9])
def test_quantities_are_bounded(quantity: int) -> None:
    with pytest.raises(QuantityOutOfRange):
        Cart("u1").with_quantity(product("MUG"), quantity, NOW)


def test_a_cart_holds_at_most_fifty_products_but_an_existing_line_can_still_change() -> None:
    cart = Cart("u1")
    products = [product(f"P{i}") for i in range(MAX_LINES)]
    for p in products:
        cart = cart.with_quantity(p, 1, NOW)
    with pytest.raises(CartFull):
        cart.with_quantity(product("ONE-MORE"), 1, NOW)
    assert cart.with_quantity(products[0], 3, NOW).lines[0].quantity == 3


def test_prices_are_the_catalogs_current_ones() -> None:
    mug = product("MUG", 1000)
    cart = Cart("u1").with_quantity(mug, 3, NOW)
    priced = price_cart(cart, {mug.product_id: replace(mug, details=replace(mug.details, price=Money(1200, "GBP")))})
    assert priced.lines[0].unit_price == Money(1200, "GBP")
    assert priced.subtotal == Money(3600, "GBP")


def test_archived_and_deleted_products_are_flagged_not_dropped_and_count_in_no_total() -> None:
    mug, plate, gone = product("MUG", 2000), product("PLATE", 500), product("GONE", 700)
    cart = Cart("u1").with_quantity(mug, 1, NOW).with_quantity(plate, 2, NOW).with_quantity(gone, 1, NOW)
    priced = price_cart(cart, {mug.product_id: mug, plate.product_id: plate.archive(NOW)})
    view = priced.to_dict()
    assert [(li["sku"], li["available"], li.get("reason")) for li in view["lines"]] == [
        ("MUG", True, None),
        ("PLATE", False, "archived"),
        ("GONE", False, "deleted"),
    ]
    assert view["lines"][2]["title"] == "Item GONE"  # the name seen when it was added
    assert priced.subtotal == Money(2000, "GBP")
    assert view["checkoutReady"] is False
    assert view["itemCount"] == 1


@pytest.mark.parametrize(("subtotal", "shipping"), [(0, 0), (1, 499), (4999, 499), (5000, 0), (123456, 0)])
def test_shipping_is_free_from_fifty_pounds(subtotal: int, shipping: int) -> None:
    assert shipping_for(Money(subtotal, "GBP")) == Money(shipping, "GBP")


def test_totals_add_shipping_to_the_subtotal() -> None:
    mug = product("MUG", 1250)
    priced = price_cart(Cart("u1").with_quantity(mug, 2, NOW), {mug.product_id: mug})
    assert (priced.subtotal.amount, priced.shipping.amount, priced.total.amount) == (2500, 499, 2999)
    big = price_cart(Cart("u1").with_quantity(mug, 4, NOW), {mug.product_id: mug})
    assert (big.subtotal.amount, big.shipping.amount, big.total.amount) == (5000, 0, 5000)


def test_an_empty_cart_costs_nothing() -> None:
    view = price_cart(Cart("u1"), {}).to_dict()
    assert (view["subtotal"], view["shipping"], view["total"]) == ({"amount": 0, "currency": "GBP"},) * 3
    assert view["checkoutReady"] is False


def test_an_order_has_the_current_prices_and_the_totals() -> None:
    mug = product("MUG", 1250)
    priced = price_cart(Cart("u1").with_quantity(mug, 2, NOW), {mug.product_id: mug})
    order = place_order(priced, order_id="o1", shipping_address=ADDRESS, payment_method="pm_card_visa", now=NOW)
    data = order.to_event_data()
    assert data["lines"] == [
        {
            "productId": mug.product_id,
            "sku": "MUG",
            "title": "Item MUG",
            "quantity": 2,
            "unitPrice": {"amount": 1250, "currency": "GBP"},
            "lineTotal": {"amount": 2500, "currency": "GBP"},
        }
    ]
    assert (data["subtotal"]["amount"], data["shipping"]["amount"], data["total"]["amount"]) == (2500, 499, 2999)
    assert data["shippingAddress"]["postalCode"] == "LS1 1AA"
    assert data["placedAt"] == "2024-05-01T12:00:00.000Z"
    assert order.to_receipt()["status"] == "PENDING"


def test_an_empty_cart_or_an_unavailable_product_cannot_be_ordered() -> None:
    with pytest.raises(EmptyCart):
        place_order(price_cart(Cart("u1"), {}), order_id="o", shipping_address=ADDRESS, payment_method="pm_x", now=NOW)
    mug = product("MUG")
    cart = Cart("u1").with_quantity(mug, 1, NOW)
    with pytest.raises(UnavailableLines) as raised:
        place_order(
            price_cart(cart, {mug.product_id: mug.archive(NOW)}),
            order_id="o",
            shipping_address=ADDRESS,
            payment_method="pm_x",
            now=NOW,
        )
    assert raised.value.lines[0]["sku"] == "MUG"
    assert raised.value.lines[0]["reason"] == "archived"


def test_a_line_in_another_currency_is_flagged() -> None:
    gbp, usd = product("GBP-ITEM", 100), product("USD-ITEM", 100, currency="USD")
    cart = Cart("u1").with_quantity(gbp, 1, NOW).with_quantity(usd, 1, NOW)
    priced = price_cart(cart, {gbp.product_id: gbp, usd.product_id: usd})
    assert [li.reason for li in priced.lines] == [None, "currency-mismatch"]
    assert priced.subtotal == Money(100, "GBP")


def test_order_ids_and_fingerprints_are_deterministic() -> None:
    assert order_id_for("u1", "key-1") == order_id_for("u1", "key-1")
    assert order_id_for("u1", "key-1") != order_id_for("u2", "key-1")
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def with_stock(p: Product, available: int | None, level: StockLevel = StockLevel.IN_STOCK) -> Product:
    known = Availability(level, available, "2024-05-01T12:00:00.000Z") if available is not None else Availability()
    return replace(p, availability=known)


@pytest.mark.parametrize(
    ("available", "quantity", "reason", "message"),
    [
        (None, 99, None, None),  # inventory has said nothing yet: any quantity, as before
        (3, 3, None, None),
        (3, 5, "insufficient-stock", "only 3 left"),
        (1, 2, "insufficient-stock", "only 1 left"),
        (0, 1, "insufficient-stock", "out of stock"),
    ],
)
def test_a_line_is_available_up_to_the_units_inventory_last_announced(
    available: int | None, quantity: int, reason: str | None, message: str | None
) -> None:
    mug = with_stock(product("MUG", 1000), available)
    priced = price_cart(Cart("u1").with_quantity(mug, quantity, NOW), {mug.product_id: mug})
    [line] = priced.to_dict()["lines"]
    assert (line["available"], line.get("reason"), line.get("message")) == (reason is None, reason, message)
    assert line["availableQuantity"] == available
    assert priced.to_dict()["checkoutReady"] is (reason is None)
    assert priced.subtotal.amount == (1000 * quantity if reason is None else 0)


def test_an_order_is_refused_for_a_line_short_of_stock_naming_it() -> None:
    mug, plate = with_stock(product("MUG"), 3), product("PLATE")
    cart = Cart("u1").with_quantity(mug, 5, NOW).with_quantity(plate, 1, NOW)
    with pytest.raises(UnavailableLines) as raised:
        place_order(
            price_cart(cart, {mug.product_id: mug, plate.product_id: plate}),
            order_id="o",
            shipping_address=ADDRESS,
            payment_method="pm_x",
            now=NOW,
        )
    assert raised.value.lines == [
        {
            "productId": mug.product_id,
            "sku": "MUG",
            "title": "Item MUG",
            "quantity": 5,
            "availableQuantity": 3,
            "reason": "insufficient-stock",
            "message": "only 3 left",
        }
    ]
    assert raised.value.extra == {"unavailable": raised.value.lines}
    assert "Item MUG (only 3 left)" in str(raised.value)


def test_a_cart_is_in_one_currency() -> None:
    gbp, usd = product("GBP-ITEM", 100), product("USD-ITEM", 100, currency="USD")
    cart = Cart("u1").with_quantity(gbp, 1, NOW)
    check_currency(cart, gbp, {gbp.product_id: gbp})
    check_currency(Cart("u1"), usd, {})
    with pytest.raises(CurrencyMismatch):
        check_currency(cart, usd, {gbp.product_id: gbp, usd.product_id: usd})
