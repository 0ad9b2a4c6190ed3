"""The cart and checkout HTTP functions (``CartFunction``, ``CheckoutFunction``): every route needs a signed-in
customer and works on the caller's own cart and checkouts only."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from ecommerce import bootstrap
from ecommerce.answers import ProductAvailability
from ecommerce.cart import service
from ecommerce.cart.domain import MAX_QUANTITY, MIN_QUANTITY, CartRuleError, PricedCart, ShippingAddress, fingerprint
from ecommerce.cart.service import CartRepository, CheckoutStore, DiscountLookup, ProductLookup
from ecommerce.discounts.domain import DiscountRuleError
from ecommerce.errors import IdempotencyKeyRequired, InvalidId
from gears_shared.answers import Answer, Money, Timestamp
from gears_shared.http import (
    ErrorTable,
    create_resolver,
    current_caller,
    current_correlation_id,
    documented,
    http_handler,
    json_response,
    request_body,
)

# The cart's and the discount codes' domain errors carry their own title and code ("cart-full",
# "discount-expired", ...).
ERRORS: ErrorTable = {CartRuleError: 422, DiscountRuleError: 422}

PRODUCT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
NO_STORE = {"Cache-Control": "no-store"}

Carts = Annotated[CartRepository, Depends(bootstrap.cart_repository)]
Catalog = Annotated[ProductLookup, Depends(bootstrap.product_lookup)]
Checkouts = Annotated[CheckoutStore, Depends(bootstrap.checkout_store)]
Discounts = Annotated[DiscountLookup, Depends(bootstrap.discount_repository)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

LINE_FIELDS = (
    "Each line: `productId, sku, title, quantity, unitPrice, lineTotal, available, availableQuantity, "
    "reason?, message?, availability?, image?, addedAt` (`availability` and `image` absent for a product no longer "
    "in the catalog). A line that cannot be bought stays, `available: false` with "
    "a `reason` (`archived`, `deleted`, `not-for-sale`, `currency-mismatch`, `insufficient-stock`) and a `message` "
    '("only 3 left"), and counts in no total; `checkoutReady` is false while there is one. `availableQuantity` is '
    "the units inventory last said are available (null before it said anything: then any quantity is available)."
)


class QuantityIn(BaseModel):
    """PUT /cart/items/{productId}: the quantity, and nothing else (no price, no title)."""

    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt = Field(ge=MIN_QUANTITY, le=MAX_QUANTITY)


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    line1: Text
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postalCode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

    def domain(self) -> ShippingAddress:
        return ShippingAddress(
            name=self.name,
            line1=self.line1,
            line2=self.line2 or None,
            city=self.city,
            postal_code=self.postalCode,
            country=self.country,
        )


def _one_of_the_two_ways_to_pay(value: Any, handler: ValidatorFunctionWrapHandler) -> str:
    """The pattern's own refusal ("should match pattern '^(pm_...|paypal)$'") told as the two choices it allows."""
    try:
        return str(handler(value))
    except ValidationError:
        raise PydanticCustomError(
            "payment_method",
            'paymentMethod is either a card\'s payment method id ("pm_" then 1 to 100 letters, digits or "_") or '
            '"paypal" (lower case)',
        ) from None


PaymentMethod = Annotated[
    str, StringConstraints(pattern=r"^(pm_[A-Za-z0-9_]{1,100}|paypal)$"), WrapValidator(_one_of_the_two_ways_to_pay)
]


class CheckoutIn(BaseModel):
    """POST /checkout. Prices, totals, lines and status are the server's: any such field is refused."""

    model_config = ConfigDict(extra="forbid")

    shippingAddress: AddressIn
    paymentMethod: PaymentMethod = Field(description='A card\'s payment method id (`pm_...`), or `"paypal"`')
    discountCode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = Field(
        None, description="A discount code, in any case (`SPRING10` or `spring10`)"
    )

    def digest(self) -> str:
        """The request's digest; a checkout without a code digests as it did before codes existed."""
        request = self.model_dump(mode="json")
        if request.get("discountCode") is None:
            request.pop("discountCode", None)
        return fingerprint(request)


# -- answers (what the routes send back) -----------------------------------------------------------------------------
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class CartLineAnswer(Answer):
    productId: str
    sku: str
    title: str
    quantity: int
    unitPrice: Money | None  # null for a product no longer in the catalog
    lineTotal: Money | None
    available: bool
    availableQuantity: int | None
    # reason and message: absent for a line that can be bought.
    reason: Literal["deleted", "archived", "not-for-sale", "currency-mismatch", "insufficient-stock"] | None = None
    message: str | None = None  # "only 3 left"
    image: str | None = None  # absent for a product no longer in the catalog, null for one without images
    availability: ProductAvailability | None = None  # absent for a product no longer in the catalog
    addedAt: Timestamp


