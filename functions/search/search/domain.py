"""Search's domain: the product as search sees it, which word of the catalog's events wins, the words of a text, and
what a request asks for. Standard library only (no tantivy here: :mod:`search.engine` runs the index).

- **A product** (:class:`SearchProduct`) is what the index holds of it: the fields a result shows and the ones it
  is filtered and sorted on. Only an *active* product is indexed (:meth:`SearchProduct.indexable`).
- **Newest wins**: product events by the catalog's ``version``, stock levels by their event's ``time``; the table's
  conditional writes apply the rule (an older or repeated event changes nothing).
- **Words** (:func:`words`): lower case, accents dropped, split on anything that is not a letter or digit, a light
  plural stemmer ("mugs" and "mug" are one word). The index is given these words already made (its fields use the
  whitespace tokenizer), so a query's words are exactly the indexed ones, and the user's text never reaches a
  query parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, cast

Level = Literal["in_stock", "low", "out", "unknown"]
LEVELS: tuple[Level, ...] = ("in_stock", "low", "out", "unknown")
IN_STOCK_LEVELS: tuple[Level, ...] = ("in_stock", "low")
Sort = Literal["relevance", "price-asc", "price-desc", "newest"]
SORTS: tuple[Sort, ...] = ("relevance", "price-asc", "price-desc", "newest")

MAX_QUERY_CHARS = 200
MAX_WORDS = 12  # more words than this add nothing a shopper means; the rest are ignored
MAX_LIMIT = 50
DEFAULT_LIMIT = 20
MAX_RESULTS = 1000  # how deep a client may page
MAX_PRICE = 10**12  # minor units: far above any price, far below the index's u64
TYPO_MIN_LETTERS = 5
# The price bands of the facet, in minor units: [min, max) and the last open-ended.
PRICE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 500),
    (500, 1000),
    (1000, 2500),
    (2500, 5000),
    (5000, 10000),
    (10000, None),
)
CATEGORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_SPLIT = re.compile(r"[^0-9a-z]+")


class SearchRuleError(ValueError):
    """A request search cannot answer as asked (the API answers 400 with ``code`` and the parameter)."""

    title = "Invalid search"
    code = "invalid-search"

    def __init__(self, detail: str, parameter: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = {"parameter": parameter}
        if code:
            self.code = code


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)  # a catalog's vocabulary is small, and indexing 100,000 products stems each word often
def stem(word: str) -> str:
    """A light English plural stemmer: enough that "mugs", "boxes" and "candies" find "mug", "box" and "candy"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def raw_words(text: str) -> list[str]:
    """The words of ``text``, folded (lower case, no accents), not stemmed."""
    return [w for w in _SPLIT.split(_fold(text)) if w]


def words(text: str) -> list[str]:
    """The words of ``text`` as the index holds them (folded and stemmed)."""
    return [stem(w) for w in raw_words(text)]


def indexed_text(text: str) -> str:
    """The words of ``text`` as one string for the index's whitespace tokenizer (indexing's hot path)."""
    return " ".join(map(stem, filter(None, _SPLIT.split(_fold(text)))))


