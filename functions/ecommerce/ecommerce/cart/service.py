"""The cart, checkout and availability use cases: plain functions, each taking one command and its ports (carts,
the catalog, the checkout store, the availability store, a clock).

Every read of a cart prices it from the catalog as it is now (one batch read of its products). Changes are
optimistic: a cart is saved only if it is still at the version read, and a change that lost a race is redone on
the fresh cart (a few times, then 409). Checkout writes the order, its idempotency record, its receipt and the
cart's deletion in one transaction, so the cart is emptied exactly when an order is accepted, a retried key finds
its order, and the receipt answers ``GET /checkout/{orderId}`` from the moment the 202 is sent. A discount code's
use is claimed in that same transaction, on one of the code's usage shards (:mod:`ecommerce.discounts.domain`):
the order is placed with its discount exactly when a use was left, and a retried key uses the code once.

Rule errors of the cart's domain (:class:`ecommerce.cart.domain.CartRuleError`) pass through as they are.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ecommerce.cart.domain import (
    Cart,
    PlacedOrder,
    PricedCart,
    ShippingAddress,
    check_currency,
    distinct,
    order_id_for,
    place_order,
    price_cart,
)
from ecommerce.catalog.domain import Availability, Product, ProductStatus
from ecommerce.discounts.domain import (
    DiscountCode,
    DiscountExhausted,
    DiscountUnknown,
    normalise_code,
    shard_order,
)
from ecommerce.errors import (
    CartChanged,
    CheckoutInProgress,
    CheckoutNotFound,
    DiscountBusy,
    IdempotencyKeyReused,
    NotInCart,
    ProductNotFound,
    ProductUnavailable,
)
from gears_shared.clock import utc_now

Clock = Callable[[], datetime]
SAVE_ATTEMPTS = 3


# -- ports -----------------------------------------------------------------------------------------------------------
class CartRepository(Protocol):
    def get(self, user_id: str, now: datetime) -> Cart:
        """The customer's cart; an empty one (version 0, or the stored version if it expired) when there is none."""
        ...

    def save(self, cart: Cart, *, expected_version: int) -> Cart:
        """Store the cart if it is still at ``expected_version`` (0: absent); :class:`CartChanged` otherwise."""
        ...

    def delete(self, user_id: str) -> None: ...


class ProductLookup(Protocol):
    def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        """The stored products among these ids (any status), by id, in one batch read."""
        ...


@dataclass(frozen=True)
class CheckoutRecord:
    """What a checkout key already did: the order it placed, the request's fingerprint and the answer given."""

    order_id: str
    fingerprint: str
    receipt: dict[str, Any]


class CheckoutStore(Protocol):
    def begin(self, user_id: str, key: str, now: datetime) -> tuple[Cart, CheckoutRecord | None]:
        """The cart and what this key already did, if anything, in one read."""
        ...

    def place(
        self,
        order: PlacedOrder,
        record: CheckoutRecord,
        *,
        key: str,
        cart: Cart,
        correlation_id: str,
        usage: UsageClaim | None = None,
    ) -> None:
        """In one transaction: the order record, the key's record and the receipt under the customer and order id
        (only if the key is new), the deletion of the cart (only if still at ``cart.version``) and, for an order
        with a discount, one use of its code on ``usage``'s shard (only if that shard has one left).
        :class:`KeyTaken` if the key was used meanwhile, :class:`CartChanged` if the cart changed,
        :class:`ShardExhausted` if the shard had no use left, :class:`ShardBusy` if another transaction held it."""
        ...

    def record(self, user_id: str, key: str) -> CheckoutRecord | None: ...

    def receipt(self, user_id: str, order_id: str) -> dict[str, Any] | None:
        """The receipt of the customer's checkout that placed ``order_id`` (one read by key); ``None`` if there
        is none (or it is another customer's)."""
        ...


class KeyTaken(Exception):
    """The checkout key's record appeared between the read and the transaction (a racing retry)."""


@dataclass(frozen=True)
class UsageClaim:
    """One use of a discount code, claimed on one of its usage shards."""

    code: str
    shard: int


class ShardExhausted(Exception):
    """The usage shard tried has no use left (another shard may)."""


class ShardBusy(Exception):
    """Another transaction held the usage shard at that instant (DynamoDB's ``TransactionConflict``)."""


class DiscountLookup(Protocol):
    def get(self, code: str) -> DiscountCode | None:
        """The code as stored (read consistently), or ``None``."""
        ...


