"""The recommendation service's evaluation on the Online Retail sample: ``python -m gears.eval_recommendations``.

Train on the invoices before the cut-off only (cancellations and non-merchandise lines left out, as the history
backfill leaves them out); then, for each customer who buys after it, recommend 10 items from what they bought
before, and score them against what they bought after. Items a customer had already bought before the cut-off are
left out of both the recommendations and the truth (re-buying is not discovery), so a customer whose later purchases
are all repeats is not counted. The model is the service's own (:mod:`recommendation.model`: the same related
lists, the same scoring, the same popular fill), run with each candidate co-occurrence unit:

- ``customer``: a customer's purchases before the cut-off are one unit (what the service runs);
- ``order``: each invoice is its own unit (the textbook basket);

against the most-popular baseline (the training window's most bought items, each customer's own earlier items left
out). Metrics: **hit rate@10**, the share of customers with at least one of their later items among the 10;
**recall@10**, the mean over customers of (later items among the 10) / (later items). Customers with no purchase
before the cut-off get popular items from every method (cold start); the table shows them apart.

Writes ``bench/results/recommendations.md``. Deterministic: the same CSV and cut-off give the same figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "functions" / "recommendation", ROOT / "functions" / "ecommerce", ROOT / "shared"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

from gears.dataset import DEFAULT_CSV, Invoice, read_invoices  # noqa: E402
from recommendation import model  # noqa: E402

K = 10
RESULTS = ROOT / "bench" / "results" / "recommendations.md"
DEFAULT_CUTOFF = date(2011, 9, 1)


def merchandise(invoice: Invoice) -> tuple[str, ...]:
    """The invoice's products, as the backfill brings them: no cancellation, no zero price, no postage or fees."""
    from ecommerce.catalog.demo import NOT_MERCHANDISE

    if invoice.cancellation:
        return ()
    return tuple(
        dict.fromkeys(
            line.sku
            for line in invoice.lines
            if line.unit_pence > 0 and line.quantity > 0 and line.sku not in NOT_MERCHANDISE
        )
    )


@dataclass
class Scores:
    customers: int = 0
    hits: int = 0
    recall: float = 0.0

    def add(self, recommended: Sequence[str], truth: set[str]) -> None:
        found = len(truth.intersection(recommended[:K]))
        self.customers += 1
        self.hits += found > 0
        self.recall += found / len(truth)

    def row(self) -> tuple[str, str]:
        if not self.customers:
            return "-", "-"
        return f"{self.hits / self.customers:.3f}", f"{self.recall / self.customers:.3f}"


def split(
    invoices: Sequence[Invoice], cutoff: date
) -> tuple[list[model.Basket], dict[str, set[str]], dict[str, set[str]]]:
    """Training baskets (before the cut-off), each known customer's items before and after it."""
    limit = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=invoices[0].when.tzinfo) if invoices else None
    train: list[model.Basket] = []
    before: dict[str, set[str]] = defaultdict(set)
    after: dict[str, set[str]] = defaultdict(set)
    for invoice in invoices:
        items = merchandise(invoice)
        if not items:
            continue
        if limit is not None and invoice.when < limit:
            unit = f"customer:{invoice.customer}" if invoice.customer else ""
            train.append(model.Basket(invoice.number, unit, invoice.when.date().isoformat(), items))
            if invoice.customer:
                before[invoice.customer].update(items)
        elif invoice.customer:
            after[invoice.customer].update(items)
    return train, before, after


VALIDATION_DAYS = 92  # the validation split: the last three months of the training window

# name -> (unit, alpha, shrink); "popular" is the baseline.
METHODS: dict[str, tuple[str, float, float]] = {
    "service": ("customer", model.ALPHA, model.SHRINK),
    "cosine": ("customer", 0.5, model.SHRINK),
    "cosine-unshrunk": ("customer", 0.5, 0.0),
    "conditional": ("customer", 1.0, model.SHRINK),
    "order": ("order", model.ALPHA, model.SHRINK),
}
LABELS = {
    "service": f"item-to-item, customer units, asymmetric cosine a={model.ALPHA}, shrink {model.SHRINK:g} "
    "(the service)",
    "cosine": f"item-to-item, customer units, cosine (a=0.5), shrink {model.SHRINK:g}",
    "cosine-unshrunk": "item-to-item, customer units, plain cosine (no shrink)",
    "conditional": f"item-to-item, customer units, conditional probability (a=1), shrink {model.SHRINK:g}",
    "order": f"item-to-item, order units, a={model.ALPHA}, shrink {model.SHRINK:g}",
    "popular": "most popular (training window): the baseline",
}


