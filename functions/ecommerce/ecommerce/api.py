"""The catalog's HTTP functions: public reads (``CatalogReadFunction``) and admin writes (``CatalogAdminFunction``).

Public, no token:

- ``GET /products?category=&limit=&cursor=``: active products, ``{"items": [...], "nextCursor": "..." | null}``.
  ``limit`` defaults to 20 and is capped at 100; ``category`` includes its subcategories; ``cursor`` is the
  previous page's ``nextCursor``, opaque.
- ``GET /products/{productId}``: one active product (drafts and archived products answer 404), with an ``ETag``.
- Every product shown carries ``availability``: ``{"level": "unknown" | "in_stock" | "low" | "out", "available":
  <units> | null, "asOf": <time of the inventory event> | null}``, kept from inventory's ``StockLevelChanged.v1``
  events (:mod:`ecommerce.consumers`). Before inventory has said anything about a product it is ``unknown``.
- ``GET /categories``: the category tree, ``{"categories": [{id, name, parent, children: [...]}]}``.

Admin (the ``admin`` group; others get 403):

- ``POST /products``: create (201, ``Location``). The SKU decides the product id; a SKU already in the catalog
  is 409. Server fields (``productId``, ``createdAt``, ``updatedAt``, ``version``) are refused (400).
- ``PUT /products/{productId}``: replace the details. Needs the version the caller read, as ``version`` in the
  body or ``If-Match: "<version>"`` (``*``: whatever is current); a stale version is 409. ``productId``,
  ``createdAt``, ``updatedAt`` and ``availability`` may be sent back as read and are ignored; the SKU cannot change.
- ``DELETE /products/{productId}``: **archives** the product (204): it leaves every listing and public read, and
  its record stays for the orders that refer to it (a PUT with ``status`` restores it). ``If-Match`` optional.

An unknown category on a write is 422; a malformed body, limit or cursor 400. Every response carries
``x-correlation-id``, which every write stores on the product for the published events to carry.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from ecommerce import service
from ecommerce.domain import DESCRIPTION_MAX, TITLE_MAX, CatalogRuleError, Money, Product, ProductDetails, ProductStatus
from ecommerce.errors import InvalidProduct, VersionRequired
from ecommerce.service import CategoryCatalog
from ecommerce.store import DynamoCategorySource, DynamoProductRepository
from gears_shared.auth import ADMIN
from gears_shared.errors import BadRequest
from gears_shared.http import (
    CORRELATION_ID_PATH,
    answer,
    create_resolver,
    current_correlation_id,
    decode_cursor,
    encode_cursor,
    json_response,
    problem_response,
    request_body,
    require_roles,
)
from gears_shared.observability import setup

logger, tracer, metrics = setup()

# Wired once per container (cosmicpython's bootstrap): tests reach these to hand in fakes or reset the cache.
TABLE_NAME = os.environ.get("TABLE_NAME", "")
products = DynamoProductRepository(TABLE_NAME)
categories = CategoryCatalog(DynamoCategorySource(TABLE_NAME))

PRODUCT_CACHE = "public, max-age=30"
CATEGORY_CACHE = "public, max-age=60"

# -- request bodies (validated at the edge; unknown fields are refused) ----------------------------------------------
SKU_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9_./-]*$"
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SKU_SHAPE)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
CategoryId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AttributeValue = Annotated[str, StringConstraints(max_length=500)]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=0, le=100_000_000, description="Minor units (pence, cents)")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")


class _ProductFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: str = Field("", max_length=DESCRIPTION_MAX)
    price: PriceIn
    category: CategoryId
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    images: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    attributes: dict[AttributeName, AttributeValue] = Field(default_factory=dict, max_length=50)

    def details(self, status: str) -> ProductDetails:
        return ProductDetails(
            title=self.title,
            price=Money(self.price.amount, self.price.currency),
            category=self.category,
            description=self.description,
            brand=self.brand or None,
            images=tuple(str(url) for url in self.images),
            attributes=self.attributes,
            status=ProductStatus(status),
        )


class NewProduct(_ProductFields):
    """POST /products. ``productId``, ``createdAt``, ``updatedAt`` and ``version`` are the server's: refused."""

    sku: Sku
    status: Literal["draft", "active"] = "draft"


