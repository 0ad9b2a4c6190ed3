"""Discount codes through the use cases with in-memory ports: checkout applies a code with its use in one
transaction (a shard at a time), and the admin use cases keep the shards' allowances adding up to the limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ecommerce.cart import service as cart_service
from ecommerce.cart.domain import ShippingAddress, fingerprint
from ecommerce.cart.service import UsageClaim
from ecommerce.catalog.domain import Money, Product, ProductDetails, ProductStatus
from ecommerce.discounts import service
from ecommerce.discounts.domain import (
    DiscountBelowMinimum,
    DiscountCurrencyMismatch,
    DiscountExhausted,
    DiscountExpired,
    DiscountInactive,
    DiscountNotYetValid,
    DiscountRuleError,
    DiscountUnknown,
    LimitBelowUses,
)
from ecommerce.discounts.service import DiscountFields
from ecommerce.errors import DiscountBusy, DiscountExists, DiscountNotFound, StaleDiscount
from gears_shared.errors import status_of
from tests.unit.ecommerce.fakes import (
    CatalogLookup,
    FakeClock,
    InMemoryCarts,
    InMemoryCheckouts,
    InMemoryDiscounts,
    InMemoryProducts,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADDRESS = ShippingAddress("Ann", "1 High St", "Leeds", "LS1 1AA", "GB")
GBP = "GBP"


class World:
    def __init__(self) -> None:
        self.products = InMemoryProducts()
        self.catalog = CatalogLookup(self.products)
        self.carts = InMemoryCarts()
        self.discounts = InMemoryDiscounts()
        self.checkouts = InMemoryCheckouts(self.carts, self.discounts)
        self.clock = FakeClock(NOW)
        self.picks: Iterator[int] | None = None
        self.mug = self.product("MUG", 1250)

    def product(self, sku: str, amount: int) -> Product:
        details = ProductDetails(f"Item {sku}", Money(amount, GBP), "mugs", status=ProductStatus.ACTIVE)
        return self.products.add(Product.new(sku, details, NOW))

    def code(self, name: str = "SPRING10", **fields: object) -> service.CountedDiscount:
        values: dict[str, object] = {"percent_off": 10}
        values.update(fields)
        cmd = service.CreateDiscount(name, DiscountFields(**values))  # type: ignore[arg-type]
        return service.create_discount(cmd, self.discounts, self.clock)

    def fill(self, user: str, quantity: int = 2) -> None:
        cmd = cart_service.SetQuantity(user, self.mug.product_id, quantity)
        cart_service.set_quantity(cmd, self.carts, self.catalog, self.clock)

    def pick(self, shards: int) -> int:
        return next(self.picks) if self.picks is not None else 0

    def checkout(self, user: str, key: str, code: str | None = "spring10") -> cart_service.CheckoutResult:
        request = {"pm": "pm_card_visa", "discountCode": code}
        cmd = cart_service.Checkout(user, key, ADDRESS, "pm_card_visa", fingerprint(request), discount_code=code)
        return cart_service.checkout(
            cmd, self.checkouts, self.catalog, self.clock, discounts=self.discounts, pick=self.pick
        )

    def used(self, code: str = "SPRING10") -> int:
        return service.show_discount(service.ShowDiscount(code), self.discounts).usage.used


@pytest.fixture
def world() -> World:
    return World()


# -- checkout ----------------------------------------------------------------------------------------------------------
def test_a_code_takes_its_discount_off_the_order_and_counts_one_use(world: World) -> None:
    world.code()
    world.fill("u1")  # 2 x 12.50
    result = world.checkout("u1", "key-000001")
    receipt = result.receipt
    assert receipt["discount"] == {"code": "SPRING10", "amount": {"amount": 250, "currency": GBP}}
    assert (receipt["subtotal"]["amount"], receipt["shipping"]["amount"], receipt["total"]["amount"]) == (
        2500,
        499,
        2749,
    )
    [order] = world.checkouts.orders.values()
    assert order.to_event_data()["discount"] == receipt["discount"]
    assert world.used() == 1
    assert world.checkouts.claimed[order.order_id] == UsageClaim("SPRING10", 0)


def test_a_checkout_without_a_code_has_no_discount_and_claims_nothing(world: World) -> None:
    world.code()
    world.fill("u1")
    receipt = world.checkout("u1", "key-000001", code=None).receipt
    assert receipt["discount"] is None
    assert receipt["total"]["amount"] == 2999
    assert world.checkouts.claims == []


@pytest.mark.parametrize(
    ("fields", "error", "problem"),
    [
        ({"active": False}, DiscountInactive, "discount-inactive"),
        ({"valid_from": NOW + timedelta(hours=1)}, DiscountNotYetValid, "discount-not-yet-valid"),
        (
            {"valid_from": NOW - timedelta(days=2), "valid_until": NOW - timedelta(days=1)},
            DiscountExpired,
            "discount-expired",
        ),
        ({"min_subtotal": Money(2501, GBP)}, DiscountBelowMinimum, "discount-below-minimum"),
        (
            {"percent_off": None, "amount_off": Money(500, "EUR")},
            DiscountCurrencyMismatch,
            "discount-currency-mismatch",
        ),
    ],
)
def test_a_code_that_does_not_apply_places_nothing_and_keeps_the_cart(
    world: World, fields: dict, error: type[DiscountRuleError], problem: str
) -> None:
    world.code(**fields)
    world.fill("u1")
    with pytest.raises(error) as refused:
        world.checkout("u1", "key-000001")
    assert refused.value.code == problem
    assert status_of(refused.value, {DiscountRuleError: 422}) == 422
    assert world.checkouts.orders == {}
    assert world.checkouts.claims == []
    assert world.carts.items["u1"].lines  # the cart is still there
    assert world.used() == 0


@pytest.mark.parametrize("typed", ["NOPE10", "no", "BAD CODE", "x" * 40])
def test_an_unknown_code_is_422_discount_unknown(world: World, typed: str) -> None:
    world.fill("u1")
    with pytest.raises(DiscountUnknown) as refused:
        world.checkout("u1", "key-000001", code=typed)
    assert refused.value.code == "discount-unknown"
    assert world.checkouts.orders == {}


def test_an_empty_cart_is_told_so_before_its_code_is_judged(world: World) -> None:
    from ecommerce.cart.domain import EmptyCart

    with pytest.raises(EmptyCart):
        world.checkout("u1", "key-000001", code="NOPE10")


def test_a_shard_with_no_use_left_sends_the_checkout_to_the_next_and_the_limit_holds(world: World) -> None:
    world.code(usage_limit=3)  # three shards, one use each
    world.picks = iter([1, 1, 1, 1])  # every checkout tries shard 1 first
    for n in range(3):
        world.fill(f"u{n}")
        assert world.checkout(f"u{n}", f"key-00000{n}").receipt["discount"] is not None
    assert [c.shard for c in world.checkouts.claims] == [1, 1, 2, 1, 2, 0]  # each shard tried once at most
    world.fill("u9")
    with pytest.raises(DiscountExhausted) as used_up:
        world.checkout("u9", "key-000009")
    assert used_up.value.code == "discount-exhausted"
    assert len(world.checkouts.orders) == 3
    assert world.used() == 3
    assert world.carts.items["u9"].lines
    shown = service.show_discount(service.ShowDiscount("SPRING10"), world.discounts).to_dict()
    assert (shown["used"], shown["remaining"]) == (3, 0)


def test_a_retried_checkout_uses_the_code_once(world: World) -> None:
    world.code(usage_limit=5)
    world.fill("u1")
    first = world.checkout("u1", "key-000001")
    again = world.checkout("u1", "key-000001")
    assert (again.replayed, again.receipt) == (True, first.receipt)
    assert world.used() == 1
    assert len(world.checkouts.claims) == 1


def test_a_racing_retry_of_the_same_key_uses_the_code_once(world: World) -> None:
    world.code(usage_limit=5)
    world.fill("u1")
    results: list[cart_service.CheckoutResult] = []
    world.checkouts.before_place = lambda: results.append(world.checkout("u1", "key-000001"))
    second = world.checkout("u1", "key-000001")
    assert second.replayed
    assert second.receipt == results[0].receipt
    assert world.used() == 1


def test_shards_held_by_other_transactions_are_skipped_and_all_held_is_409_busy(world: World) -> None:
    world.code()  # no limit: ten shards
    world.discounts.busy = {("SPRING10", n) for n in range(10) if n != 4}
    world.fill("u1")
    world.checkout("u1", "key-000001")
    assert world.checkouts.claimed
    assert next(iter(world.checkouts.claimed.values())).shard == 4
    world.discounts.busy.add(("SPRING10", 4))
    world.fill("u2")
    with pytest.raises(DiscountBusy) as busy:
        world.checkout("u2", "key-000002")
    assert status_of(busy.value) == 409
    assert len(world.checkouts.orders) == 1


def test_a_deactivated_code_is_refused_from_then_on(world: World) -> None:
    world.code()
    world.fill("u1")
    world.checkout("u1", "key-000001")
    service.deactivate_discount(service.DeactivateDiscount("SPRING10"), world.discounts, world.clock)
    service.deactivate_discount(service.DeactivateDiscount("SPRING10"), world.discounts, world.clock)  # again: fine
    world.fill("u2")
    with pytest.raises(DiscountInactive):
        world.checkout("u2", "key-000002")
    assert world.used() == 1  # the order that used it keeps its use
    with pytest.raises(DiscountNotFound):
        service.deactivate_discount(service.DeactivateDiscount("NOSUCH"), world.discounts, world.clock)


# -- admin -----------------------------------------------------------------------------------------------------------
def test_a_new_code_splits_its_limit_over_its_shards(world: World) -> None:
    created = world.code(usage_limit=23)
    assert created.discount.shards == 10
    assert world.discounts.allowances("SPRING10") == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert created.to_dict()["remaining"] == 23
    world.code("FEW", usage_limit=2)
    assert world.discounts.allowances("FEW") == [1, 1]
    world.code("ANY")
    assert world.discounts.allowances("ANY") == [None] * 10
    with pytest.raises(DiscountExists):
        world.code("FEW")


def test_raising_a_limit_after_uses_keeps_them_and_shares_the_rest(world: World) -> None:
    world.code(usage_limit=2, valid_from=NOW - timedelta(hours=1))
    for n in range(2):
        world.fill(f"u{n}")
        world.checkout(f"u{n}", f"key-00000{n}")
    changed = service.replace_discount(
        service.ReplaceDiscount("SPRING10", DiscountFields(percent_off=10, usage_limit=12)),
        world.discounts,
        world.clock,
    )
    assert changed.discount.shards == 10  # it may spread now
    assert (changed.usage.used, changed.to_dict()["remaining"]) == (2, 10)
    allowances = world.discounts.allowances("SPRING10")
    assert sum(a or 0 for a in allowances) == 12
    assert changed.discount.terms.valid_from == NOW - timedelta(hours=1)  # left out: kept as it was
    assert changed.discount.version == 2


def test_a_limit_lowered_to_its_uses_leaves_the_code_used_up_and_below_them_is_refused(world: World) -> None:
    world.code(usage_limit=5)
    for n in range(3):
        world.fill(f"u{n}")
        world.checkout(f"u{n}", f"key-00000{n}")
    with pytest.raises(LimitBelowUses) as refused:
        service.replace_discount(
            service.ReplaceDiscount("SPRING10", DiscountFields(percent_off=10, usage_limit=2)), world.discounts
        )
    assert (refused.value.code, refused.value.extra["used"]) == ("limit-below-uses", 3)
    changed = service.replace_discount(
        service.ReplaceDiscount("SPRING10", DiscountFields(percent_off=10, usage_limit=3)), world.discounts, world.clock
    )
    assert (changed.usage.used, changed.to_dict()["remaining"]) == (3, 0)
    world.fill("u9")
    with pytest.raises(DiscountExhausted):
        world.checkout("u9", "key-000009")


def test_removing_the_limit_lets_every_shard_count_freely(world: World) -> None:
    world.code(usage_limit=1)
    world.fill("u1")
    world.checkout("u1", "key-000001")
    service.replace_discount(
        service.ReplaceDiscount("SPRING10", DiscountFields(percent_off=10)), world.discounts, world.clock
    )
    assert world.discounts.allowances("SPRING10") == [None] * 10
    world.fill("u2")
    assert world.checkout("u2", "key-000002").receipt["discount"] is not None
    assert world.used() == 2


def test_a_use_claimed_while_the_limit_changes_is_counted_in_the_new_split(world: World) -> None:
    world.code(usage_limit=4)

    def a_checkout_meanwhile() -> None:
        world.fill("racer")
        world.checkout("racer", "key-racer1")

    world.discounts.before_save = a_checkout_meanwhile
    changed = service.replace_discount(
        service.ReplaceDiscount("SPRING10", DiscountFields(percent_off=10, usage_limit=6)), world.discounts, world.clock
    )
    assert (changed.usage.used, changed.to_dict()["remaining"]) == (1, 5)
    assert sum(a or 0 for a in world.discounts.allowances("SPRING10")) == 6


def test_a_stale_version_is_409_and_an_unknown_code_404(world: World) -> None:
    world.code()
    with pytest.raises(StaleDiscount):
        service.replace_discount(
            service.ReplaceDiscount("SPRING10", DiscountFields(percent_off=20), expected_version=7), world.discounts
        )
    with pytest.raises(DiscountNotFound):
        service.replace_discount(service.ReplaceDiscount("NOSUCH", DiscountFields(percent_off=20)), world.discounts)
    with pytest.raises(DiscountNotFound):
        service.show_discount(service.ShowDiscount("NOSUCH"), world.discounts)


def test_codes_are_listed_in_order_a_page_at_a_time_with_their_uses(world: World) -> None:
    for name in ("CCC", "AAA", "BBB"):
        world.code(name)
    world.fill("u1")
    world.checkout("u1", "key-000001", code="bbb")
    first = service.list_discounts(service.ListDiscounts(limit=2), world.discounts)
    assert [c.discount.code for c in first.items] == ["AAA", "BBB"]
    assert [c.usage.used for c in first.items] == [0, 1]
    rest = service.list_discounts(service.ListDiscounts(limit=2, after=first.next_after), world.discounts)
    assert ([c.discount.code for c in rest.items], rest.next_after) == (["CCC"], None)


def test_an_order_cancelled_unpaid_gives_its_use_back_once_and_a_paid_one_keeps_it(world: World) -> None:
    from tests.unit.ecommerce.fakes import InMemoryUsageReleases

    releases = InMemoryUsageReleases(world.checkouts, world.discounts)
    world.code(usage_limit=1)
    world.fill("u1")
    first = world.checkout("u1", "key-000001").receipt["orderId"]
    assert world.used() == 1
    assert service.give_back_use(service.GiveBackUse(first, paid=True), releases, world.clock) is False
    assert world.used() == 1  # paid: the use stays
    assert service.give_back_use(service.GiveBackUse(first, paid=False), releases, world.clock) is True
    assert service.give_back_use(service.GiveBackUse(first, paid=False), releases, world.clock) is False  # again
    assert world.used() == 0
    world.fill("u2")
    assert world.checkout("u2", "key-000002").receipt["discount"] is not None  # the use is there to take again
    assert service.give_back_use(service.GiveBackUse("no-such-order", paid=False), releases) is False
