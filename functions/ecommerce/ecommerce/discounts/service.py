"""The discount codes' admin use cases: create, show, list, replace and deactivate a code, each with its uses
counted (the sum of its usage shards).

Applying a code belongs to checkout (:func:`ecommerce.cart.service.checkout`), which claims a use in the order's own
transaction; an order cancelled before it was paid gives its use back (:func:`give_back_use`, from orders'
``OrderCancelled.v1``). Changing a code's limit moves its shards' allowances in one transaction conditioned on the
uses each shard counted when read, so a checkout racing the change can never take a use the new limit does not have
(a change that lost such a race is redone on fresh counts, a few times, then 409).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ecommerce.catalog.domain import Money
from ecommerce.discounts.domain import (
    DiscountCode,
    DiscountTerms,
    Usage,
    split_allowance,
)
from ecommerce.errors import DiscountNotFound, StaleDiscount
from gears_shared.clock import utc_now

Clock = Callable[[], datetime]
SAVE_ATTEMPTS = 3
DEFAULT_PAGE = 20
MAX_PAGE = 50


# -- ports -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reallocation:
    """New allowances for a code's shards: ``counted`` is each existing shard's uses as read (each shard's write is
    conditioned on it); ``allowances`` one per shard, existing and new (``None``: no limit, no allowances)."""

    counted: tuple[int, ...]
    allowances: tuple[int, ...] | None


class UsageMoved(Exception):
    """A shard's count changed between the read and the reallocation (a checkout claimed a use meanwhile)."""


class DiscountRepository(Protocol):
    def get(self, code: str) -> DiscountCode | None:
        """The code (normalised), or ``None`` if there is no such code."""
        ...

    def usage(self, discount: DiscountCode) -> Usage:
        """Each shard's uses, read consistently."""
        ...

    def usages(self, discounts: list[DiscountCode]) -> dict[str, Usage]:
        """The uses of several codes, by code, in batch reads."""
        ...

    def add(self, discount: DiscountCode) -> DiscountCode:
        """Store a new code and its usage shards in one transaction; :class:`DiscountExists` if the code is taken."""
        ...

    def save(self, discount: DiscountCode, *, expected_version: int, reallocation: Reallocation | None) -> DiscountCode:
        """Store changed terms if the code is still at ``expected_version`` (:class:`StaleDiscount` otherwise), and
        with them, when given, the shards' new allowances (:class:`UsageMoved` if a shard's count moved)."""
        ...

    def page(self, limit: int, after: str | None) -> tuple[list[DiscountCode], str | None]:
        """Up to ``limit`` codes in code order after ``after``, and the last code if more may follow."""
        ...


class UsageReleases(Protocol):
    def release(self, order_id: str, now: datetime) -> bool:
        """Give back the use the order's checkout counted, once (its order record is marked in the same
        transaction); ``False`` if the order used no code, gave it back already, or is not known here."""
        ...


# -- commands --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscountFields:
    """A code's terms as an administrator sends them. ``valid_from`` ``None`` is "left out" (a new code has no start
    then; a replaced one keeps its own) unless ``valid_from_sent`` says a null was sent (no start)."""

    percent_off: int | None = None
    amount_off: Money | None = None
    valid_from: datetime | None = None
    valid_from_sent: bool = False
    valid_until: datetime | None = None
    usage_limit: int | None = None
    min_subtotal: Money | None = None
    active: bool = True

    def terms(self, valid_from: datetime | None = None) -> DiscountTerms:
        """The terms, with ``valid_from`` as the start when none was sent."""
        return DiscountTerms(
            valid_from=self.valid_from if self.valid_from_sent or self.valid_from else valid_from,
            percent_off=self.percent_off,
            amount_off=self.amount_off,
            valid_until=self.valid_until,
            usage_limit=self.usage_limit,
            min_subtotal=self.min_subtotal,
            active=self.active,
        )


@dataclass(frozen=True)
class CreateDiscount:
    code: str  # normalised already
    fields: DiscountFields


@dataclass(frozen=True)
class ShowDiscount:
    code: str


@dataclass(frozen=True)
class ListDiscounts:
    limit: int | None = None
    after: str | None = None


@dataclass(frozen=True)
class ReplaceDiscount:
    """Replace a code's terms; ``expected_version`` (optional) is the version the caller read."""

    code: str
    fields: DiscountFields
    expected_version: int | None = None


@dataclass(frozen=True)
class DeactivateDiscount:
    code: str


