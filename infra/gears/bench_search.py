"""``make bench``'s search figures: the index the search service builds, on the real demo catalog and on 100,000
generated products; written to ``bench/results/search.md``.

For each catalog, with the service's own code (:mod:`search.engine`, :mod:`search.service`,
:mod:`search.snapshots`; nothing re-implemented here):

1. **Build**: the writer's full rebuild (:meth:`SearchIndex.create`), timed.
2. **Snapshot**: packed as the writer publishes it (tar.gz of the index directory): its size; then a query
   function's cold load (unpack into a fresh directory under /tmp, open), timed (the median of 5).
3. **Queries**: typical searches through :func:`search.service.search` (the route's whole work but the HTTP
   wrapping: hits, their stored fields, the three facets under their own filters), each repeated, p50 and p99.
4. **Incremental update**: a batch of 20 changed products deleted and added on the index and the snapshot
   published (the writer's work per stream batch), the median of 5.

The real catalog is the demo catalog (``ecommerce/catalog/demo_products.csv``, 3,134 products, their categories
from the catalog's rules and tree); stock levels are drawn (seeded). The 100,000 products are generated from it:
titles of 2 to 5 words drawn from the real titles' vocabulary, descriptions of 8 to 20, categories and prices
drawn from the real ones (seeded, so runs compare).

    .venv/bin/python -m gears.bench_search [--products 100000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "results" / "search.md"
for path in ("shared", "functions/search", "functions/ecommerce"):
    if str(ROOT / path) not in sys.path:
        sys.path.insert(0, str(ROOT / path))

from search.domain import SearchProduct, search_request  # noqa: E402
from search.engine import SearchIndex  # noqa: E402
from search.service import IndexReader, search  # noqa: E402
from search.snapshots import DirectorySnapshots, pack  # noqa: E402

LEVELS = ("in_stock", "in_stock", "in_stock", "low", "out")
# Typical searches: (what it shows, the request's parameters).
QUERIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("one word", {"q": "heart"}),
    ("two words", {"q": "red retrospot"}),
    ("a typo", {"q": "chrismas"}),
    ("as you type", {"q": "lant"}),
    ("words + category + in stock", {"q": "bag", "category": "bags", "in_stock": "true"}),
    ("price range, cheapest first", {"q": "candle", "min_price": "100", "max_price": "500", "sort": "price-asc"}),
    ("browse a top category, newest", {"category": "home-kitchen"}),
    ("browse everything", {}),
    ("query syntax as text", {"q": 'title:* "AND OR NOT'}),
)


def real_catalog() -> list[SearchProduct]:
    from ecommerce.catalog.demo import CATEGORIES, demo_catalog
    from ecommerce.catalog.domain import CategoryTree

    tree = CategoryTree(CATEGORIES)
    rng = random.Random(12)
    products = []
    for product in demo_catalog():
        d = product.details
        category = d.category
        products.append(
            SearchProduct(
                product_id=product.product_id,
                sku=product.sku,
                title=d.title,
                description=d.description,
                price_amount=d.price.amount,
                currency=d.price.currency,
                category=category,
                category_path=tuple(tree.path(category) if category in tree else [category]),
                image=None,
                status="active",
                created_at=product.created_at.isoformat().replace("+00:00", "Z"),
                level=rng.choice(LEVELS),  # type: ignore[arg-type]
            )
        )
    return products


def generated_catalog(real: list[SearchProduct], n: int) -> list[SearchProduct]:
    rng = random.Random(100_000)
    vocabulary = sorted({w for p in real for w in p.title.split() if w.isalpha() and len(w) > 2})
    shapes = [(p.category, p.category_path) for p in real]
    prices = [p.price_amount for p in real]
    products = []
    for i in range(n):
        category, path = rng.choice(shapes)
        products.append(
            SearchProduct(
                product_id=f"gen-{i:06d}",
                sku=f"GEN{i:06d}",
                title=" ".join(rng.choices(vocabulary, k=rng.randint(2, 5))).title(),
                description=" ".join(rng.choices(vocabulary, k=rng.randint(8, 20))).lower(),
                price_amount=rng.choice(prices) * rng.randint(1, 4),
                currency="GBP",
                category=category,
                category_path=path,
                image=None,
                status="active",
                created_at=f"20{10 + i % 16:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z",
                level=rng.choice(LEVELS),  # type: ignore[arg-type]
            )
        )
    return products


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(name: str, products: list[SearchProduct], repeat: int, root: str) -> dict[str, Any]:
    build_dir = tempfile.mkdtemp(prefix="build-", dir=root)
    started = time.perf_counter()
    index = SearchIndex.create(build_dir, products)
    build_s = time.perf_counter() - started
    snapshot_bytes = len(pack(build_dir))
    bucket = DirectorySnapshots(os.path.join(root, f"bucket-{name}"))
    bucket.publish(build_dir, index.num_docs)

    loads = []
    for _ in range(5):
        reader = IndexReader(bucket, root)
        loads.append(timed(reader.current))
        shutil.rmtree(reader.index.path, ignore_errors=True)
    reader = IndexReader(bucket, root, check_every_s=1e9)
    reader.current()

    queries = []
    for label, params in QUERIES:
        args: dict[str, Any] = {
            "q": None,
            "category": None,
            "min_price": None,
            "max_price": None,
            "in_stock": None,
            "sort": None,
            "limit": 20,
            "offset": 0,
        }
        args.update(params)
        request = search_request(**args)
        total = search(request, reader)["total"]
        samples = [timed(partial(search, request, reader)) for _ in range(repeat)]
        queries.append((label, params, total, percentile(samples, 0.5), percentile(samples, 0.99)))

    rng = random.Random(7)
    updates = []
    for round_ in range(5):
        changed = [
            SearchProduct(**{**p.__dict__, "price_amount": p.price_amount + 1 + round_})
            for p in rng.sample(products, 20)
        ]
        started = time.perf_counter()
        index.apply(upserts=changed, deletes=())
        bucket.publish(index.path, index.num_docs)
        updates.append(time.perf_counter() - started)
    return {
        "name": name,
        "products": len(products),
        "build_s": build_s,
        "snapshot_bytes": snapshot_bytes,
        "load_s": statistics.median(loads),
        "queries": queries,
        "update_s": statistics.median(updates),
    }


def report(results: list[dict[str, Any]], repeat: int) -> str:
    lines = [
        "# Search: index build, snapshots and query latency",
        "",
        "Written by `python -m gears.bench_search` (see its docstring for what each figure is). One process, one",
        f"core, tantivy {_tantivy_version()}; each query repeated {repeat} times through `search.service.search`",
        "(hits, their stored fields and the three facets), after one warm-up run.",
        "",
        "| catalog | products | build | snapshot (tar.gz) | cold load (unpack + open) | update 20 + publish |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['products']:,} | {r['build_s'] * 1000:.0f} ms | {r['snapshot_bytes'] / 1e6:.2f} MB "
            f"| {r['load_s'] * 1000:.1f} ms | {r['update_s'] * 1000:.0f} ms |"
        )
    for r in results:
        lines += [
            "",
            f"## Queries on the {r['name']} ({r['products']:,} products)",
            "",
            "| query | parameters | matches | p50 | p99 |",
            "|---|---|---:|---:|---:|",
        ]
        for label, params, total, p50, p99 in r["queries"]:
            shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "(none)"
            lines.append(f"| {label} | `{shown}` | {total:,} | {p50 * 1000:.2f} ms | {p99 * 1000:.2f} ms |")
    return "\n".join(lines) + "\n"


def _tantivy_version() -> str:
    from importlib.metadata import version

    return version("tantivy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gears.bench_search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000, help="generated catalog size (default 100000)")
    parser.add_argument("--repeat", type=int, default=200, help="runs of each query (default 200)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    real = real_catalog()
    with tempfile.TemporaryDirectory(prefix="gears-bench-search-") as root:
        results = [
            measure("real catalog", real, args.repeat, root),
            measure("generated catalog", generated_catalog(real, args.products), args.repeat, root),
        ]
    text = report(results, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
