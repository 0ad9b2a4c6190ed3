"""The recommendation service's use cases: keep what may be recommended, keep the baskets, serve the precomputed
lists, and the job that recomputes them.

- Events in (the consumer): each write is idempotent by itself, so there is no inbox (docs/events.md): a product is
  written only at a newer ``version``, a stock level only at a newer event time, and a basket is put under its
  order's id (a repeat writes the same item; the job folds a basket id once).
- The job (one writer: ``ReservedConcurrentExecutions: 1``) folds new baskets into the model's purchases (a snapshot
  in S3), rebuilds the related lists in plain Python (:mod:`recommendation.model`) and writes the lists that changed,
  with popular (last 90 days, overall and per category) and trending (last 7 days against the 28 before).
- Reads: a product's related list, else what is popular in its category, else what is popular; a customer's list
  from the related lists of what they bought, minus what they bought. Only recommendable products are answered.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from recommendation import events as ev
from recommendation import model
from recommendation.domain import (
    CO_PURCHASE,
    HISTORY,
    POPULAR,
    POPULAR_IN_CATEGORY,
    TRENDING,
    Product,
    Recommendations,
    history_basket,
    paid_basket,
    pick,
)
from recommendation.errors import ProductNotFound

Ranked = list[tuple[str, float]]

HISTORY_ORDERS = 50  # a customer's latest paid orders that make their list
CANDIDATES = 100  # candidates read per answer before the recommendable ones are picked
CATEGORY_TOP = 100
CATEGORY_LOOKUPS = 500  # products without a known category looked up per run, beyond those just bought
POPULAR_LIST = "popular"
TRENDING_LIST = "trending"
SNAPSHOT_VERSION = 1


def category_list(category_id: str) -> str:
    return f"popular#{category_id}"


class RecommendationStore(Protocol):
    def save_product(self, data: ev.ProductData) -> bool:
        """Write the product unless a newer (or the same) version is stored; ``False`` when it was not written."""
        ...

    def delete_product(self, product_id: str, version: int) -> bool: ...

    def set_level(self, product_id: str, level: str, at: str) -> bool:
        """Write the stock level unless one from a later (or the same) time is stored."""
        ...

    def product(self, product_id: str) -> tuple[Product | None, Ranked]:
        """The product (``None`` if never heard of) and its related list (empty before the job made one)."""
        ...

    def products(self, product_ids: Iterable[str]) -> dict[str, Product]: ...

    def add_baskets(self, baskets: Sequence[model.Basket], *, user_id: str | None = None, at: str = "") -> None: ...

    def user_baskets(self, user_id: str, limit: int) -> list[model.Basket]:
        """The customer's latest paid baskets, newest first."""
        ...

    def all_baskets(self) -> Iterator[model.Basket]:
        """Every basket, partition by partition (the job's full rebuild; never a request path)."""
        ...

    def related_lists(self, product_ids: Iterable[str]) -> dict[str, Ranked]: ...

    def named_list(self, name: str) -> Ranked: ...

    def save_related(self, lists: Mapping[str, Ranked], at: str) -> None: ...

    def save_lists(self, lists: Mapping[str, Ranked], at: str) -> None: ...


class SnapshotStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...

    def save(self, snapshot: dict[str, Any]) -> None: ...


# -- events ------------------------------------------------------------------------------------------------------
def product_changed(data: ev.ProductData, store: RecommendationStore) -> str:
    return "saved" if store.save_product(data) else "stale"


def product_deleted(data: ev.ProductDeleted, store: RecommendationStore) -> str:
    return "deleted" if store.delete_product(data.productId, data.version) else "stale"


def stock_changed(data: ev.StockLevelChanged, at: str, store: RecommendationStore) -> str:
    if not data.productId:
        return "no-product"
    return "saved" if store.set_level(data.productId, data.level, at) else "stale"


def order_paid(data: ev.OrderPaid, store: RecommendationStore) -> str:
    basket = paid_basket(data.orderId, data.userId, data.paidAt, (line.productId for line in data.lines))
    if not basket.items:
        return "empty"
    store.add_baskets([basket], user_id=data.userId, at=data.paidAt)
    return "saved"


def history_imported(data: ev.OrderHistoryImported, store: RecommendationStore) -> str:
    """Past orders as baskets (returns are not purchases: left out)."""
    baskets = [
        history_basket(o.orderId, o.customerId, o.placedAt, (line.productId for line in o.lines))
        for o in data.orders
        if o.kind == "order" and o.lines
    ]
    if baskets:
        store.add_baskets(baskets)
    return f"{len(baskets)} baskets"


# -- reads -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RelatedQuery:
    product_id: str
    limit: int = 10


def related_products(query: RelatedQuery, store: RecommendationStore) -> Recommendations:
    """Customers who bought this also bought: its related list; else what is popular in its category (the most
    specific one first); else what is popular."""
    product, related = store.product(query.product_id)
    if product is None or not product.known:
        raise ProductNotFound(f"No product {query.product_id} is known to recommendations.")
    exclude = {product.product_id}
    candidates = related[:CANDIDATES]
    found = pick(candidates, store.products(i for i, _ in candidates), limit=query.limit, exclude=exclude)
    if found:
        return Recommendations(CO_PURCHASE, found)
    for category in reversed(product.category_path):
        found = _from_list(store, category_list(category), query.limit, exclude)
        if found:
            return Recommendations(POPULAR_IN_CATEGORY, found)
    return Recommendations(POPULAR, _from_list(store, POPULAR_LIST, query.limit, exclude))


@dataclass(frozen=True)
class PopularQuery:
    category_id: str | None = None
    limit: int = 10


