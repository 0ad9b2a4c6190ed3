"""The recommendation service's HTTP functions: ``RecommendationRelatedFunction`` (public: a product's related
products, and what is popular) and ``RecommendationMeFunction`` (a signed-in customer's own list). Both only read
precomputed lists.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from pydantic import Field

from gears_shared.answers import Answer, Money
from gears_shared.http import (
    create_resolver,
    current_caller,
    documented,
    http_handler,
    json_response,
    page_limit,
    query_param,
)
from recommendation import bootstrap, service
from recommendation.domain import Recommendations
from recommendation.errors import InvalidCategoryId, InvalidProductId
from recommendation.store import DynamoRecommendations

ERRORS: dict[type[BaseException], int] = {}
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Store = Annotated[DynamoRecommendations, Depends(bootstrap.store)]
LIMIT = {"limit": f"How many items, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"}


class RecommendedItem(Answer):
    productId: str
    sku: str
    title: str
    price: Money
    image: str | None
    score: float = Field(description="Higher first: a similarity sum, or the baskets of the popularity window")


class RelatedAnswer(Answer):
    productId: str
    basis: Literal["co-purchase", "popular-in-category", "popular"] = Field(
        description="co-purchase: customers who bought this also bought; else popular in its category; else popular"
    )
    items: list[RecommendedItem]


class PopularAnswer(Answer):
    category: str | None = Field(description="The category asked for, or null for the whole shop")
    basis: Literal["popular", "popular-in-category", "trending"] = Field(
        description="popular: what sold most in the last 90 days; in the category asked for; else trending"
    )
    items: list[RecommendedItem]


class PersonalAnswer(Answer):
    basis: Literal["history", "popular", "trending"] = Field(
        description="history: from the caller's paid orders; popular or trending for a customer with none"
    )
    items: list[RecommendedItem]


def _items(found: Recommendations) -> list[dict[str, Any]]:
    return [product.to_dict(score) for product, score in found.items]


related_app = create_resolver(ERRORS)


@related_app.get(
    "/products/<product_id>/related",
    summary="Customers who bought this also bought",
    description="Active, in-stock products bought by the customers who bought this one (item-to-item collaborative "
    "filtering over paid orders and the shop's history, normalised for popularity); with no co-purchase yet, "
    "what is popular in its category, else what is popular (`basis` says which). Never the product itself. A "
    "product id that is not a UUID is 400; one the service never heard of is 404 `product-not-found`.",
)
@documented(answers={200: RelatedAnswer}, query=LIMIT)
def related(product_id: str, store: Store) -> Response[Any]:
    if not UUID.match(product_id):
        raise InvalidProductId("The product id is not a UUID.")
    limit = page_limit(related_app, default=DEFAULT_LIMIT, maximum=MAX_LIMIT) or DEFAULT_LIMIT
    found = service.related_products(service.RelatedQuery(product_id, limit), store)
    return json_response({"productId": product_id, "basis": found.basis, "items": _items(found)})


CATEGORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # as search takes them


@related_app.get(
    "/recommendations/popular",
    summary="What is popular",
    description="What sold most in the last 90 days (paid orders and the shop's history), in a category and its "
    "subcategories when `category` names one, else across the shop; with no sale in that window, what is trending "
    "(`basis` says which). Active, in-stock products only. For anyone: a storefront's front page.",
)
@documented(answers={200: PopularAnswer}, query={**LIMIT, "category": "A category id (from GET /categories)"})
def popular(store: Store) -> Response[Any]:
    category = query_param(related_app, "category")
    if category is not None and not CATEGORY_ID.match(category):
        raise InvalidCategoryId("The category id is malformed.")
    limit = page_limit(related_app, default=DEFAULT_LIMIT, maximum=MAX_LIMIT) or DEFAULT_LIMIT
    found = service.popular_products(service.PopularQuery(category, limit), store)
    return json_response({"category": category, "basis": found.basis, "items": _items(found)})


me_app = create_resolver(ERRORS)


@me_app.get(
    "/me/recommendations",
    summary="My recommendations",
    description="From the caller's paid orders: the products related to what they bought, weighted by how often "
    "they bought it, then what is popular in their categories; never what they already bought (`basis` "
    "history). A customer with no paid order gets what is popular (else trending). Active, in-stock products only.",
)
@documented(answers={200: PersonalAnswer}, query=LIMIT)
def mine(store: Store) -> Response[Any]:
    caller = current_caller(me_app)
    limit = page_limit(me_app, default=DEFAULT_LIMIT, maximum=MAX_LIMIT) or DEFAULT_LIMIT
    found = service.recommendations_for(service.ForCustomer(caller.user_id, limit), store)
    return json_response({"basis": found.basis, "items": _items(found)})


related_handler = http_handler(related_app)
me_handler = http_handler(me_app)
