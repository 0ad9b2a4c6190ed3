"""Search's HTTP function: ``SearchFunction``, ``GET /search`` (public), answered from the newest snapshot of the
index this function has (see :class:`search.service.IndexReader`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from pydantic import Field

from gears_shared.answers import Answer, Money
from gears_shared.http import (
    create_resolver,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    page_limit,
    query_param,
)
from search import bootstrap, service
from search.domain import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS, MAX_RESULTS, SearchRuleError, search_request
from search.errors import InvalidCursor
from search.service import IndexReader

ERRORS: dict[type[BaseException], int] = {SearchRuleError: 400}

Reader = Annotated[IndexReader, Depends(bootstrap.index_reader)]


class SearchItem(Answer):
    productId: str
    sku: str
    title: str
    price: Money
    category: str
    categoryPath: list[str] = Field(description="Category ids from the top-level one down to the product's own")
    image: str | None
    availability: Literal["in_stock", "low", "out", "unknown"]
    score: float | None = Field(description="BM25 relevance (higher first); null when sorted otherwise")


class CategoryCount(Answer):
    id: str
    count: int


class PriceBand(Answer):
    min: int = Field(description="Minor units, inclusive")
    max: int | None = Field(description="Minor units, exclusive; null for the open-ended top band")
    count: int


class LevelCount(Answer):
    level: Literal["in_stock", "low", "out", "unknown"]
    count: int


class Facets(Answer):
    categories: list[CategoryCount]
    priceBands: list[PriceBand]
    availability: list[LevelCount]


class SearchAnswer(Answer):
    query: str | None
    total: int
    items: list[SearchItem]
    facets: Facets = Field(description="Counts of the matching products; each facet ignores its own filter")
    nextCursor: str | None


QUERY = {
    "q": f"Keywords (at most {MAX_QUERY_CHARS} characters); empty: every product matching the filters",
    "category": "A category id: the category and every subcategory of it",
    "minPrice": "Lowest price, minor units (whole number >= 0)",
    "maxPrice": "Highest price, minor units (whole number >= minPrice)",
    "inStock": "true: in stock or low; false: sold out",
    "sort": "relevance (default; newest without q), price-asc, price-desc or newest",
    "limit": f"How many items, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
    "cursor": "nextCursor of the previous page",
}

app = create_resolver(ERRORS)


def _offset(cursor: str | None) -> int:
    position = decode_cursor(cursor) or {}
    offset = position.get("offset", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursor("The cursor is not valid.")
    return offset


@app.get(
    "/search",
    summary="Search the catalog",
    description="Active products matching the keywords (BM25 over title, boosted, and description; one typo "
    "forgiven in words of five letters or more; the last word also matches as the start of a word, for "
    "search-as-you-type) and the filters: `category` (with its subcategories), `minPrice`/`maxPrice` (minor units), "
    "`inStock`. Facets count categories, price bands and availability, each under every filter but its own. Pages "
    f"through the first {MAX_RESULTS} results with `nextCursor`. A product changed in the catalog or its stock is "
    "found in its new state within seconds. Keywords are words, never query syntax: `title:*`, quotes and AND/OR/NOT "
    f"are searched as text; over {MAX_QUERY_CHARS} characters is 400 `query-too-long`; any other bad parameter is a "
    "400 naming it.",
)
@documented(answers={200: SearchAnswer}, query=QUERY)
def search(reader: Reader) -> Response[Any]:
    raw_limit = query_param(app, "limit")
    if raw_limit is not None and not raw_limit.isascii():  # "²" is a digit to str.isdigit, and int() refuses it
        raise SearchRuleError(f"limit is a whole number from 1 to {MAX_LIMIT}.", "limit")
    limit = page_limit(app, default=DEFAULT_LIMIT, maximum=MAX_LIMIT) or DEFAULT_LIMIT
    request = search_request(
        q=query_param(app, "q"),
        category=query_param(app, "category"),
        min_price=query_param(app, "minPrice"),
        max_price=query_param(app, "maxPrice"),
        in_stock=query_param(app, "inStock"),
        sort=query_param(app, "sort"),
        limit=limit,
        offset=_offset(query_param(app, "cursor")),
    )
    found = service.search(request, reader)
    next_offset = found.pop("nextOffset")
    found["nextCursor"] = encode_cursor({"offset": next_offset}) if next_offset is not None else None
    return json_response(found)


handler = http_handler(app)