class ProductReplacement(_ProductFields):
    """PUT /products/{productId}: the product as read, changed. Server fields may come back; they are ignored."""

    sku: Sku | None = None
    status: Literal["draft", "active", "archived"]
    version: StrictInt | None = Field(None, ge=1)
    productId: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    availability: dict[str, Any] | None = Field(None, description="As read; inventory's, ignored here")


# -- shared plumbing -------------------------------------------------------------------------------------------------
def _resolver(*middlewares: Any) -> APIGatewayHttpResolver:
    app = create_resolver(logger)
    if middlewares:
        app.use(middlewares=list(middlewares))

    @app.exception_handler(CatalogRuleError)
    def _rule_broken(error: CatalogRuleError) -> Response[Any]:
        return problem_response(InvalidProduct(str(error)), app.current_event.path)

    return app


def _etag(product: Product) -> str:
    return f'"{product.version}"'


def _product_response(product: Product, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return json_response(product.to_view(), status, {"ETag": _etag(product), **(headers or {})})


def parse_if_match(value: str | None) -> int | Literal["*"] | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"``, ``3``), ``"*"``, or ``None`` without one."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text == "*":
        return "*"
    text = text.removeprefix("W/").strip('"')
    if not text.isdigit() or int(text) < 1:
        raise BadRequest('If-Match names a product version, like "3".')
    return int(text)


# -- public reads ----------------------------------------------------------------------------------------------------
read_app = _resolver()


@read_app.get("/products")
def list_products(
    category: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response[Any]:
    page = service.list_active_products(
        products, categories, category=category, limit=limit, position=decode_cursor(cursor)
    )
    body = {"items": [p.to_view() for p in page.items], "nextCursor": encode_cursor(page.next_position)}
    return json_response(body, headers={"Cache-Control": PRODUCT_CACHE})


@read_app.get("/products/<product_id>")
def get_product(product_id: str) -> Response[Any]:
    product = service.get_active_product(product_id, products)
    return _product_response(product, headers={"Cache-Control": PRODUCT_CACHE})


@read_app.get("/categories")
def list_categories() -> Response[Any]:
    tree = service.category_tree(categories)
    return json_response({"categories": tree.as_nested()}, headers={"Cache-Control": CATEGORY_CACHE})


# -- admin writes ----------------------------------------------------------------------------------------------------
admin_app = _resolver(require_roles(ADMIN))


@admin_app.post("/products")
def create_product() -> Response[Any]:
    body = request_body(admin_app, NewProduct)
    product = service.create_product(
        body.sku,
        body.details(body.status),
        products=products,
        categories=categories,
        correlation_id=current_correlation_id(admin_app),
    )
    return _product_response(product, 201, {"Location": f"/products/{product.product_id}"})


@admin_app.put("/products/<product_id>")
def replace_product(product_id: str) -> Response[Any]:
    body = request_body(admin_app, ProductReplacement)
    if body.productId is not None and body.productId != product_id:
        raise BadRequest("The body's productId is not the product of this URL.")
    header = parse_if_match(admin_app.current_event.headers.get("if-match"))
    if header is not None and body.version is not None and header != body.version:
        raise BadRequest("The body's version and If-Match disagree.")
    expected = body.version if body.version is not None else header
    if expected is None:
        raise VersionRequired('Send the version you read, as "version" in the body or an If-Match header.')
    product = service.update_product(
        product_id,
        body.details(body.status),
        expected_version=None if expected == "*" else expected,
        sku=body.sku,
        products=products,
        categories=categories,
        correlation_id=current_correlation_id(admin_app),
    )
    return _product_response(product)


@admin_app.delete("/products/<product_id>")
def archive_product(product_id: str) -> Response[Any]:
    header = parse_if_match(admin_app.current_event.headers.get("if-match"))
    service.archive_product(
        product_id,
        products=products,
        expected_version=None if header in (None, "*") else int(header),
        correlation_id=current_correlation_id(admin_app),
    )
    return Response(status_code=204)


# -- handlers --------------------------------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def catalog_read_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(read_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def catalog_admin_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(admin_app, event, context)
