"""The index, on tantivy (the Rust engine behind Quickwit): its schema, building and changing it, and answering a
:class:`~search.domain.SearchRequest` with hits and facets. tantivy is imported inside the functions that use it
(cold starts of whatever imports this module without searching stay light).

The schema:

==============  =====================================================================================================
field           what it is
==============  =====================================================================================================
``id``          the product id (raw, stored): what a change deletes by
``title``       the title's words (:func:`search.domain.words`; whitespace tokenizer), BM25, boosted
``description`` the description's words, BM25
``cat``         every category id of the product's path (raw, fast; multi-valued): the filter and its facet
``level``       the stock level (raw, fast): the in-stock filter and its facet
``price``       minor units (u64, indexed and fast): the range filter, its bands and the price sorts
``created``     the product's creation, epoch ms (i64, fast): the newest sort
``payload``     the result's fields as JSON (stored bytes): a hit is shown without reading anything else
==============  =====================================================================================================

User text never reaches tantivy's query parser: a query is built from the request's words (term, fuzzy and prefix
term queries), so ``title:*``, quotes and ``AND OR NOT`` are just words.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from search.domain import LEVELS, PRICE_BANDS, TYPO_MIN_LETTERS, SearchProduct, SearchRequest, epoch_ms, indexed_text

WRITER_HEAP = 50_000_000  # bytes; tantivy wants at least 15 MB a thread, and one thread writes here
TITLE_BOOST = 3.0
TYPO_WEIGHT = 0.5  # a fuzzy match counts less than the word itself
PREFIX_WEIGHT = 0.8
CATEGORY_FACET_SIZE = 500


def schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="whitespace")
    builder.add_text_field("description", tokenizer_name="whitespace")
    builder.add_text_field("cat", fast=True, tokenizer_name="raw")
    builder.add_text_field("level", fast=True, tokenizer_name="raw")
    builder.add_unsigned_field("price", indexed=True, fast=True)
    builder.add_integer_field("created", indexed=True, fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def document(product: SearchProduct) -> Any:
    import tantivy

    doc = tantivy.Document()
    doc.add_text("id", product.product_id)
    doc.add_text("title", indexed_text(product.title))
    doc.add_text("description", indexed_text(product.description))
    for category in product.categories:
        doc.add_text("cat", category)
    doc.add_text("level", product.level)
    doc.add_unsigned("price", product.price_amount)
    doc.add_integer("created", epoch_ms(product.created_at))
    doc.add_bytes("payload", json.dumps(product.summary(), separators=(",", ":")).encode())
    return doc


@dataclass(frozen=True)
class Hit:
    item: dict[str, Any]
    score: float | None


@dataclass(frozen=True)
class Found:
    total: int
    hits: list[Hit]
    categories: list[dict[str, Any]]
    price_bands: list[dict[str, Any]]
    availability: list[dict[str, Any]]


class SearchIndex:
    """One tantivy index in a directory of its own (the writer's, or a query function's copy of a snapshot)."""

    def __init__(self, index: Any, path: str) -> None:
        self.index = index
        self.path = path
        self.schema = index.schema

    @classmethod
    def create(cls, path: str, products: Iterable[SearchProduct]) -> SearchIndex:
        """A new index in ``path`` (an empty directory) holding the indexable ``products``."""
        import tantivy

        built = cls(tantivy.Index(schema(), path=path, reuse=False), path)
        writer = built.index.writer(WRITER_HEAP, 1)
        for product in products:
            if product.indexable:
                writer.add_document(document(product))
        built._commit(writer)
        return built

    @classmethod
    def open(cls, path: str) -> SearchIndex:
        import tantivy

        return cls(tantivy.Index.open(path), path)

    @property
    def num_docs(self) -> int:
        return int(self.index.searcher().num_docs)

    def apply(self, *, upserts: Iterable[SearchProduct], deletes: Iterable[str]) -> int:
        """Replace each of ``upserts`` (an inactive one is only removed) and remove ``deletes``, in one commit;
        how many documents were written."""
        writer = self.index.writer(WRITER_HEAP, 1)
        written = 0
        for product_id in deletes:
            writer.delete_documents_by_term("id", product_id)
        for product in upserts:
            writer.delete_documents_by_term("id", product.product_id)
            if product.indexable:
                writer.add_document(document(product))
                written += 1
        self._commit(writer)
        return written

    def _commit(self, writer: Any) -> None:
        """Commit, drop the files no segment uses any more, and finish the merges (the snapshot is the directory)."""
        writer.commit()
        writer.garbage_collect_files()
        writer.wait_merging_threads()
        self.index.reload()

    # -- queries ------------------------------------------------------------------------------------------------
    def _text_query(self, request: SearchRequest) -> Any | None:
        """Every word must match, each as itself (title boosted), within one typo when it is long enough, and the
        last one also as the start of a word while it is being typed."""
        from tantivy import Occur, Query

        if not request.terms:
            return None
        musts = []
        for i, word in enumerate(request.terms):
            options = [
                Query.boost_query(Query.term_query(self.schema, "title", word), TITLE_BOOST),
                Query.term_query(self.schema, "description", word),
            ]
            if len(word) >= TYPO_MIN_LETTERS:
                for name, weight in (("title", TITLE_BOOST * TYPO_WEIGHT), ("description", TYPO_WEIGHT)):
                    fuzzy = Query.fuzzy_term_query(self.schema, name, word, distance=1, transposition_cost_one=True)
                    options.append(Query.boost_query(fuzzy, weight))
            if request.prefix is not None and i == len(request.terms) - 1:
                for name, weight in (("title", TITLE_BOOST * PREFIX_WEIGHT), ("description", PREFIX_WEIGHT)):
                    starts = Query.fuzzy_term_query(self.schema, name, request.prefix, distance=0, prefix=True)
                    options.append(Query.boost_query(starts, weight))
            musts.append((Occur.Must, Query.boolean_query([(Occur.Should, q) for q in options])))
        return Query.boolean_query(musts)

    def _filters(self, request: SearchRequest) -> dict[str, Any]:
        from tantivy import FieldType, Query

        filters: dict[str, Any] = {}
        if request.category is not None:
            filters["category"] = Query.term_query(self.schema, "cat", request.category)
        if request.min_price is not None or request.max_price is not None:
            filters["price"] = Query.range_query(
                self.schema, "price", FieldType.Unsigned, request.min_price, request.max_price
            )
        if request.in_stock is not None:
            levels = ["in_stock", "low"] if request.in_stock else ["out"]
            filters["stock"] = Query.term_set_query(self.schema, "level", levels)
        # A filter only narrows: it adds nothing to a hit's relevance.
        return {name: Query.const_score_query(q, 0.0) for name, q in filters.items()}

    @staticmethod
    def _all(parts: list[Any]) -> Any:
        from tantivy import Occur, Query

        if not parts:
            return Query.all_query()
        if len(parts) == 1:
            return parts[0]
        return Query.boolean_query([(Occur.Must, p) for p in parts])

    def search(self, request: SearchRequest) -> Found:
        """The page of hits ``request`` asks for, the total, and the facets (each counted under every filter but
        its own, so a shopper sees what choosing another value would give)."""
        from tantivy import Order

        searcher = self.index.searcher()
        text = self._text_query(request)
        base = [text] if text is not None else []
        filters = self._filters(request)
        query = self._all(base + list(filters.values()))
        sort = request.effective_sort
        order_by = {"price-asc": ("price", Order.Asc), "price-desc": ("price", Order.Desc)}.get(sort)
        if sort == "newest":
            order_by = ("created", Order.Desc)
        if order_by is None:
            result = searcher.search(query, request.limit, count=True, offset=request.offset)
        else:
            result = searcher.search(
                query, request.limit, count=True, order_by_field=order_by[0], order=order_by[1], offset=request.offset
            )
        hits = []
        for value, address in result.hits:
            payload = searcher.doc(address).get_first("payload")
            hits.append(Hit(json.loads(bytes(payload)), float(value) if order_by is None else None))
        facets = self._facets(searcher, base, filters)
        return Found(int(result.count or 0), hits, *facets)

    def _facets(
        self, searcher: Any, base: list[Any], filters: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        aggs: dict[str, dict[str, Any]] = {
            "category": {"categories": {"terms": {"field": "cat", "size": CATEGORY_FACET_SIZE}}},
            "price": {
                "priceBands": {
                    "range": {
                        "field": "price",
                        "ranges": [
                            {"from": low, **({"to": high} if high is not None else {})} for low, high in PRICE_BANDS
                        ],
                    }
                }
            },
            "stock": {"availability": {"terms": {"field": "level", "size": len(LEVELS)}}},
        }
        # A facet whose filter is not set counts under the same query as the hits: one aggregation for all such.
        groups: dict[str | None, dict[str, Any]] = {}
        for name, agg in aggs.items():
            groups.setdefault(name if name in filters else None, {}).update(agg)
        answers: dict[str, Any] = {}
        for excluded, agg in groups.items():
            query = self._all(base + [q for name, q in filters.items() if name != excluded])
            answers.update(searcher.aggregate(query, agg))
        categories = [
            {"id": b["key"], "count": int(b["doc_count"])} for b in answers["categories"]["buckets"] if b["doc_count"]
        ]
        categories.sort(key=lambda c: (-c["count"], c["id"]))
        # tantivy adds buckets for gaps and names a range from 0 "*-500" (no "from"): match bands by their lower end.
        by_low = {int(b.get("from", 0)): int(b["doc_count"]) for b in answers["priceBands"]["buckets"]}
        bands = [{"min": low, "max": high, "count": by_low.get(low, 0)} for low, high in PRICE_BANDS]
        counted = {b["key"]: int(b["doc_count"]) for b in answers["availability"]["buckets"]}
        availability = [{"level": level, "count": counted[level]} for level in LEVELS if counted.get(level)]
        return categories, bands, availability
