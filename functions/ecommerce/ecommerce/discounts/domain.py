"""Discount codes: what an administrator decides about one, whether it applies to a cart, how much it takes off,
and how its usage is counted without a hot key.

Standard library only.

**Amounts.** A code takes ``percentOff`` percent (1..100) or ``amountOff`` (money) off the cart's subtotal, never
more than the subtotal. A percentage is rounded to the nearest minor unit, halves up (10% of 12.55 is 1.26):
the customer gets the half penny. Shipping is the cart's own (free from 50.00 of subtotal *before* the discount),
so ``total = subtotal - discount + shipping`` and never less than shipping.

**Validity.** In order: unknown, inactive, not yet valid (``now < validFrom``), expired (``now >= validUntil``;
either bound may be left out),
in another currency than the cart (an amount off or a minimum in GBP does not apply to a cart in EUR), below
``minSubtotal``; then, when the checkout writes the order, used up. Each is its own rule error with its own
``code`` (the API answers 422).

**Usage without a hot key.** A code's uses are counted on :func:`shard_count` usage shards, items of their own
partition each (``used``, and for a code with a limit an ``allowance``). A limit is split over the shards
(:func:`split_allowance`); a checkout claims one use on one shard, conditioned on ``used < allowance`` in the
checkout's own transaction, trying a random shard first and then the others in turn (:func:`shard_order`): at
most one try per shard, each a condition, never a read-then-write. The shards' allowances always add up to the
limit (or to the uses already counted when the limit is lowered below them), so the limit holds exactly however
many checkouts race, and a popular code spreads its writes over up to :data:`MAX_USAGE_SHARDS` items. A code
without a limit counts on the same shards, without allowances. Every shard keeps ``used <= allowance``: a new limit
below the uses already made is refused (:class:`LimitBelowUses`), and a use given back (an order cancelled unpaid)
only lowers ``used``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ecommerce.catalog.domain import Money, utc_iso

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
CODE_RULE = "A discount code is 3-32 letters, digits, '_' or '-', starting with a letter or digit (any case)."
MAX_USAGE_SHARDS = 10
MAX_USAGE_LIMIT = 10_000_000
MAX_AMOUNT = 100_000_000


class InvalidDiscount(ValueError):
    """A discount code's definition breaks a rule (the admin API answers 400 ``invalid-discount``)."""

    title = "Invalid discount code"
    code = "invalid-discount"


class DiscountRuleError(ValueError):
    """A discount code does not apply to this checkout (the API answers 422 with the rule's ``code``)."""

    title = "Discount code not applicable"
    code = "discount-not-applicable"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class DiscountUnknown(DiscountRuleError):
    title = "Unknown discount code"
    code = "discount-unknown"


class DiscountInactive(DiscountRuleError):
    title = "Discount code inactive"
    code = "discount-inactive"


class DiscountNotYetValid(DiscountRuleError):
    title = "Discount code not yet valid"
    code = "discount-not-yet-valid"


class DiscountExpired(DiscountRuleError):
    title = "Discount code expired"
    code = "discount-expired"


class DiscountCurrencyMismatch(DiscountRuleError):
    title = "Discount code in another currency"
    code = "discount-currency-mismatch"


class DiscountBelowMinimum(DiscountRuleError):
    title = "Subtotal below the discount's minimum"
    code = "discount-below-minimum"


class DiscountExhausted(DiscountRuleError):
    title = "Discount code used up"
    code = "discount-exhausted"


class LimitBelowUses(DiscountRuleError):
    """A new usage limit below the uses already made: the shards could not hold it exactly (set it to the uses
    made, or deactivate the code, to stop it)."""

    title = "Usage limit below the uses made"
    code = "limit-below-uses"