def epoch_ms(iso: str | None) -> int:
    """An ISO 8601 time as milliseconds since the epoch (0 when absent or unreadable: sorts oldest)."""
    if not iso:
        return 0
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class SearchProduct:
    """A product as the index holds it (one item of the search table, one document of the index)."""

    product_id: str
    sku: str
    title: str
    description: str
    price_amount: int
    currency: str
    category: str
    category_path: tuple[str, ...]
    image: str | None
    status: str
    created_at: str
    level: Level = "unknown"

    @property
    def indexable(self) -> bool:
        return self.status == "active"

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category the product is found under: its path from the top, and its own."""
        return tuple(dict.fromkeys([*self.category_path, self.category]))

    def summary(self) -> dict[str, Any]:
        """What a search result shows of it (the ``items`` of the answer, without ``score``)."""
        return {
            "productId": self.product_id,
            "sku": self.sku,
            "title": self.title,
            "price": {"amount": self.price_amount, "currency": self.currency},
            "category": self.category,
            "categoryPath": list(self.category_path),
            "image": self.image,
            "availability": self.level,
        }

    @staticmethod
    def from_item(item: dict[str, Any]) -> SearchProduct | None:
        """The product an item of the search table holds; ``None`` for one deleted, or only known by its stock."""
        doc = item.get("product")
        if not isinstance(doc, dict) or item.get("deleted"):
            return None
        price = doc.get("price") or {}
        level = item.get("level")
        return SearchProduct(
            product_id=str(item.get("productId") or doc.get("productId") or ""),
            sku=str(doc.get("sku") or ""),
            title=str(doc.get("title") or ""),
            description=str(doc.get("description") or ""),
            price_amount=max(0, int(price.get("amount") or 0)),
            currency=str(price.get("currency") or "GBP"),
            category=str(doc.get("category") or ""),
            category_path=tuple(str(c) for c in doc.get("categoryPath") or ()),
            image=(doc.get("image") or None),
            status=str(doc.get("status") or ""),
            created_at=str(doc.get("createdAt") or ""),
            level=level if level in LEVELS else "unknown",
        )


@dataclass(frozen=True)
class SearchRequest:
    """What a ``GET /search`` asks for, validated."""

    q: str | None = None
    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: Sort = "relevance"
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    terms: tuple[str, ...] = field(default=())
    prefix: str | None = None  # the last word as typed so far (search-as-you-type), when it may be unfinished

    @property
    def effective_sort(self) -> Sort:
        """Relevance means newest when there is nothing to be relevant to."""
        return "newest" if self.sort == "relevance" and not self.terms else self.sort


def _whole(value: str | None, parameter: str, *, maximum: int) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 15 or int(value) > maximum:
        raise SearchRuleError(f"{parameter} is a whole number from 0 to {maximum}.", parameter)
    return int(value)


def search_request(
    *,
    q: str | None,
    category: str | None,
    min_price: str | None,
    max_price: str | None,
    in_stock: str | None,
    sort: str | None,
    limit: int,
    offset: int,
) -> SearchRequest:
    """A validated request from the query string's values (``None`` for an absent one); :class:`SearchRuleError`
    names the first parameter that is wrong."""
    if q is not None and len(q) > MAX_QUERY_CHARS:
        raise SearchRuleError(f"q is at most {MAX_QUERY_CHARS} characters.", "q", code="query-too-long")
    if category is not None and not CATEGORY_ID.match(category):
        raise SearchRuleError("category is a category id (letters, digits, '-', '_', '.').", "category")
    low = _whole(min_price, "minPrice", maximum=MAX_PRICE)
    high = _whole(max_price, "maxPrice", maximum=MAX_PRICE)
    if low is not None and high is not None and low > high:
        raise SearchRuleError("minPrice is at most maxPrice.", "minPrice")
    stock: bool | None = None
    if in_stock is not None:
        if in_stock not in ("true", "false"):
            raise SearchRuleError("inStock is true or false.", "inStock")
        stock = in_stock == "true"
    if sort is not None and sort not in SORTS:
        raise SearchRuleError(f"sort is one of {', '.join(SORTS)}.", "sort")
    if offset < 0 or offset >= MAX_RESULTS:
        raise SearchRuleError(f"Results are paged through the first {MAX_RESULTS} only.", "cursor")
    limit = min(limit, MAX_RESULTS - offset)  # the last page stops at the deepest result
    text = (q or "").strip()
    found = raw_words(text)[:MAX_WORDS]
    unfinished = bool(found) and (q or "")[-1:].isalnum()  # a trailing space or mark: the last word is complete
    return SearchRequest(
        q=q,
        category=category,
        min_price=low,
        max_price=high,
        in_stock=stock,
        sort=cast(Sort, sort or "relevance"),  # checked against SORTS above
        limit=limit,
        offset=offset,
        terms=tuple(stem(w) for w in found),
        prefix=found[-1] if unfinished and len(found[-1]) >= 2 else None,
    )
