"""The shopping cart and the order it turns into: lines, bounds, prices from the catalog, shipping, totals.

Standard library only. A cart stores what the customer chose (product ids and quantities, plus the SKU and title
seen when the line was added, to name a line whose product later disappears); it never stores a price. Prices,
totals and whether a line can still be bought always come from the catalog as it is now (:func:`price_cart`).

Whether a line can be bought also depends on stock, as far as the shop knows it: the units available that
inventory last announced (the product's :class:`~ecommerce.catalog.domain.Availability`, kept by the availability
consumer). A line asking for more than that is not available ("only 3 left") and the cart cannot check out. Before
inventory has said anything about a product, its lines are available whatever their quantity, and the order saga
decides (a reservation that fails cancels the order).

Shipping rule (in the cart's currency, minor units): free from :data:`FREE_SHIPPING_FROM` (50.00) of subtotal,
else :data:`SHIPPING_FEE` (4.99); an empty cart ships nothing and costs nothing. A discount code
(:mod:`ecommerce.discounts.domain`) comes off the subtotal at checkout and does not change shipping, which is
decided on the subtotal before it: ``total = subtotal - discount + shipping``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ecommerce.catalog.domain import Money, Product, ProductStatus, utc_iso
from ecommerce.discounts.domain import AppliedDiscount

MIN_QUANTITY = 1
MAX_QUANTITY = 99
MAX_LINES = 50
CART_TTL = timedelta(days=30)
FREE_SHIPPING_FROM = 5000
SHIPPING_FEE = 499
DEFAULT_CURRENCY = "GBP"
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
ORDER_ID_NAMESPACE = uuid.UUID("9d1c6a52-4f0e-4b8a-a6f1-3b2e7c5d9a04")


class CartRuleError(ValueError):
    """A change to a cart, or a checkout, breaks a rule of the shop (the API answers 422 with ``code``)."""

    title = "Cart rule violated"
    code = "cart-rule"


class QuantityOutOfRange(CartRuleError):
    code = "quantity-out-of-range"


class CartFull(CartRuleError):
    code = "cart-full"


class CurrencyMismatch(CartRuleError):
    code = "currency-mismatch"


class EmptyCart(CartRuleError):
    code = "empty-cart"


class UnavailableLines(CartRuleError):
    """Some lines cannot be bought as the cart stands; ``lines`` names them (product id, SKU, title, reason, a
    message, and for a line short of stock the quantity asked and the quantity available), and so does the
    problem's ``unavailable`` field."""

    code = "products-unavailable"

    def __init__(self, message: str, lines: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.lines = lines
        self.extra = {"unavailable": lines}


# -- the cart --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CartLine:
    product_id: str
    quantity: int
    sku: str = ""
    title: str = ""
    added_at: str = ""


@dataclass(frozen=True)
class Cart:
    """One customer's cart. ``version`` counts stored revisions (0: never stored, or expired)."""

    user_id: str
    lines: tuple[CartLine, ...] = ()
    version: int = 0
    updated_at: datetime | None = None

    @property
    def product_ids(self) -> list[str]:
        return [line.product_id for line in self.lines]

    def line(self, product_id: str) -> CartLine | None:
        return next((line for line in self.lines if line.product_id == product_id), None)

    def expires_at(self) -> datetime | None:
        """When an untouched cart is forgotten (the table's TTL removes it some time after)."""
        return None if self.updated_at is None else self.updated_at + CART_TTL

    def with_quantity(self, product: Product, quantity: int, now: datetime) -> Cart:
        """The cart with ``quantity`` of ``product`` (a new line, or the line's quantity replaced)."""
        if isinstance(quantity, bool) or not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise QuantityOutOfRange(f"A quantity is {MIN_QUANTITY} to {MAX_QUANTITY}.")
        current = self.line(product.product_id)
        if current is None:
            if len(self.lines) >= MAX_LINES:
                raise CartFull(f"A cart holds at most {MAX_LINES} different products; remove one first.")
            new = CartLine(product.product_id, quantity, product.sku, product.details.title, utc_iso(now))
            lines = (*self.lines, new)
        else:
            changed = replace(current, quantity=quantity, sku=product.sku, title=product.details.title)
            lines = tuple(changed if line is current else line for line in self.lines)
        return replace(self, lines=lines, updated_at=now)

    def without(self, product_id: str, now: datetime) -> Cart:
        return replace(self, lines=tuple(li for li in self.lines if li.product_id != product_id), updated_at=now)


# -- pricing ---------------------------------------------------------------------------------------------------------
# Why a line cannot be bought, and how the customer is told.
DELETED = "deleted"
ARCHIVED = "archived"
NOT_FOR_SALE = "not-for-sale"
CURRENCY_MISMATCH = "currency-mismatch"
INSUFFICIENT_STOCK = "insufficient-stock"
MESSAGES = {
    DELETED: "no longer in the catalog",
    ARCHIVED: "no longer sold",
    NOT_FOR_SALE: "not for sale",
    CURRENCY_MISMATCH: "sold in another currency than the cart",
}


@dataclass(frozen=True)
class PricedLine:
    line: CartLine
    product: Product | None
    reason: str | None  # None: can be bought; else one of DELETED ... INSUFFICIENT_STOCK
    unit_price: Money | None
    line_total: Money | None

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def available_quantity(self) -> int | None:
        """The units inventory last said are available; ``None`` while it has said nothing (or the product is gone)."""
        return None if self.product is None else self.product.availability.available

    @property
    def message(self) -> str | None:
        """Why the line cannot be bought, in the customer's words ("only 3 left"); ``None`` when it can."""
        if self.reason != INSUFFICIENT_STOCK:
            return None if self.reason is None else MESSAGES[self.reason]
        left = self.available_quantity or 0
        return f"only {left} left" if left else "out of stock"

    def to_dict(self) -> dict[str, Any]:
        product = self.product
        out: dict[str, Any] = {
            "productId": self.line.product_id,
            "sku": product.sku if product else self.line.sku,
            "title": product.details.title if product else self.line.title,
            "quantity": self.line.quantity,
            "unitPrice": _money(self.unit_price),
            "lineTotal": _money(self.line_total),
            "available": self.available,
            "availableQuantity": self.available_quantity,
            "addedAt": self.line.added_at,
        }
        if self.reason is not None:
            out["reason"] = self.reason
            out["message"] = self.message
        if product is not None:
            out["image"] = product.details.images[0] if product.details.images else None
            out["availability"] = product.availability.to_dict()
        return out

    def named(self) -> dict[str, Any]:
        """The line as a refused checkout names it."""
        shown = self.to_dict()
        keys = ("productId", "sku", "title", "quantity", "availableQuantity", "reason", "message")
        return {key: shown.get(key) for key in keys}


@dataclass(frozen=True)
class PricedCart:
    cart: Cart
    lines: tuple[PricedLine, ...]
    currency: str
    subtotal: Money
    shipping: Money
    total: Money

    @property
    def unavailable(self) -> list[PricedLine]:
        return [line for line in self.lines if not line.available]

    def to_dict(self) -> dict[str, Any]:
        expires = self.cart.expires_at()
        return {
            "lines": [line.to_dict() for line in self.lines],
            "lineCount": len(self.lines),
            "itemCount": sum(line.line.quantity for line in self.lines if line.available),
            "currency": self.currency,
            "subtotal": _money(self.subtotal),
            "shipping": _money(self.shipping),
            "total": _money(self.total),
            "checkoutReady": bool(self.lines) and not self.unavailable,
            "updatedAt": utc_iso(self.cart.updated_at) if self.cart.updated_at else None,
            "expiresAt": utc_iso(expires) if expires else None,
        }


def _money(value: Money | None) -> dict[str, Any] | None:
    return None if value is None else {"amount": value.amount, "currency": value.currency}


def shipping_for(subtotal: Money) -> Money:
    """Free from 50.00, else 4.99; nothing to ship, nothing to pay."""
    if subtotal.amount == 0 or subtotal.amount >= FREE_SHIPPING_FROM:
        return Money(0, subtotal.currency)
    return Money(SHIPPING_FEE, subtotal.currency)


def _not_sold(product: Product | None) -> str | None:
    """Why the catalog does not sell the product (``None``: it does)."""
    if product is None:
        return DELETED
    if product.status is ProductStatus.ARCHIVED:
        return ARCHIVED
    if product.status is not ProductStatus.ACTIVE:
        return NOT_FOR_SALE
    return None


def _unavailable(line: CartLine, product: Product | None, currency: str) -> str | None:
    """Why ``line`` cannot be bought in a cart in ``currency`` (``None``: it can)."""
    reason = _not_sold(product)
    if reason is not None or product is None:
        return reason
    if product.details.price.currency != currency:
        return CURRENCY_MISMATCH
    left = product.availability.available
    if left is not None and line.quantity > left:
        return INSUFFICIENT_STOCK
    return None


def cart_currency(cart: Cart, products: Mapping[str, Product]) -> str:
    """The currency of the cart: that of its first line still for sale (the shop's default when there is none)."""
    for line in cart.lines:
        product = products.get(line.product_id)
        if product is not None and _not_sold(product) is None:
            return product.details.price.currency
    return DEFAULT_CURRENCY


def check_currency(cart: Cart, product: Product, products: Mapping[str, Product]) -> None:
    """A cart is in one currency: :class:`CurrencyMismatch` if ``product`` is sold in another than the cart's other
    lines are (``products``: theirs)."""
    others = Cart(cart.user_id, tuple(li for li in cart.lines if li.product_id != product.product_id))
    currency = cart_currency(others, products) if others.lines else product.details.price.currency
    if product.details.price.currency != currency:
        raise CurrencyMismatch(f"The cart is in {currency}; this product is sold in another currency.")


def price_cart(cart: Cart, products: Mapping[str, Product]) -> PricedCart:
    """The cart at the catalog's current prices. Lines that cannot be bought (not sold, in another currency, or
    asking for more than the units known to be available) stay, flagged with a reason, and count in no total."""
    currency = cart_currency(cart, products)
    priced: list[PricedLine] = []
    subtotal = 0
    for line in cart.lines:
        product = products.get(line.product_id)
        reason = _unavailable(line, product, currency)
        unit = product.details.price if product is not None else None
        total = Money(unit.amount * line.quantity, unit.currency) if unit is not None else None
        if reason is None and total is not None:
            subtotal += total.amount
        priced.append(PricedLine(line, product, reason, unit, total))
    sub = Money(subtotal, currency)
    shipping = shipping_for(sub)
    return PricedCart(cart, tuple(priced), currency, sub, shipping, Money(sub.amount + shipping.amount, currency))


# -- the order a checkout places -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShippingAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None

    def __post_init__(self) -> None:
        if not COUNTRY_PATTERN.match(self.country):
            raise CartRuleError("A country is an ISO 3166-1 alpha-2 code, like GB.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postalCode": self.postal_code,
            "country": self.country,
        }


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Money
    line_total: Money

    def to_dict(self) -> dict[str, Any]:
        return {
            "productId": self.product_id,
            "sku": self.sku,
            "title": self.title,
            "quantity": self.quantity,
            "unitPrice": _money(self.unit_price),
            "lineTotal": _money(self.line_total),
        }


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    user_id: str
    lines: tuple[OrderLine, ...]
    subtotal: Money
    shipping: Money
    total: Money
    shipping_address: ShippingAddress
    payment_method: str
    placed_at: datetime
    discount: AppliedDiscount | None = None

    def with_discount(self, discount: AppliedDiscount) -> PlacedOrder:
        """The order with a discount code applied: ``total = subtotal - discount + shipping`` (the discount is never
        more than the subtotal, so the total never falls below shipping)."""
        off = min(discount.amount.amount, self.subtotal.amount)
        applied = AppliedDiscount(discount.code, Money(off, self.subtotal.currency))
        total = Money(self.subtotal.amount - off + self.shipping.amount, self.total.currency)
        return replace(self, discount=applied, total=total)

    def to_event_data(self) -> dict[str, Any]:
        """``OrderPlaced.v1``'s data, as docs/events.md lists it."""
        return {
            "orderId": self.order_id,
            "userId": self.user_id,
            "lines": [line.to_dict() for line in self.lines],
            "subtotal": _money(self.subtotal),
            "shipping": _money(self.shipping),
            "discount": self.discount.to_dict() if self.discount else None,
            "total": _money(self.total),
            "shippingAddress": self.shipping_address.to_dict(),
            "paymentMethod": self.payment_method,
            "placedAt": utc_iso(self.placed_at),
        }

    def to_receipt(self, public_url: str = "") -> dict[str, Any]:
        """What the customer sees at once (202): the order id, its state, the lines and the totals, and how it is
        paid (:func:`payment_of`)."""
        return {
            "orderId": self.order_id,
            "status": "PENDING",
            "lines": [line.to_dict() for line in self.lines],
            "subtotal": _money(self.subtotal),
            "shipping": _money(self.shipping),
            "discount": self.discount.to_dict() if self.discount else None,
            "total": _money(self.total),
            "placedAt": utc_iso(self.placed_at),
            "payment": payment_of(self.order_id, self.payment_method, public_url),
        }


PAYPAL = "paypal"
APPROVE_PATH = "/payments/paypal/approve"


def payment_of(order_id: str, payment_method: str | None, public_url: str) -> dict[str, Any]:
    """How the order is paid: a card (charged without the customer) or PayPal, with the link that takes the buyer to
    PayPal's approval page. The link is the payment service's, known at once: PayPal's own is made only once the
    stock is reserved, and the payment service's link forwards to it then."""
    if payment_method != PAYPAL:
        return {"method": "card", "approvalUrl": None}
    return {"method": PAYPAL, "approvalUrl": f"{public_url.rstrip('/')}{APPROVE_PATH}?orderId={order_id}"}


def order_id_for(user_id: str, idempotency_key: str) -> str:
    """The order a checkout key makes: the same customer and key always name the same order, so two racing
    retries of one checkout cannot place two orders."""
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, f"{user_id}#{idempotency_key}"))


