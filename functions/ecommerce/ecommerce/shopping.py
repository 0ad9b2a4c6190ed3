"""The cart and checkout use cases: plain functions over ports (carts, the catalog, the checkout store, a clock).

Every read of a cart prices it from the catalog as it is now (one batch read of its products). Changes are
optimistic: a cart is saved only if it is still at the version read, and a change that lost a race is redone on
the fresh cart (a few times, then 409). Checkout writes the order, its idempotency record and the cart's deletion
in one transaction, so the cart is emptied exactly when an order is accepted, and a retried key finds its order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ecommerce.cart import (
    Cart,
    CartRuleError,
    CurrencyMismatch,
    PlacedOrder,
    PricedCart,
    ShippingAddress,
    UnavailableLines,
    cart_currency,
    distinct,
    order_id_for,
    place_order,
    price_cart,
)
from ecommerce.domain import Product, ProductStatus
from ecommerce.errors import (
    CartChanged,
    CartRuleViolated,
    CheckoutInProgress,
    IdempotencyKeyReused,
    NotInCart,
    ProductNotFound,
    ProductUnavailable,
)

Clock = Callable[[], datetime]
SAVE_ATTEMPTS = 3


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    def place(self, order: PlacedOrder, record: CheckoutRecord, *, key: str, cart: Cart, correlation_id: str) -> None:
        """In one transaction: the order record, the key's record (only if the key is new) and the deletion of the
        cart (only if still at ``cart.version``). :class:`KeyTaken` if the key was used meanwhile,
        :class:`CartChanged` if the cart changed."""
        ...

    def record(self, user_id: str, key: str) -> CheckoutRecord | None: ...


class KeyTaken(Exception):
    """The checkout key's record appeared between the read and the transaction (a racing retry)."""


# -- cart ------------------------------------------------------------------------------------------------------------
def _rule(error: CartRuleError) -> CartRuleViolated:
    extra: dict[str, Any] = {}
    if isinstance(error, UnavailableLines):
        extra["unavailable"] = error.lines
    return CartRuleViolated(str(error), error.code, **extra)


def view_cart(user_id: str, *, carts: CartRepository, catalog: ProductLookup, clock: Clock = utc_now) -> PricedCart:
    cart = carts.get(user_id, clock())
    return price_cart(cart, catalog.get_many(cart.product_ids) if cart.lines else {})


def set_quantity(
    user_id: str,
    product_id: str,
    quantity: int,
    *,
    carts: CartRepository,
    catalog: ProductLookup,
    clock: Clock = utc_now,
) -> PricedCart:
    """Put ``quantity`` of a product in the cart (adding the line or replacing its quantity).

    An unknown product (or a draft, which shoppers cannot see) is 404; an archived one 422; a product priced in
    another currency than the cart's 422.
    """
    for _ in range(SAVE_ATTEMPTS):
        now = clock()
        cart = carts.get(user_id, now)
        products = catalog.get_many(distinct([*cart.product_ids, product_id]))
        product = products.get(product_id)
        if product is None or product.status is ProductStatus.DRAFT:
            raise ProductNotFound("There is no such product.", productId=product_id)
        if product.status is ProductStatus.ARCHIVED:
            raise ProductUnavailable("This product is no longer sold.", productId=product_id)
        others = Cart(user_id, tuple(li for li in cart.lines if li.product_id != product_id))
        currency = cart_currency(others, products) if others.lines else product.details.price.currency
        try:
            if product.details.price.currency != currency:
                raise CurrencyMismatch(f"The cart is in {currency}; this product is sold in another currency.")
            changed = cart.with_quantity(product, quantity, now)
        except CartRuleError as error:
            raise _rule(error) from error
        try:
            saved = carts.save(changed, expected_version=cart.version)
        except CartChanged:
            continue
        return price_cart(saved, products)
    raise CartChanged("The cart kept changing while this request changed it; try again.")


def remove_line(
    user_id: str, product_id: str, *, carts: CartRepository, catalog: ProductLookup, clock: Clock = utc_now
) -> PricedCart:
    """Take a product out of the cart; 404 if it is not in it."""
    for _ in range(SAVE_ATTEMPTS):
        now = clock()
        cart = carts.get(user_id, now)
        if cart.line(product_id) is None:
            raise NotInCart("This product is not in your cart.", productId=product_id)
        try:
            saved = carts.save(cart.without(product_id, now), expected_version=cart.version)
        except CartChanged:
            continue
        return price_cart(saved, catalog.get_many(saved.product_ids) if saved.lines else {})
    raise CartChanged("The cart kept changing while this request changed it; try again.")


def clear_cart(user_id: str, *, carts: CartRepository) -> None:
    carts.delete(user_id)


# -- checkout --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckoutRequest:
    shipping_address: ShippingAddress
    payment_method: str
    fingerprint: str


@dataclass(frozen=True)
class CheckoutResult:
    receipt: dict[str, Any]
    replayed: bool


def _replay(record: CheckoutRecord, request: CheckoutRequest) -> CheckoutResult:
    if record.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different checkout; use a new key for a new order.",
            orderId=record.order_id,
        )
    return CheckoutResult(record.receipt, replayed=True)


def checkout(
    user_id: str,
    key: str,
    request: CheckoutRequest,
    *,
    store: CheckoutStore,
    catalog: ProductLookup,
    clock: Clock = utc_now,
    correlation_id: str = "",
) -> CheckoutResult:
    """Turn the cart into an order (PENDING), once per key.

    The same key with the same request answers the same order again; with another request, 422. Prices, shipping
    and totals are the catalog's now, whatever the client believes them to be.
    """
    now = clock()
    cart, record = store.begin(user_id, key, now)
    if record is not None:
        return _replay(record, request)
    products: Mapping[str, Product] = catalog.get_many(cart.product_ids) if cart.lines else {}
    try:
        order = place_order(
            price_cart(cart, products),
            order_id=order_id_for(user_id, key),
            shipping_address=request.shipping_address,
            payment_method=request.payment_method,
            now=now,
        )
    except CartRuleError as error:
        raise _rule(error) from error
    receipt = order.to_receipt()
    try:
        store.place(
            order,
            CheckoutRecord(order.order_id, request.fingerprint, receipt),
            key=key,
            cart=cart,
            correlation_id=correlation_id,
        )
    except KeyTaken:
        raced = store.record(user_id, key)
        if raced is None:
            raise CheckoutInProgress("A checkout with this key is in progress; retry shortly.") from None
        return _replay(raced, request)
    return CheckoutResult(receipt, replayed=False)