@dataclass(frozen=True)
class CountedDiscount:
    """A code and its uses, as the admin API shows them."""

    discount: DiscountCode
    usage: Usage

    def to_dict(self) -> dict[str, object]:
        return self.discount.to_dict(self.usage)


@dataclass(frozen=True)
class DiscountPage:
    items: list[CountedDiscount]
    next_after: str | None


# -- use cases -------------------------------------------------------------------------------------------------------
def create_discount(cmd: CreateDiscount, discounts: DiscountRepository, clock: Clock = utc_now) -> CountedDiscount:
    """A new code (409 if the code is taken), with its usage shards at zero."""
    now = clock()
    discount = DiscountCode.new(cmd.code, cmd.fields.terms(), now)
    stored = discounts.add(discount)
    return CountedDiscount(stored, Usage((0,) * stored.shards))


def _existing(discounts: DiscountRepository, code: str | None) -> DiscountCode:
    found = discounts.get(code) if code else None
    if found is None:
        raise DiscountNotFound("There is no such discount code.")
    return found


def show_discount(query: ShowDiscount, discounts: DiscountRepository) -> CountedDiscount:
    discount = _existing(discounts, query.code)
    return CountedDiscount(discount, discounts.usage(discount))


def list_discounts(query: ListDiscounts, discounts: DiscountRepository) -> DiscountPage:
    """A page of codes in code order, each with its uses (one batch read of their shards)."""
    limit = max(1, min(query.limit or DEFAULT_PAGE, MAX_PAGE))
    found, next_after = discounts.page(limit, query.after)
    usages = discounts.usages(found) if found else {}
    return DiscountPage([CountedDiscount(d, usages[d.code]) for d in found], next_after)


def _reallocation(current: DiscountCode, changed: DiscountCode, usage: Usage) -> Reallocation | None:
    """The shards' new allowances when the limit (or the shard count) changes; ``None`` when they stay."""
    old, new = current.terms.usage_limit, changed.terms.usage_limit
    if old == new and current.shards == changed.shards:
        return None
    counted = usage.per_shard + (0,) * (changed.shards - current.shards)
    allowances = None if new is None else tuple(split_allowance(new, counted))
    return Reallocation(usage.per_shard, allowances)


def replace_discount(cmd: ReplaceDiscount, discounts: DiscountRepository, clock: Clock = utc_now) -> CountedDiscount:
    """Replace a code's terms (404 if unknown; 409 if the version sent is not the stored one). A new usage limit is
    split over the shards from the uses already counted; a limit below them is refused (422 ``limit-below-uses``)."""
    for _ in range(SAVE_ATTEMPTS):
        current = _existing(discounts, cmd.code)
        if cmd.expected_version is not None and cmd.expected_version != current.version:
            raise StaleDiscount(
                "The discount code changed since you read it; read it again.", currentVersion=current.version
            )
        changed = current.with_terms(cmd.fields.terms(current.terms.valid_from), clock())
        usage = discounts.usage(current)
        reallocation = _reallocation(current, changed, usage)
        try:
            stored = discounts.save(changed, expected_version=current.version, reallocation=reallocation)
        except UsageMoved:
            continue  # a checkout took a use meanwhile: split the limit again from the fresh counts
        except StaleDiscount:
            if cmd.expected_version is not None:
                raise
            continue
        counted = usage.per_shard + (0,) * (stored.shards - len(usage.per_shard))
        return CountedDiscount(stored, Usage(counted))
    raise StaleDiscount("The discount code kept changing while this request changed it; try again.")


def deactivate_discount(cmd: DeactivateDiscount, discounts: DiscountRepository, clock: Clock = utc_now) -> None:
    """Deactivate a code (404 if unknown); already inactive: nothing to do. Orders that used it keep their record."""
    for _ in range(SAVE_ATTEMPTS):
        current = _existing(discounts, cmd.code)
        if not current.terms.active:
            return
        try:
            discounts.save(current.deactivated(clock()), expected_version=current.version, reallocation=None)
        except StaleDiscount:
            continue
        return
    raise StaleDiscount("The discount code kept changing while this request changed it; try again.")


@dataclass(frozen=True)
class GiveBackUse:
    """Orders' ``OrderCancelled.v1``: an order cancelled before it was paid gives back the use of its code."""

    order_id: str
    paid: bool


def give_back_use(cmd: GiveBackUse, releases: UsageReleases, clock: Clock = utc_now) -> bool:
    """``True`` if a use went back to the code's shard. A paid order keeps its use (its refund is a payment
    matter); a duplicate event gives back nothing more."""
    if cmd.paid:
        return False
    return releases.release(cmd.order_id, clock())