def popular_products(query: PopularQuery, store: RecommendationStore) -> Recommendations:
    """What sells most (the last 90 days), in a category when one is named (``popular-in-category``), else
    overall; with no sale in the window, what is trending. For anyone: the storefront's front page."""
    if query.category_id:
        return Recommendations(
            POPULAR_IN_CATEGORY, _from_list(store, category_list(query.category_id), query.limit, ())
        )
    for basis, name in ((POPULAR, POPULAR_LIST), (TRENDING, TRENDING_LIST)):
        found = _from_list(store, name, query.limit, ())
        if found:
            return Recommendations(basis, found)
    return Recommendations(POPULAR, [])


@dataclass(frozen=True)
class ForCustomer:
    user_id: str
    limit: int = 10


def recommendations_for(query: ForCustomer, store: RecommendationStore) -> Recommendations:
    """From the customer's paid orders: the related lists of what they bought, summed (each item counted once per
    order it was in), then what is popular in their categories; never what they bought. A customer with no paid
    order gets what is popular, else what is trending."""
    baskets = store.user_baskets(query.user_id, HISTORY_ORDERS)
    bought: Counter[str] = Counter(item for basket in baskets for item in dict.fromkeys(basket.items))
    if bought:
        history = dict(bought.most_common(CANDIDATES))
        lists = store.related_lists(history)
        owned = store.products(history)
        fill: Ranked = []
        categories = Counter(p.category_path[0] for p in owned.values() if p.category_path)
        for category, _ in categories.most_common(3):
            fill += store.named_list(category_list(category))[:CANDIDATES]
        fill += store.named_list(POPULAR_LIST)[:CANDIDATES]
        ranked = model.recommend(
            {item: float(n) for item, n in history.items()},
            lists,
            limit=CANDIDATES,
            exclude=bought,
            fill=[item for item, _ in fill],
        )
        found = pick(ranked, store.products(i for i, _ in ranked), limit=query.limit, exclude=bought)
        if found:
            return Recommendations(HISTORY, found)
    for basis, name in ((POPULAR, POPULAR_LIST), (TRENDING, TRENDING_LIST)):
        found = _from_list(store, name, query.limit, bought)
        if found:
            return Recommendations(basis, found)
    return Recommendations(POPULAR, [])


def _from_list(
    store: RecommendationStore, name: str, limit: int, exclude: Iterable[str]
) -> list[tuple[Product, float]]:
    candidates = store.named_list(name)[:CANDIDATES]
    if not candidates:
        return []
    return pick(candidates, store.products(i for i, _ in candidates), limit=limit, exclude=exclude)


# -- the job -----------------------------------------------------------------------------------------------------
def _digest(ranked: Ranked) -> str:
    return format(zlib.crc32(json.dumps(ranked, separators=(",", ":")).encode()), "08x")


def recompute(
    baskets: Sequence[model.Basket],
    store: RecommendationStore,
    snapshots: SnapshotStore,
    *,
    today: date,
    at: str,
) -> dict[str, Any]:
    """Fold ``baskets`` into the model and rewrite the lists that changed. Without a snapshot (the first run, or a
    lost one), every basket is read back from the table and the model rebuilt whole."""
    snapshot = snapshots.load()
    rebuilt = snapshot is None or snapshot.get("version") != SNAPSHOT_VERSION
    if rebuilt:
        purchases, categories, digests = model.Purchases(), {}, {}
        baskets = [*store.all_baskets(), *baskets]
    else:
        assert snapshot is not None
        purchases = model.Purchases.from_dict(snapshot["purchases"])
        categories = {str(k): list(v) for k, v in (snapshot.get("categories") or {}).items()}
        digests = dict(snapshot.get("digests") or {})
    touched = purchases.fold(baskets)
    # The categories of the products just bought, and of a few bought before the catalog told of them.
    unknown = sorted({i for unit in purchases.units.values() for i in unit} - set(categories) - touched)
    for product_id, product in store.products([*touched, *unknown[:CATEGORY_LOOKUPS]]).items():
        if product.known:
            categories[product_id] = list(product.category_path)
    model.prune(purchases, today)

    related = model.related(purchases.unit_items())
    changed_related = {item: ranked for item, ranked in related.items() if digests.get(item) != _digest(ranked)}

    until = today + timedelta(days=1)  # the windows end with today's baskets
    popular = model.popular(purchases.days, until, top=1_000_000)  # every item bought in the window
    per_category: dict[str, Counter[str]] = {}
    for item, count in popular:
        for category in categories.get(item, ()):
            per_category.setdefault(category, Counter())[item] += int(count)
    named: dict[str, Ranked] = {
        POPULAR_LIST: popular[:200],
        TRENDING_LIST: model.trending(purchases.days, until),
        **{
            category_list(c): [(i, float(n)) for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][
                :CATEGORY_TOP
            ]
            for c, counts in per_category.items()
        },
    }
    # A category nobody bought from in 90 days any more: its list empties.
    for name in digests:
        if name.startswith("popular#") and name not in named:
            named[name] = []
    changed_named = {name: ranked for name, ranked in named.items() if digests.get(name) != _digest(ranked)}

    store.save_related(changed_related, at)
    store.save_lists(changed_named, at)
    digests.update({item: _digest(ranked) for item, ranked in changed_related.items()})
    digests.update({name: _digest(ranked) for name, ranked in changed_named.items()})
    snapshots.save(
        {
            "version": SNAPSHOT_VERSION,
            "computedAt": at,
            "purchases": purchases.to_dict(),
            "categories": categories,
            "digests": digests,
        }
    )
    return {
        "rebuilt": rebuilt,
        "baskets": len(baskets),
        "units": len(purchases.units),
        "items": len(related),
        "relatedWritten": len(changed_related),
        "listsWritten": len(changed_named),
    }
