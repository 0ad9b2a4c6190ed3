"""The cart and checkout HTTP functions (``CartFunction``, ``CheckoutFunction``); every route needs a signed-in user
and works on the caller's own cart only.

- ``GET /cart``: the cart at the catalog's current prices: ``{lines: [{productId, sku, title, quantity, unitPrice,
  lineTotal, available, reason?, availability, image, addedAt}], lineCount, itemCount, currency, subtotal,
  shipping, total, checkoutReady, updatedAt, expiresAt}``. A product archived or deleted since it was added stays
  in the cart, ``available: false`` with a ``reason`` (``archived``, ``deleted``, ``not-for-sale``,
  ``currency-mismatch``), and counts in no total. A cart untouched for 30 days is forgotten.
- ``PUT /cart/items/{productId}`` ``{"quantity": 1..99}``: add the product or set its quantity (200, the cart). At
  most 50 different products (422 ``cart-full``). Unknown product 404, archived 422 ``product-unavailable``.
  Anything but ``quantity`` in the body (a price, say) is refused (400).
- ``DELETE /cart/items/{productId}``: remove the line (200, the cart); 404 if it is not in the cart.
- ``DELETE /cart``: empty the cart (204).
- ``POST /checkout`` with an ``Idempotency-Key`` header (8-128 of ``A-Z a-z 0-9 _ - . :``) and ``{shippingAddress:
  {name, line1, line2?, city, postalCode, country (ISO 3166-1 alpha-2)}, paymentMethod: "pm_..."}``: 202 ``{orderId,
  status: "PENDING", lines, subtotal, shipping, total, placedAt}`` with ``Location: /orders/{orderId}``. Prices and
  totals are the catalog's; a body with any other field (a price, a total, a status) is 400. The same key and body
  again answer the same order (202, ``Idempotent-Replayed: true``); the same key with another body is 422
  ``idempotency-key-reused``. An empty cart is 422 ``empty-cart``; unavailable products 422
  ``products-unavailable`` naming them. Shipping: free from 50.00, else 4.99, in the cart's currency.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from ecommerce import shopping
from ecommerce.cart import MAX_QUANTITY, MIN_QUANTITY, CartRuleError, ShippingAddress, fingerprint
from ecommerce.errors import CartRuleViolated, IdempotencyKeyRequired, InvalidId
from ecommerce.shopping_store import DynamoCartRepository, DynamoCheckoutStore, DynamoProductLookup
from gears_shared.http import (
    CORRELATION_ID_PATH,
    answer,
    create_resolver,
    current_caller,
    current_correlation_id,
    json_response,
    problem_response,
    request_body,
)
from gears_shared.observability import setup

logger, tracer, metrics = setup()

# Wired once per container; tests reach these to hand in fakes.
TABLE_NAME = os.environ.get("TABLE_NAME", "")
_client = boto3.client("dynamodb")
carts = DynamoCartRepository(TABLE_NAME, _client)
catalog = DynamoProductLookup(TABLE_NAME, _client)
checkouts = DynamoCheckoutStore(TABLE_NAME, _client)

PRODUCT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
NO_STORE = {"Cache-Control": "no-store"}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


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


class CheckoutIn(BaseModel):
    """POST /checkout. Prices, totals, lines and status are the server's: any such field is refused."""

    model_config = ConfigDict(extra="forbid")

    shippingAddress: AddressIn
    paymentMethod: Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,100}$")]


def _product_id(value: str) -> str:
    if not PRODUCT_ID.match(value):
        raise InvalidId("A product id is 1-128 letters, digits, '-' or '_'.", productId=value[:130])
    return value


def _resolver() -> APIGatewayHttpResolver:
    app = create_resolver(logger)

    @app.exception_handler(CartRuleError)
    def _rule_broken(error: CartRuleError) -> Response[Any]:
        return problem_response(CartRuleViolated(str(error), error.code), app.current_event.path)

    return app


# -- cart ------------------------------------------------------------------------------------------------------------
cart_app = _resolver()


def _user() -> str:
    return current_caller(cart_app).user_id


@cart_app.get("/cart")
def get_cart() -> Response[Any]:
    priced = shopping.view_cart(_user(), carts=carts, catalog=catalog)
    return json_response(priced.to_dict(), headers=NO_STORE)


@cart_app.put("/cart/items/<product_id>")
def put_line(product_id: str) -> Response[Any]:
    user = _user()
    pid = _product_id(product_id)
    body = request_body(cart_app, QuantityIn)
    priced = shopping.set_quantity(user, pid, body.quantity, carts=carts, catalog=catalog)
    return json_response(priced.to_dict(), headers=NO_STORE)


@cart_app.delete("/cart/items/<product_id>")
def delete_line(product_id: str) -> Response[Any]:
    user = _user()
    priced = shopping.remove_line(user, _product_id(product_id), carts=carts, catalog=catalog)
    return json_response(priced.to_dict(), headers=NO_STORE)


@cart_app.delete("/cart")
def clear_cart() -> Response[Any]:
    shopping.clear_cart(_user(), carts=carts)
    return Response(status_code=204)


# -- checkout --------------------------------------------------------------------------------------------------------
checkout_app = _resolver()


@checkout_app.post("/checkout")
def post_checkout() -> Response[Any]:
    user = current_caller(checkout_app).user_id
    key = (checkout_app.current_event.headers.get("idempotency-key") or "").strip()
    if not key:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header (a new random value, e.g. a UUID, per order).")
    if not IDEMPOTENCY_KEY.match(key):
        raise IdempotencyKeyRequired("An Idempotency-Key is 8 to 128 letters, digits, '_', '-', '.' or ':'.")
    body = request_body(checkout_app, CheckoutIn)
    request = shopping.CheckoutRequest(
        shipping_address=body.shippingAddress.domain(),
        payment_method=body.paymentMethod,
        fingerprint=fingerprint(body.model_dump(mode="json")),
    )
    result = shopping.checkout(
        user,
        key,
        request,
        store=checkouts,
        catalog=catalog,
        correlation_id=current_correlation_id(checkout_app),
    )
    headers = {"Location": f"/orders/{result.receipt['orderId']}", **NO_STORE}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(result.receipt, 202, headers)


# -- handlers --------------------------------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def cart_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(cart_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def checkout_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(checkout_app, event, context)
