"""Discount codes' rules without I/O: amounts in minor units, rounding of a percentage, validity, usage shards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ecommerce.cart.domain import Cart, ShippingAddress, place_order, price_cart
from ecommerce.catalog.domain import Money, Product, ProductDetails, ProductStatus
from ecommerce.discounts.domain import (
    MAX_USAGE_SHARDS,
    AppliedDiscount,
    DiscountBelowMinimum,
    DiscountCode,
    DiscountCurrencyMismatch,
    DiscountExpired,
    DiscountInactive,
    DiscountNotYetValid,
    DiscountTerms,
    InvalidDiscount,
    LimitBelowUses,
    Usage,
    normalise_code,
    percent_of,
    shard_count,
    shard_order,
    split_allowance,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
GBP = "GBP"


def code(**terms: object) -> DiscountCode:
    defaults: dict[str, object] = {"valid_from": NOW - timedelta(days=1), "percent_off": 10}
    defaults.update(terms)
    return DiscountCode.new("SPRING10", DiscountTerms(**defaults), NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "percent", "off"),
    [
        (1255, 10, 126),  # 125.5: the half goes to the customer
        (1254, 10, 125),  # 125.4
        (999, 15, 150),  # 149.85
        (100, 33, 33),
        (49, 1, 0),  # 0.49
        (50, 1, 1),  # 0.5
        (1234, 100, 1234),
        (0, 50, 0),
    ],
)
def test_a_percentage_is_rounded_to_the_nearest_minor_unit_halves_up(amount: int, percent: int, off: int) -> None:
    assert percent_of(amount, percent) == off
    assert code(percent_off=percent).amount_for(Money(amount, GBP)) == Money(off, GBP)


def test_an_amount_off_never_takes_more_than_the_subtotal() -> None:
    five_pounds = code(percent_off=None, amount_off=Money(500, GBP))
    assert five_pounds.amount_for(Money(1200, GBP)) == Money(500, GBP)
    assert five_pounds.amount_for(Money(300, GBP)) == Money(300, GBP)


def test_the_order_total_is_subtotal_less_discount_plus_shipping_and_never_below_shipping() -> None:
    mug = replace(Product.new("MUG", ProductDetails("Mug", Money(1200, GBP), "mugs", status=ProductStatus.ACTIVE), NOW))
    order = place_order(
        price_cart(Cart("u1").with_quantity(mug, 1, NOW), {mug.product_id: mug}),
        order_id="o-1",
        shipping_address=ShippingAddress("Ann", "1 High St", "Leeds", "LS1 1AA", "GB"),
        payment_method="pm_card_visa",
        now=NOW,
    )
    assert (order.subtotal.amount, order.shipping.amount, order.total.amount) == (1200, 499, 1699)
    ten_percent = order.with_discount(code(percent_off=10).apply(order.subtotal, NOW))
    assert (ten_percent.subtotal.amount, ten_percent.total.amount) == (1200, 1579)
    assert ten_percent.to_receipt()["discount"] == {"code": "SPRING10", "amount": {"amount": 120, "currency": GBP}}
    everything = order.with_discount(AppliedDiscount("ALL", Money(5000, GBP)))
    assert everything.total == Money(499, GBP)  # only shipping is left to pay
    assert everything.to_event_data()["discount"]["amount"]["amount"] == 1200


def test_a_code_applies_only_while_active_and_valid_and_in_the_carts_currency_above_its_minimum() -> None:
    subtotal = Money(2000, GBP)
    assert code().apply(subtotal, NOW) == AppliedDiscount("SPRING10", Money(200, GBP))
    with pytest.raises(DiscountInactive):
        code(active=False).apply(subtotal, NOW)
    with pytest.raises(DiscountNotYetValid) as later:
        code(valid_from=NOW + timedelta(seconds=1)).apply(subtotal, NOW)
    assert later.value.extra["validFrom"] == "2024-05-01T12:00:01.000Z"
    with pytest.raises(DiscountExpired):
        code(valid_until=NOW).apply(subtotal, NOW)  # validUntil itself is already too late
    assert code(valid_until=NOW + timedelta(seconds=1)).apply(subtotal, NOW).amount == Money(200, GBP)
    assert code(valid_from=None).apply(subtotal, NOW).amount == Money(200, GBP)  # no start
    with pytest.raises(DiscountExpired):
        code(valid_from=None, valid_until=NOW - timedelta(days=9)).apply(subtotal, NOW)
    with pytest.raises(DiscountCurrencyMismatch):
        code(percent_off=None, amount_off=Money(500, "EUR")).apply(subtotal, NOW)
    with pytest.raises(DiscountCurrencyMismatch):
        code(min_subtotal=Money(1000, "EUR")).apply(subtotal, NOW)
    with pytest.raises(DiscountBelowMinimum) as below:
        code(min_subtotal=Money(2001, GBP)).apply(subtotal, NOW)
    assert below.value.extra["minSubtotal"] == {"amount": 2001, "currency": GBP}
    assert "20.01 GBP" in str(below.value)
    assert code(min_subtotal=Money(2000, GBP)).apply(subtotal, NOW).amount == Money(200, GBP)  # the minimum is enough


@pytest.mark.parametrize(
    "terms",
    [
        {"percent_off": 10, "amount_off": Money(100, GBP)},
        {"percent_off": None},
        {"percent_off": 0},
        {"percent_off": 101},
        {"percent_off": None, "amount_off": Money(0, GBP)},
        {"usage_limit": 0},
        {"valid_until": NOW - timedelta(days=1)},  # the same instant as validFrom
        {"valid_until": NOW - timedelta(days=2)},
        {"percent_off": None, "amount_off": Money(100, GBP), "min_subtotal": Money(100, "EUR")},
        {"valid_from": datetime(2024, 5, 1)},  # no time zone
    ],
)
def test_terms_that_break_a_rule_are_refused(terms: dict[str, object]) -> None:
    with pytest.raises(InvalidDiscount):
        code(**terms)


def test_codes_are_case_insensitive_and_shaped() -> None:
    assert normalise_code("  spring10 ") == "SPRING10"
    assert normalise_code("Black-Friday_24") == "BLACK-FRIDAY_24"
    for bad in ("ab", "-ABC", "A B C", "ABC/DEF", "A" * 33, "ÄBC", ""):
        assert normalise_code(bad) is None, bad
    with pytest.raises(InvalidDiscount):
        DiscountCode("bad code", code().terms, 1, NOW, NOW)


def test_a_limit_is_split_over_at_most_ten_shards_whose_allowances_add_up_to_it() -> None:
    assert shard_count(None) == MAX_USAGE_SHARDS
    assert shard_count(5) == 5  # a shard without allowance would only cost a failed try
    assert shard_count(1_000) == MAX_USAGE_SHARDS
    assert shard_count(1, current=5) == 5  # shards never shrink: their counts stay
    assert split_allowance(5, [0] * 5) == [1, 1, 1, 1, 1]
    assert split_allowance(23, [0] * 10) == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    # uses already counted keep their place; what is left is shared evenly
    assert split_allowance(10, [2, 0, 1]) == [5, 2, 3]
    assert split_allowance(3, [2, 0, 1]) == [2, 0, 1]  # exactly the uses made: used up
    # a limit below the uses made cannot be held by the shards: refused
    with pytest.raises(LimitBelowUses):
        split_allowance(2, [2, 0, 1])
    assert sum(split_allowance(1_000_003, [7, 0, 3, 9])) == 1_000_003


def test_a_checkout_tries_a_random_shard_then_each_other_once() -> None:
    assert shard_order(5, lambda n: 3) == [3, 4, 0, 1, 2]
    assert shard_order(1, lambda n: 0) == [0]
    assert sorted(shard_order(10, lambda n: 7)) == list(range(10))


def test_the_admin_view_counts_uses_and_what_is_left() -> None:
    limited = code(usage_limit=5)
    shown = limited.to_dict(Usage((1, 1, 0, 1, 0)))
    assert (shown["used"], shown["remaining"], shown["usageLimit"]) == (3, 2, 5)
    assert code().to_dict(Usage((4,) * 10))["remaining"] is None
    assert code(usage_limit=2).to_dict(Usage((2, 1)))["remaining"] == 0  # never negative