def run_split(invoices: Sequence[Invoice], cutoff: date) -> dict[str, object]:
    """Train on ``invoices`` before ``cutoff``, test on the known customers' purchases from it on."""
    train, before, after = split(invoices, cutoff)
    purchases = model.Purchases()
    purchases.fold(train)
    popular = [item for item, _ in model.popular(purchases.days, cutoff, window=100_000)]
    units = {"customer": purchases.unit_items(), "order": [list(b.items) for b in train]}
    timings: dict[str, float] = {}
    lists: dict[str, model.Related] = {}
    for name, (unit, alpha, shrink) in METHODS.items():
        t = time.perf_counter()
        lists[name] = model.related(units[unit], alpha=alpha, shrink=shrink)
        timings[name] = time.perf_counter() - t
    warm = {m: Scores() for m in LABELS}
    cold = {m: Scores() for m in LABELS}
    for customer in sorted(after):
        history = before.get(customer, set())
        truth = after[customer] - history
        if not truth:
            continue
        weights = dict.fromkeys(sorted(history), 1.0)
        for method in LABELS:
            if method == "popular":
                recommended = [i for i in popular if i not in history][:K]
            else:
                recommended = [i for i, _ in model.recommend(weights, lists[method], limit=K, fill=popular)]
            (warm if history else cold)[method].add(recommended, truth)
    return {
        "cutoff": cutoff,
        "train_baskets": len(train),
        "train_units": len(units["customer"]),
        "items": len({i for b in train for i in b.items}),
        "pairs": sum(len(u) * (len(u) - 1) // 2 for u in units["customer"]),
        "avg_basket": sum(len(b.items) for b in train) / max(len(train), 1),
        "warm": warm,
        "cold": cold,
        "timings": timings,
    }


class _MemoryStore:
    """Just what :func:`recommendation.service.recompute` asks of the table, in memory (every basket's items known
    to the catalog, no category): the job's own code timed without DynamoDB's round trips."""

    def __init__(self, baskets: Sequence[model.Basket]) -> None:
        self.baskets = list(baskets)
        self.written = 0

    def all_baskets(self) -> Iterator[model.Basket]:
        return iter(self.baskets)

    def products(self, product_ids: Iterable[str]) -> dict[str, Any]:
        return {}

    def save_related(self, lists: Mapping[str, Any], at: str) -> None:
        self.written += len(lists)

    def save_lists(self, lists: Mapping[str, Any], at: str) -> None:
        self.written += len(lists)


class _MemorySnapshots:
    def __init__(self) -> None:
        self.body: bytes | None = None

    def load(self) -> dict[str, Any] | None:
        return json.loads(gzip.decompress(self.body)) if self.body else None

    def save(self, snapshot: dict[str, Any]) -> None:
        self.body = gzip.compress(json.dumps(snapshot, separators=(",", ":")).encode(), compresslevel=6, mtime=0)


def time_the_job(invoices: Sequence[Invoice]) -> dict[str, float]:
    """The service's job (:func:`recommendation.service.recompute`) over every basket of the sample: the first run
    (no snapshot: every basket read back and folded, every list written), then one new basket folded into the
    snapshot, as each stream batch does."""
    from recommendation import service

    baskets, _, _ = split(invoices, date.max)
    today = max(b.day for b in baskets)
    store: Any = _MemoryStore(baskets)  # the part of the port the job uses
    snapshots = _MemorySnapshots()
    started = time.perf_counter()
    service.recompute([], store, snapshots, today=date.fromisoformat(today), at=today)
    first = time.perf_counter() - started
    lists = store.written
    one = model.Basket("order:new", "customer:12347", today, baskets[-1].items[:3])
    started = time.perf_counter()
    service.recompute([one], store, snapshots, today=date.fromisoformat(today), at=today)
    again = time.perf_counter() - started
    return {
        "baskets": len(baskets),
        "first_s": first,
        "lists": lists,
        "incremental_s": again,
        "rewritten": store.written - lists,
        "snapshot_kb": len(snapshots.body or b"") / 1024,
    }


def evaluate(csv: Path, cutoff: date) -> dict[str, object]:
    """The validation split (inside the training window: its last three months) and the test split."""
    started = time.perf_counter()
    invoices = read_invoices(csv)
    training = [i for i in invoices if i.when.date() < cutoff]
    validation = run_split(training, cutoff - timedelta(days=VALIDATION_DAYS))
    test = run_split(invoices, cutoff)
    job = time_the_job(invoices)
    return {
        "job": job,
        "csv": csv,
        "invoices": len(invoices),
        "validation": validation,
        "test": test,
        "seconds": time.perf_counter() - started,
    }


def _table(split_: dict[str, object]) -> list[str]:
    warm, cold = split_["warm"], split_["cold"]
    assert isinstance(warm, dict)
    assert isinstance(cold, dict)
    lines = [
        f"| method | with history: hit rate@{K} | recall@{K} | new customers: hit rate@{K} | recall@{K} |",
        "|---|---|---|---|---|",
    ]
    for method, label in LABELS.items():
        w, c = warm[method].row(), cold[method].row()
        lines.append(f"| {label} | {w[0]} | {w[1]} | {c[0]} | {c[1]} |")
    lines += [
        "",
        f"Trained on the {split_['train_baskets']:,} baskets before {split_['cutoff']} ({split_['train_units']:,} "
        f"units, {split_['items']:,} items, {split_['avg_basket']:.2f} items per basket, {split_['pairs']:,} "
        f"co-purchase pairs within customer units); tested on {warm['popular'].customers:,} customers who bought "
        f"something new after it having bought before, and {cold['popular'].customers:,} first-time buyers "
        "(every method gives them popular items).",
    ]
    return lines


def report(result: dict[str, object]) -> str:
    test, validation, job = result["test"], result["validation"], result["job"]
    assert isinstance(job, dict)
    assert isinstance(test, dict)
    assert isinstance(validation, dict)
    timings = test["timings"]
    assert isinstance(timings, dict)
    lines = [
        "# Recommendations: evaluation on the Online Retail sample",
        "",
        f"`python -m gears.eval_recommendations --cutoff {test['cutoff']}` on `{Path(str(result['csv'])).name}` "
        f"({result['invoices']:,} invoices). Each customer's items bought before the cut-off are left out of both "
        "the recommendations and the truth. Recall@10: the mean share of a customer's new items found in the 10.",
        "",
        f"## Test: trained before {test['cutoff']}, tested after",
        "",
        *_table(test),
        "",
        f"## Validation: inside the training window (trained before {validation['cutoff']}, tested up to "
        f"{test['cutoff']})",
        "",
        "The variants were compared on this split, which uses no data of the test period: customer units over "
        "order units, a shrink of 10 over none, and a=0.8 over the plain cosine. The conditional probability (a=1) "
        "scores a little higher here and on the test, but it does not normalise for the recommended item's "
        "popularity (it drifts to the best sellers); the service keeps a=0.8. On this split the most-popular "
        "baseline beats every item-to-item variant for customers with history: see docs/recommendations.md.",
        "",
        *_table(validation),
        "",
        f"Related lists of the test split built in {timings['service']:.2f} s (the service's variant; order units "
        f"{timings['order']:.2f} s), plain Python on one core; the whole evaluation {result['seconds']:.1f} s.",
        "",
        "## The service's job at the sample's size",
        "",
        f"`recommendation.service.recompute` over all {job['baskets']:,} baskets of the sample (in memory, no "
        f"DynamoDB): the first run (no snapshot) {job['first_s']:.2f} s, writing {job['lists']:,} lists; then one "
        f"new basket folded into the snapshot {job['incremental_s']:.2f} s, rewriting {job['rewritten']:,} lists "
        f"(only those that changed). Snapshot {job['snapshot_kb']:,.0f} KB gzip'd. Plain Python, one core.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gears.eval_recommendations", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--cutoff", type=date.fromisoformat, default=DEFAULT_CUTOFF)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    text = report(evaluate(args.csv, args.cutoff))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