def normalise_code(text: str) -> str | None:
    """The code as stored (trimmed, upper case), or ``None`` if no code could ever be spelled so."""
    code = text.strip().upper()
    return code if CODE_PATTERN.match(code) else None


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` minor units, rounded to the nearest unit, halves up (integers only)."""
    return (amount * percent * 2 + 100) // 200


# -- the code --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscountTerms:
    """What an administrator decides about a code: everything but its name and bookkeeping."""

    valid_from: datetime | None = None  # None: no start
    percent_off: int | None = None
    amount_off: Money | None = None
    valid_until: datetime | None = None
    usage_limit: int | None = None
    min_subtotal: Money | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if (self.percent_off is None) == (self.amount_off is None):
            raise InvalidDiscount("A discount code has either percentOff or amountOff, not both and not neither.")
        if self.percent_off is not None and not 1 <= self.percent_off <= 100:
            raise InvalidDiscount("percentOff is 1 to 100.")
        if self.amount_off is not None and not 1 <= self.amount_off.amount <= MAX_AMOUNT:
            raise InvalidDiscount(f"amountOff is 1 to {MAX_AMOUNT} minor units.")
        if self.usage_limit is not None and not 1 <= self.usage_limit <= MAX_USAGE_LIMIT:
            raise InvalidDiscount(f"usageLimit is 1 to {MAX_USAGE_LIMIT}, or null for no limit.")
        if self.min_subtotal is not None and self.min_subtotal.amount > MAX_AMOUNT:
            raise InvalidDiscount(f"minSubtotal is at most {MAX_AMOUNT} minor units.")
        if any(t is not None and t.tzinfo is None for t in (self.valid_from, self.valid_until)):
            raise InvalidDiscount("validFrom and validUntil name their time zone (UTC: a trailing Z).")
        if self.valid_from is not None and self.valid_until is not None and self.valid_until <= self.valid_from:
            raise InvalidDiscount("validUntil comes after validFrom.")
        if self.amount_off and self.min_subtotal and self.amount_off.currency != self.min_subtotal.currency:
            raise InvalidDiscount("amountOff and minSubtotal are in one currency.")

    @property
    def currency(self) -> str | None:
        """The currency the code is bound to (by its amount off or its minimum); ``None`` for any."""
        bound = self.amount_off or self.min_subtotal
        return bound.currency if bound else None


@dataclass(frozen=True)
class AppliedDiscount:
    """What a code took off one order."""

    code: str
    amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "amount": {"amount": self.amount.amount, "currency": self.amount.currency}}


@dataclass(frozen=True)
class DiscountCode:
    """A code (its name is its identity), its terms, how many usage shards count it, and bookkeeping.
    ``version`` counts stored revisions (0: never stored)."""

    code: str
    terms: DiscountTerms
    shards: int
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def __post_init__(self) -> None:
        if not CODE_PATTERN.match(self.code):
            raise InvalidDiscount(CODE_RULE)
        if not 1 <= self.shards <= MAX_USAGE_SHARDS:
            raise InvalidDiscount(f"A code counts its uses on 1 to {MAX_USAGE_SHARDS} shards.")

    @classmethod
    def new(cls, code: str, terms: DiscountTerms, now: datetime) -> DiscountCode:
        return cls(code, terms, shard_count(terms.usage_limit), now, now)

    def with_terms(self, terms: DiscountTerms, now: datetime) -> DiscountCode:
        """The code with new terms; its shards only ever grow (their counts stay where they are)."""
        return replace(self, terms=terms, shards=shard_count(terms.usage_limit, self.shards), updated_at=now)

    def deactivated(self, now: datetime) -> DiscountCode:
        return replace(self, terms=replace(self.terms, active=False), updated_at=now)

    def check(self, subtotal: Money, now: datetime) -> None:
        """Raise the rule error that keeps the code off a cart of ``subtotal`` at ``now``; nothing if it applies."""
        terms = self.terms
        if not terms.active:
            raise DiscountInactive(f"The discount code {self.code} is no longer active.", discountCode=self.code)
        if terms.valid_from is not None and now < terms.valid_from:
            raise DiscountNotYetValid(
                f"The discount code {self.code} is valid from {utc_iso(terms.valid_from)}.",
                discountCode=self.code,
                validFrom=utc_iso(terms.valid_from),
            )
        if terms.valid_until is not None and now >= terms.valid_until:
            raise DiscountExpired(
                f"The discount code {self.code} expired at {utc_iso(terms.valid_until)}.",
                discountCode=self.code,
                validUntil=utc_iso(terms.valid_until),
            )
        if terms.currency is not None and terms.currency != subtotal.currency:
            raise DiscountCurrencyMismatch(
                f"The discount code {self.code} is for carts in {terms.currency}.", discountCode=self.code
            )
        minimum = terms.min_subtotal
        if minimum is not None and subtotal.amount < minimum.amount:
            raise DiscountBelowMinimum(
                f"The discount code {self.code} needs a subtotal of at least {_shown(minimum)}.",
                discountCode=self.code,
                minSubtotal={"amount": minimum.amount, "currency": minimum.currency},
            )

    def amount_for(self, subtotal: Money) -> Money:
        """What the code takes off ``subtotal``: never more than the subtotal."""
        terms = self.terms
        if terms.percent_off is not None:
            off = percent_of(subtotal.amount, terms.percent_off)
        else:
            assert terms.amount_off is not None  # the terms hold one or the other
            off = terms.amount_off.amount
        return Money(min(off, subtotal.amount), subtotal.currency)

    def apply(self, subtotal: Money, now: datetime) -> AppliedDiscount:
        """The discount on a cart of ``subtotal`` at ``now``, or the rule error that keeps the code off it. (Whether a
        use is left is known only when the checkout claims one: :class:`DiscountExhausted` comes from there.)"""
        self.check(subtotal, now)
        return AppliedDiscount(self.code, self.amount_for(subtotal))

    def to_dict(self, usage: Usage) -> dict[str, Any]:
        """The code as the admin API shows it, with its uses counted."""
        terms = self.terms
        limit = terms.usage_limit
        return {
            "code": self.code,
            "percentOff": terms.percent_off,
            "amountOff": _money(terms.amount_off),
            "validFrom": utc_iso(terms.valid_from) if terms.valid_from else None,
            "validUntil": utc_iso(terms.valid_until) if terms.valid_until else None,
            "usageLimit": limit,
            "minSubtotal": _money(terms.min_subtotal),
            "active": terms.active,
            "used": usage.used,
            "remaining": None if limit is None else max(0, limit - usage.used),
            "createdAt": utc_iso(self.created_at),
            "updatedAt": utc_iso(self.updated_at),
            "version": self.version,
        }


def _money(value: Money | None) -> dict[str, Any] | None:
    return None if value is None else {"amount": value.amount, "currency": value.currency}


def _shown(value: Money) -> str:
    return f"{value.amount // 100}.{value.amount % 100:02d} {value.currency}"


# -- usage shards ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Usage:
    """The uses counted on each of a code's shards (index = shard number)."""

    per_shard: tuple[int, ...]

    @property
    def used(self) -> int:
        return sum(self.per_shard)


def shard_count(usage_limit: int | None, current: int = 0) -> int:
    """How many shards count a code's uses: up to :data:`MAX_USAGE_SHARDS`, no more than its limit (a shard with
    no allowance would only cost a failed try), and never fewer than it has (their counts stay)."""
    wanted = MAX_USAGE_SHARDS if usage_limit is None else min(MAX_USAGE_SHARDS, max(1, usage_limit))
    return max(current, wanted)


def split_allowance(usage_limit: int, used: Sequence[int]) -> list[int]:
    """Each shard's allowance for ``usage_limit`` given the uses each has counted: its own uses plus an even share
    of what is left (the first shards take the remainder); they add up to the limit. :class:`LimitBelowUses` when
    the uses counted are already more than the limit."""
    if usage_limit < sum(used):
        raise LimitBelowUses(
            f"The code has been used {sum(used)} times; its limit cannot be lower (deactivate it to stop it).",
            used=sum(used),
        )
    left = usage_limit - sum(used)
    shards = len(used)
    share, extra = divmod(left, shards)
    return [count + share + (1 if n < extra else 0) for n, count in enumerate(used)]


def shard_order(shards: int, pick: Callable[[int], int]) -> list[int]:
    """The order a checkout tries a code's shards in: a random one (``pick(shards)``), then each other in turn."""
    start = pick(shards) % shards
    return [(start + n) % shards for n in range(shards)]


def parse_time(text: str) -> datetime:
    """A stored ISO 8601 time (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