class AvailabilityStore(Protocol):
    def apply(self, product_id: str, availability: Availability) -> bool:
        """Store a product's availability; ``False`` for an unknown product or one that knows a newer level."""
        ...


# -- commands --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ViewCart:
    user_id: str


@dataclass(frozen=True)
class SetQuantity:
    """Put ``quantity`` of a product in the customer's cart (adding the line or replacing its quantity)."""

    user_id: str
    product_id: str
    quantity: int


@dataclass(frozen=True)
class RemoveLine:
    user_id: str
    product_id: str


@dataclass(frozen=True)
class ClearCart:
    user_id: str


@dataclass(frozen=True)
class Checkout:
    """Turn the customer's cart into an order, once per ``key``. ``fingerprint`` tells a retry of the same request
    from another request that reuses the key (:func:`ecommerce.cart.domain.fingerprint`)."""

    user_id: str
    key: str
    shipping_address: ShippingAddress
    payment_method: str
    fingerprint: str
    correlation_id: str = ""
    discount_code: str | None = None  # as the customer typed it (any case)
    public_url: str = ""  # the API's address, for a PayPal buyer's approval link


@dataclass(frozen=True)
class ShowCheckout:
    user_id: str
    order_id: str


@dataclass(frozen=True)
class RecordAvailability:
    """What inventory last said about a product's stock (``StockLevelChanged.v1``)."""

    product_id: str
    availability: Availability


@dataclass(frozen=True)
class CheckoutResult:
    receipt: dict[str, Any]
    replayed: bool


# -- cart ------------------------------------------------------------------------------------------------------------
def view_cart(cmd: ViewCart, carts: CartRepository, catalog: ProductLookup, clock: Clock = utc_now) -> PricedCart:
    cart = carts.get(cmd.user_id, clock())
    return price_cart(cart, catalog.get_many(cart.product_ids) if cart.lines else {})


def set_quantity(cmd: SetQuantity, carts: CartRepository, catalog: ProductLookup, clock: Clock = utc_now) -> PricedCart:
    """Put the quantity of a product in the cart. An unknown product (or a draft, which shoppers cannot see) is
    404; an archived one 422; a product priced in another currency than the cart's 422. A quantity above the
    units available is accepted and shown as such (the line is not available, and checkout waits for it)."""
    for _ in range(SAVE_ATTEMPTS):
        now = clock()
        cart = carts.get(cmd.user_id, now)
        products = catalog.get_many(distinct([*cart.product_ids, cmd.product_id]))
        product = products.get(cmd.product_id)
        if product is None or product.status is ProductStatus.DRAFT:
            raise ProductNotFound("There is no such product.", productId=cmd.product_id)
        if product.status is ProductStatus.ARCHIVED:
            raise ProductUnavailable("This product is no longer sold.", productId=cmd.product_id)
        check_currency(cart, product, products)
        changed = cart.with_quantity(product, cmd.quantity, now)
        try:
            saved = carts.save(changed, expected_version=cart.version)
        except CartChanged:
            continue  # another request changed the cart meanwhile: redo the change on the fresh cart
        return price_cart(saved, products)
    raise CartChanged("The cart kept changing while this request changed it; try again.")


def remove_line(cmd: RemoveLine, carts: CartRepository, catalog: ProductLookup, clock: Clock = utc_now) -> PricedCart:
    """Take a product out of the cart; 404 if it is not in it."""
    for _ in range(SAVE_ATTEMPTS):
        now = clock()
        cart = carts.get(cmd.user_id, now)
        if cart.line(cmd.product_id) is None:
            raise NotInCart("This product is not in your cart.", productId=cmd.product_id)
        try:
            saved = carts.save(cart.without(cmd.product_id, now), expected_version=cart.version)
        except CartChanged:
            continue
        return price_cart(saved, catalog.get_many(saved.product_ids) if saved.lines else {})
    raise CartChanged("The cart kept changing while this request changed it; try again.")


def clear_cart(cmd: ClearCart, carts: CartRepository) -> None:
    carts.delete(cmd.user_id)


# -- checkout --------------------------------------------------------------------------------------------------------
def as_answered(receipt: dict[str, Any]) -> dict[str, Any]:
    """A receipt as answered today: one kept from before discount codes has ``discount: null``; one from before
    PayPal was paid by card."""
    return {
        **receipt,
        "discount": receipt.get("discount"),
        "payment": receipt.get("payment") or {"method": "card", "approvalUrl": None},
    }


