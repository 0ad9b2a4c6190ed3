"""The recommendation service's own errors, each one of the shared kinds (which carry its status)."""

from __future__ import annotations

from gears_shared.errors import BadRequest, NotFound


class ProductNotFound(NotFound):
    title = "Product not found"
    code = "product-not-found"


class InvalidProductId(BadRequest):
    title = "Invalid product id"
    code = "invalid-product-id"


class InvalidCategoryId(BadRequest):
    title = "Invalid category id"
    code = "invalid-category-id"
