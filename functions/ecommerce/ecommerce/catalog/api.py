"""The catalog's HTTP functions: public reads (``CatalogReadFunction``) and admin writes (``CatalogAdminFunction``,
the ``admin`` group only). Every write stores the request's ``x-correlation-id`` on the product, for the published
events to carry."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from ecommerce import bootstrap
from ecommerce.answers import ProductAvailability
from ecommerce.catalog import service
from ecommerce.catalog.domain import (
    DESCRIPTION_MAX,
    SKU_RULE,
    TITLE_MAX,
    CatalogRuleError,
    InvalidSku,
    Money,
    Product,
    ProductDetails,
    ProductStatus,
)
from ecommerce.catalog.service import CategoryCatalog, ProductRepository
from ecommerce.errors import VersionRequired
from gears_shared.answers import Answer, Timestamp
from gears_shared.answers import Money as MoneyAnswer
from gears_shared.auth import ADMIN
from gears_shared.errors import BadRequest
from gears_shared.http import (
    ErrorTable,
    create_resolver,
    current_correlation_id,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    request_body,
    whole_number,
)

# The catalog's domain errors carry their own title and code (``invalid-sku``, ``invalid-product``).
ERRORS: ErrorTable = {InvalidSku: 400, CatalogRuleError: 422}

PRODUCT_CACHE = "public, max-age=30"
CATEGORY_CACHE = "public, max-age=60"
AVAILABILITY = (
    "Every product carries `availability`: `{level: unknown | in_stock | low | out, available: <units> | null, "
    "asOf: <time of inventory's event> | null}`, kept from inventory's `StockLevelChanged.v1` (`unknown` until "
    "inventory has said something)."
)

Products = Annotated[ProductRepository, Depends(bootstrap.product_repository)]
Categories = Annotated[CategoryCatalog, Depends(bootstrap.category_catalog)]

# -- request bodies (validated at the edge; unknown fields are refused) ----------------------------------------------
# What a SKU may contain is the domain's one rule (SKU_RULE: no '/'); one that breaks it is a 400 ``invalid-sku``.
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), Field(description=SKU_RULE)]
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


# -- answers (what the routes send back) -----------------------------------------------------------------------------
class ProductAnswer(Answer):
    productId: str
    sku: str
    title: str
    description: str
    price: MoneyAnswer
    category: str
    brand: str | None
    images: list[str]
    # The administrator's own attribute names (``colour``, ``material``...): a free-form map of text to text.
    attributes: dict[str, str]
    status: Literal["draft", "active", "archived"]
    createdAt: Timestamp
    updatedAt: Timestamp
    version: int
    availability: ProductAvailability


class ProductPageAnswer(Answer):
    items: list[ProductAnswer]
    nextCursor: str | None  # null on the last page


class CategoryNode(Answer):
    id: str
    name: str
    parent: str | None  # null for a root
    children: list[CategoryNode]


class CategoryTreeAnswer(Answer):
    categories: list[CategoryNode]


ETAG = 'The product\'s version, quoted (`"3"`): send it back as `If-Match` (or `version`) to change the product'
IF_MATCH = 'The product version the change is based on (`"3"`, `W/"3"` or `3`), or `*` for whatever is current'


def _product_response(product: Product, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return json_response(product.to_view(), status, {"ETag": f'"{product.version}"', **(headers or {})})


def parse_if_match(value: str | None) -> int | Literal["*"] | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"``, ``3``), ``"*"``, or ``None`` without one."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text == "*":
        return "*"
    text = text.removeprefix("W/").strip('"')
    version = whole_number(text)
    if version is None or version < 1:
        raise BadRequest('If-Match names a product version, like "3".')
    return version


# -- public reads ----------------------------------------------------------------------------------------------------
read_app = create_resolver(ERRORS)


@read_app.get(
    "/products",
    summary="Active products, a page at a time, optionally of a category (and its subcategories)",
    description="`{items, nextCursor}`. `limit` defaults to 20 and is capped at 100; `cursor` is the previous "
    "page's `nextCursor`, opaque. An unknown category or a foreign cursor is 400. " + AVAILABILITY,
)
@documented(answers={200: ProductPageAnswer})
def list_products(
    products: Products,
    categories: Categories,
    category: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response[str]:
    query = service.ListProducts(category=category, limit=limit, position=decode_cursor(cursor))
    page = service.list_active_products(query, products, categories)
    body = {"items": [p.to_view() for p in page.items], "nextCursor": encode_cursor(page.next_position)}
    return json_response(body, headers={"Cache-Control": PRODUCT_CACHE})


@read_app.get(
    "/products/<product_id>",
    summary="One active product, with an ETag (drafts and archived products are 404)",
    description=AVAILABILITY,
)
@documented(answers={200: ProductAnswer}, answer_headers={200: {"ETag": ETAG}})
def get_product(product_id: str, products: Products) -> Response[str]:
    product = service.get_active_product(service.ShowProduct(product_id), products)
    return _product_response(product, headers={"Cache-Control": PRODUCT_CACHE})


@read_app.get("/categories", summary="The category tree: `{categories: [{id, name, parent, children}]}`")
@documented(answers={200: CategoryTreeAnswer})
def list_categories(categories: Categories) -> Response[str]:
    tree = service.category_tree(categories)
    return json_response({"categories": tree.as_nested()}, headers={"Cache-Control": CATEGORY_CACHE})


catalog_read_handler = http_handler(read_app)


# -- admin writes ----------------------------------------------------------------------------------------------------
admin_app = create_resolver(ERRORS, roles=(ADMIN,))


@admin_app.post(
    "/products",
    summary="Create a product (201, Location); its SKU decides its id, so a SKU already in the catalog is 409",
    description="Server fields (`productId`, `createdAt`, `updatedAt`, `version`) are refused (400), and so is a "
    "SKU that is not 1-64 letters, digits, `_`, `.` or `-` (no `/`). An unknown category is 422.",
)
@documented(
    body=NewProduct,
    answers={201: ProductAnswer},
    answer_headers={201: {"Location": "The product's URL: `/products/{productId}`", "ETag": ETAG}},
)
def create_product(products: Products, categories: Categories) -> Response[str]:
    body = request_body(admin_app, NewProduct)
    cmd = service.CreateProduct(body.sku, body.details(body.status), current_correlation_id(admin_app))
    product = service.create_product(cmd, products, categories)
    return _product_response(product, 201, {"Location": f"/products/{product.product_id}"})


@admin_app.put(
    "/products/<product_id>",
    summary="Replace a product's details, at the version the caller read (a stale version is 409)",
    description='The version as `version` in the body or `If-Match: "<version>"` (`*`: whatever is current). '
    "`productId`, `createdAt`, `updatedAt` and `availability` may be sent back as read and are ignored; the SKU "
    "cannot change. A `status` of draft or active restores an archived product.",
)
@documented(
    body=ProductReplacement,
    answers={200: ProductAnswer},
    headers={"If-Match": IF_MATCH + "; needed unless the body has `version`"},
    answer_headers={200: {"ETag": ETAG}},
)
def replace_product(product_id: str, products: Products, categories: Categories) -> Response[str]:
    body = request_body(admin_app, ProductReplacement)
    if body.productId is not None and body.productId != product_id:
        raise BadRequest("The body's productId is not the product of this URL.")
    header = parse_if_match(admin_app.current_event.headers.get("if-match"))
    if header is not None and body.version is not None and header != body.version:
        raise BadRequest("The body's version and If-Match disagree.")
    expected = body.version if body.version is not None else header
    if expected is None:
        raise VersionRequired('Send the version you read, as "version" in the body or an If-Match header.')
    cmd = service.UpdateProduct(
        product_id,
        body.details(body.status),
        expected_version=None if expected == "*" else expected,
        sku=body.sku,
        correlation_id=current_correlation_id(admin_app),
    )
    return _product_response(service.update_product(cmd, products, categories))


@admin_app.delete(
    "/products/<product_id>",
    summary="Archive a product (204): it leaves every listing and public read; its record stays for its orders",
    description="`If-Match` optional; archiving an archived product succeeds, so DELETE can be retried.",
)
@documented(answers={204: None}, headers={"If-Match": IF_MATCH + "; without it, any version is archived"})
def archive_product(product_id: str, products: Products) -> Response[None]:
    header = parse_if_match(admin_app.current_event.headers.get("if-match"))
    expected = header if isinstance(header, int) else None
    service.archive_product(service.ArchiveProduct(product_id, expected, current_correlation_id(admin_app)), products)
    return Response(status_code=204)


catalog_admin_handler = http_handler(admin_app)
