"""The e-commerce service's errors, of the shared kinds (their status comes with the kind).

The domains' own rule errors (:class:`ecommerce.catalog.domain.CatalogRuleError`,
:class:`ecommerce.cart.domain.CartRuleError`) know nothing of HTTP: each API's ``ERRORS`` table gives their status.
"""

from __future__ import annotations

from gears_shared.errors import BadRequest, BusinessRuleViolation, Conflict, NotFound


class ProductNotFound(NotFound):
    title = "Product not found"
    code = "product-not-found"


class ProductExists(Conflict):
    """The SKU already has a product (perhaps archived: restore it with PUT instead)."""

    title = "Product already exists"
    code = "product-exists"


class StaleProduct(Conflict):
    """The product changed since the caller read it: its ``version`` is not the one the caller sent."""

    title = "Product was changed"
    code = "stale-product"


class UnknownCategory(BusinessRuleViolation):
    title = "Unknown category"
    code = "unknown-category"


class InvalidProduct(BusinessRuleViolation):
    title = "Invalid product"
    code = "invalid-product"


class UnknownCategoryFilter(BadRequest):
    title = "Unknown category"
    code = "unknown-category"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class VersionRequired(BadRequest):
    title = "Version required"
    code = "version-required"


# -- cart and checkout -----------------------------------------------------------------------------------------------
class ProductUnavailable(BusinessRuleViolation):
    """The product exists but is not for sale (archived): it cannot be added to a cart."""

    title = "Product unavailable"
    code = "product-unavailable"


class NotInCart(NotFound):
    title = "Not in the cart"
    code = "not-in-cart"


class CartChanged(Conflict):
    """The cart changed while a request was changing it or checking it out; read it again and retry."""

    title = "Cart was changed"
    code = "cart-changed"


class IdempotencyKeyRequired(BadRequest):
    title = "Idempotency-Key required"
    code = "idempotency-key-required"


class IdempotencyKeyReused(BusinessRuleViolation):
    """The key already placed an order for a different request: a new checkout needs a new key."""

    title = "Idempotency-Key reused"
    code = "idempotency-key-reused"


class CheckoutInProgress(Conflict):
    """Another request with the same key is being processed; retry shortly to get its answer."""

    title = "Checkout in progress"
    code = "checkout-in-progress"


class CheckoutNotFound(NotFound):
    """No checkout of the caller's has this order id (another customer's is not found either)."""

    title = "Checkout not found"
    code = "checkout-not-found"


class InvalidId(BadRequest):
    title = "Invalid id"
    code = "invalid-id"


# -- discount codes --------------------------------------------------------------------------------------------------
class DiscountNotFound(NotFound):
    title = "Discount code not found"
    code = "discount-not-found"


class DiscountExists(Conflict):
    """The code is taken (perhaps by a deactivated code: change that one with PUT instead)."""

    title = "Discount code already exists"
    code = "discount-exists"


class StaleDiscount(Conflict):
    """The code changed since the caller read it (its ``version`` is not the one sent), or kept changing while
    this request changed it."""

    title = "Discount code was changed"
    code = "stale-discount"


class DiscountBusy(Conflict):
    """Every usage shard of the code was taken by another checkout at that instant; trying again succeeds while
    uses are left."""

    title = "Discount code busy"
    code = "discount-busy"