def fingerprint(request: Mapping[str, Any]) -> str:
    """A digest of a checkout request, to tell a retry (same digest) from another request reusing its key."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    priced: PricedCart,
    *,
    order_id: str,
    shipping_address: ShippingAddress,
    payment_method: str,
    now: datetime,
) -> PlacedOrder:
    """The order for a priced cart; :class:`EmptyCart` or :class:`UnavailableLines` when it cannot be placed (so a
    cart asking for more than the units known to be available is refused before any order exists)."""
    if not priced.lines:
        raise EmptyCart("The cart is empty: add something before checking out.")
    if priced.unavailable:
        named = [li.named() for li in priced.unavailable]
        titles = ", ".join(f"{n['title'] or n['productId']} ({n['message']})" for n in named)
        raise UnavailableLines(
            f"Some products cannot be bought as the cart stands: {titles}. Remove them or lower their quantity first.",
            named,
        )
    lines = tuple(_order_line(li) for li in priced.lines)
    return PlacedOrder(
        order_id=order_id,
        user_id=priced.cart.user_id,
        lines=lines,
        subtotal=priced.subtotal,
        shipping=priced.shipping,
        total=priced.total,
        shipping_address=shipping_address,
        payment_method=payment_method,
        placed_at=now,
    )


def _order_line(priced: PricedLine) -> OrderLine:
    product, unit, total = priced.product, priced.unit_price, priced.line_total
    if product is None or unit is None or total is None:  # place_order only lets available lines through
        raise UnavailableLines("A line cannot be bought.", [{"productId": priced.line.product_id}])
    return OrderLine(product.product_id, product.sku, product.details.title, priced.line.quantity, unit, total)


def distinct(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