def _replay(record: CheckoutRecord, cmd: Checkout) -> CheckoutResult:
    if record.fingerprint != cmd.fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different checkout; use a new key for a new order.",
            orderId=record.order_id,
        )
    return CheckoutResult(as_answered(record.receipt), replayed=True)


def _discount(code_text: str | None, discounts: DiscountLookup | None) -> DiscountCode | None:
    """The code the customer typed, as stored; :class:`DiscountUnknown` if there is none such."""
    if code_text is None:
        return None
    code = normalise_code(code_text)
    found = discounts.get(code) if code and discounts is not None else None
    if found is None:
        raise DiscountUnknown("There is no such discount code.", discountCode=code_text.strip()[:64])
    return found


def checkout(
    cmd: Checkout,
    store: CheckoutStore,
    catalog: ProductLookup,
    clock: Clock = utc_now,
    *,
    discounts: DiscountLookup | None = None,
    pick: Callable[[int], int] = random.randrange,
) -> CheckoutResult:
    """Turn the cart into an order (PENDING), once per key.

    The same key with the same request answers the same order again; with another request, 422. Prices, shipping
    and totals are the catalog's now, whatever the client believes them to be. A cart with a line that cannot be
    bought (not sold any more, or asking for more than the units known to be available) places nothing (422).

    With a discount code, the order is placed with the discount and one use of the code in one transaction, on a
    usage shard ``pick`` chooses, then on each other shard in turn while the one tried has no use left (at most
    one try per shard). A code that does not apply (unknown, inactive, not yet valid, expired, another currency,
    below its minimum, used up) places nothing (422, each with its own code).
    """
    now = clock()
    cart, record = store.begin(cmd.user_id, cmd.key, now)
    if record is not None:
        return _replay(record, cmd)
    products: Mapping[str, Product] = catalog.get_many(cart.product_ids) if cart.lines else {}
    order = place_order(
        price_cart(cart, products),
        order_id=order_id_for(cmd.user_id, cmd.key),
        shipping_address=cmd.shipping_address,
        payment_method=cmd.payment_method,
        now=now,
    )
    discount = _discount(cmd.discount_code, discounts)
    if discount is not None:
        order = order.with_discount(discount.apply(order.subtotal, now))
    receipt = order.to_receipt(cmd.public_url)
    checkout_record = CheckoutRecord(order.order_id, cmd.fingerprint, receipt)
    claims: list[UsageClaim | None] = (
        [None] if discount is None else [UsageClaim(discount.code, n) for n in shard_order(discount.shards, pick)]
    )
    busy = False
    for claim in claims:
        try:
            store.place(order, checkout_record, key=cmd.key, cart=cart, correlation_id=cmd.correlation_id, usage=claim)
        except KeyTaken:
            raced = store.record(cmd.user_id, cmd.key)
            if raced is None:
                raise CheckoutInProgress("A checkout with this key is in progress; retry shortly.") from None
            return _replay(raced, cmd)
        except ShardExhausted:
            continue  # no use left on this shard: another may have one
        except ShardBusy:
            busy = True
            continue
        return CheckoutResult(receipt, replayed=False)
    assert discount is not None  # without a code the one try above returned or raised
    if busy:
        raise DiscountBusy("Many checkouts are using this discount code right now; try again.")
    raise DiscountExhausted(
        f"The discount code {discount.code} has been used as many times as it may be.", discountCode=discount.code
    )


def show_checkout(query: ShowCheckout, store: CheckoutStore) -> dict[str, Any]:
    """The customer's checkout of an order as it was accepted (``PENDING``) and where the order itself is read.

    It answers from the moment the checkout's 202 is sent (the receipt is written with the order), while the
    orders service learns of the order a little later, from ``OrderPlaced``.
    """
    receipt = store.receipt(query.user_id, query.order_id)
    if receipt is None:
        raise CheckoutNotFound("You have no checkout of this order.")
    return {**as_answered(receipt), "order": f"/orders/{receipt['orderId']}"}


# -- availability ----------------------------------------------------------------------------------------------------
def record_availability(cmd: RecordAvailability, store: AvailabilityStore) -> bool:
    """Keep what inventory said of a product's stock, unless the product is unknown or a newer word is kept."""
    return store.apply(cmd.product_id, cmd.availability)