class CartAnswer(Answer):
    lines: list[CartLineAnswer]
    lineCount: int
    itemCount: int
    currency: Currency
    subtotal: Money
    shipping: Money
    total: Money
    checkoutReady: bool
    updatedAt: Timestamp | None  # null for a cart never stored (or forgotten)
    expiresAt: Timestamp | None


class CheckoutLine(Answer):
    productId: str
    sku: str
    title: str
    quantity: int
    unitPrice: Money
    lineTotal: Money


class AppliedDiscountAnswer(Answer):
    code: str
    amount: Money


class CheckoutPayment(Answer):
    """How the order is paid: by card (charged without the customer), or with PayPal, whose buyer follows
    ``approvalUrl`` to PayPal's approval page."""

    method: Literal["card", "paypal"]
    approvalUrl: str | None = Field(
        description="PayPal: the link that takes the buyer to PayPal's approval page (202 with Retry-After while the "
        "PayPal order is being made, then 303 to PayPal); null for a card"
    )


class CheckoutReceipt(Answer):
    """The 202 of POST /checkout, and its replay."""

    orderId: str
    status: Literal["PENDING"]
    lines: list[CheckoutLine]
    subtotal: Money
    shipping: Money
    discount: AppliedDiscountAnswer | None = Field(description="The code applied and what it took off; null: none")
    total: Money = Field(description="subtotal - discount + shipping")
    placedAt: Timestamp
    payment: CheckoutPayment


class CheckoutAnswer(CheckoutReceipt):
    """GET /checkout/{orderId}: the receipt, and where the order itself is read."""

    order: str


def _product_id(value: str) -> str:
    if not PRODUCT_ID.match(value):
        raise InvalidId("A product id is 1-128 letters, digits, '-' or '_'.", productId=value[:130])
    return value


def _cart(priced: PricedCart) -> Response[str]:
    return json_response(priced.to_dict(), headers=NO_STORE)


# -- cart ------------------------------------------------------------------------------------------------------------
cart_app = create_resolver(ERRORS)


def _user() -> str:
    return current_caller(cart_app).user_id


@cart_app.get(
    "/cart",
    summary="The caller's cart at the catalog's current prices, with totals and what can be bought",
    description="`{lines, lineCount, itemCount, currency, subtotal, shipping, total, checkoutReady, updatedAt, "
    "expiresAt}`. " + LINE_FIELDS + " A cart untouched for 30 days is forgotten.",
)
@documented(answers={200: CartAnswer})
def get_cart(carts: Carts, catalog: Catalog) -> Response[str]:
    return _cart(service.view_cart(service.ViewCart(_user()), carts, catalog))


@cart_app.put(
    "/cart/items/<product_id>",
    summary="Add a product to the cart or set its quantity (the cart)",
    description="Body: `{quantity: 1..99}` and nothing else (a price is refused: 400). At most 50 different products "
    "(422 `cart-full`); an unknown product is 404, an archived one 422 `product-unavailable`.",
)
@documented(body=QuantityIn, answers={200: CartAnswer})
def put_line(product_id: str, carts: Carts, catalog: Catalog) -> Response[str]:
    user, pid = _user(), _product_id(product_id)
    body = request_body(cart_app, QuantityIn)
    return _cart(service.set_quantity(service.SetQuantity(user, pid, body.quantity), carts, catalog))


@cart_app.delete(
    "/cart/items/<product_id>",
    summary="Remove a product from the cart (the cart)",
    description="404 if it is not in the cart.",
)
@documented(answers={200: CartAnswer})
def delete_line(product_id: str, carts: Carts, catalog: Catalog) -> Response[str]:
    user, pid = _user(), _product_id(product_id)
    return _cart(service.remove_line(service.RemoveLine(user, pid), carts, catalog))


@cart_app.delete("/cart", summary="Empty the cart (204)")
@documented(answers={204: None})
def clear_cart(carts: Carts) -> Response[None]:
    service.clear_cart(service.ClearCart(_user()), carts)
    return Response(status_code=204)


cart_handler = http_handler(cart_app)


# -- checkout --------------------------------------------------------------------------------------------------------
checkout_app = create_resolver(ERRORS)


