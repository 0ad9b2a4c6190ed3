"""The e-commerce service's errors; :mod:`gears_shared.http` maps each to its status and a problem+json body."""

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