def _idempotency_key() -> str:
    key = (checkout_app.current_event.headers.get("idempotency-key") or "").strip()
    if not key:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header (a new random value, e.g. a UUID, per order).")
    if not IDEMPOTENCY_KEY.match(key):
        raise IdempotencyKeyRequired("An Idempotency-Key is 8 to 128 letters, digits, '_', '-', '.' or ':'.")
    return key


@checkout_app.post(
    "/checkout",
    summary="Turn the cart into an order, once per Idempotency-Key (202, the receipt)",
    description="Header `Idempotency-Key` (8-128 of `A-Z a-z 0-9 _ - . :`); body `{shippingAddress: {name, line1, "
    'line2?, city, postalCode, country (ISO 3166-1 alpha-2)}, paymentMethod: "pm_..." or "paypal"}` and nothing '
    'else. 202 `{orderId, status: "PENDING", lines, subtotal, shipping, total, placedAt, payment: {method, '
    "approvalUrl}}` with `Location: /checkout/{orderId}`, which answers at once. With PayPal, `payment.approvalUrl` "
    "is where the buyer goes to approve the payment at PayPal (the order waits for them, AWAITING_PAYMENT, and is "
    "cancelled with its stock released if they cancel there or never approve). Prices and totals are the catalog's. "
    "The same key and body again answer the same order (`Idempotent-Replayed: true`); the same key with another body "
    "is 422 `idempotency-key-reused`. An empty cart is 422 `empty-cart`; a line that cannot be bought (archived, or "
    "more than the units available) 422 `products-unavailable`, naming the lines in `unavailable`, before any order is "
    "placed. Shipping: free from 50.00, else 4.99, in the cart's currency. `discountCode` (optional, any case) takes "
    "its discount off the subtotal (`discount: {code, amount}` in the answer; `total = subtotal - discount + "
    "shipping`, shipping decided on the subtotal before the discount) and uses the code once, in the order's own "
    "transaction; a code that does not apply places nothing: 422 `discount-unknown`, `discount-inactive`, "
    "`discount-not-yet-valid`, `discount-expired`, `discount-currency-mismatch`, `discount-below-minimum` or "
    "`discount-exhausted` (used as many times as its limit allows); 409 `discount-busy` when every use left was "
    "being claimed by other checkouts at that instant (try again).",
)
@documented(
    body=CheckoutIn,
    answers={202: CheckoutReceipt},
    headers={
        "Idempotency-Key": "8 to 128 of letters, digits and `_.:-`, new per order: a retried request is the same order"
    },
    required_headers=("Idempotency-Key",),
    answer_headers={
        202: {
            "Location": "The checkout's URL: `/checkout/{orderId}`",
            "Idempotent-Replayed": "`true` when this is the answer to an earlier request with this key (else absent)",
        }
    },
)
def post_checkout(checkouts: Checkouts, catalog: Catalog, discounts: Discounts) -> Response[str]:
    user, key = current_caller(checkout_app).user_id, _idempotency_key()
    body = request_body(checkout_app, CheckoutIn)
    cmd = service.Checkout(
        user_id=user,
        key=key,
        shipping_address=body.shippingAddress.domain(),
        payment_method=body.paymentMethod,
        fingerprint=body.digest(),
        correlation_id=current_correlation_id(checkout_app),
        discount_code=body.discountCode,
        public_url=bootstrap.public_api_url(),
    )
    result = service.checkout(cmd, checkouts, catalog, discounts=discounts)
    headers = {"Location": f"/checkout/{result.receipt['orderId']}", **NO_STORE}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(result.receipt, 202, headers)


@checkout_app.get(
    "/checkout/<order_id>",
    summary="One of the caller's checkouts, from the moment its 202 is sent (PENDING), and where its order is",
    description='`{orderId, status: "PENDING", order: "/orders/{orderId}", lines, subtotal, shipping, discount, '
    "total, placedAt, payment: {method, approvalUrl}}`: the checkout as it was accepted. The order's own state is at "
    "`order` (the orders service learns of it a moment later). `payment.method` is `card` or `paypal`; for PayPal, "
    "`payment.approvalUrl` is the link that takes the buyer to PayPal's approval page (null for a card), so a buyer "
    "who left before approving can come back to it. A checkout from before PayPal reads as paid by card. Another "
    "customer's checkout, or an unknown id, is 404.",
)
@documented(answers={200: CheckoutAnswer})
def get_checkout(order_id: str, checkouts: Checkouts) -> Response[str]:
    user = current_caller(checkout_app).user_id
    return json_response(service.show_checkout(service.ShowCheckout(user, order_id), checkouts), headers=NO_STORE)


checkout_handler = http_handler(checkout_app)
