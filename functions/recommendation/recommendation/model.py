"""Item-to-item collaborative filtering (Linden, Smith and York, "Amazon.com recommendations: item-to-item
collaborative filtering", IEEE Internet Computing 2003), in plain Python: the service's job and the evaluation
(``python -m gears.eval_recommendations``) run this same code.

- A **unit** is what co-purchase is counted over: a customer's purchases (all their baskets together), or one
  order for an order that names no customer. The evaluation compares that with the order alone as the unit: on
  the Online Retail sample (baskets are partial: the sample is of lines) the customer wins clearly
  (docs/recommendations.md).
- ``n[i]`` is the number of units that bought item ``i``; ``co[i][j]`` the number that bought both. The similarity
  of ``j`` to ``i`` is an asymmetric cosine of the two items' unit vectors, ``co / (n[i] ** a * n[j] ** (1 - a))``
  (``a`` = 0.5 is the plain cosine; normalised for popularity: an item everyone buys is not everyone's neighbour),
  damped for thin evidence by ``co / (co + shrink)``. ``a`` = 0.8 and ``shrink`` = 10 were chosen on a validation
  split inside the training window (the evaluation shows every variant).
- Each item keeps its ``top`` most similar items (the related list). A customer's recommendations are the sum of
  the similarities from the related lists of what they bought, minus what they bought.
- **Popular**: items by the number of baskets that held them in the last 90 days; **trending**: the last 7 days
  against the 28 before (smoothed, so one sale of a sleepy item is not a trend).

Standard library only: numpy with scipy would not fit the Lambda package; measured on the sample (3,591 customers,
27,684 customer-item pairs, 505,218 co-purchase pairs) a whole rebuild takes about a second on one core.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

TOP_RELATED = 50  # neighbours kept per item
ALPHA = 0.8  # asymmetric cosine: co / (n[i] ** ALPHA * n[j] ** (1 - ALPHA)); 0.5 is the plain cosine
SHRINK = 10.0  # co / (co + SHRINK): a pair bought together once counts 1/11, ten times a half
MAX_UNIT_ITEMS = 400  # a unit (a reseller's account) with more distinct items counts its latest 400 only
POPULAR_DAYS = 90
TRENDING_DAYS = 7
TRENDING_BEFORE_DAYS = 28
TRENDING_MIN = 2  # baskets in the last 7 days before an item can trend
TRENDING_PRIOR = 2.0  # pseudo-baskets a week added to both windows' rates

Related = dict[str, list[tuple[str, float]]]


@dataclass(frozen=True)
class Basket:
    """One paid order (or one past order brought in as history): who bought (its unit), when, which items."""

    basket_id: str
    unit: str  # "user:<id>", "customer:<ref>", or "" (the basket is its own unit)
    day: str  # YYYY-MM-DD
    items: tuple[str, ...]

    @property
    def unit_key(self) -> str:
        return self.unit or f"basket:{self.basket_id}"


@dataclass
class Purchases:
    """What the model folds baskets into: per unit, each item with the last day it was bought; per day, how many
    baskets held each item; the baskets folded (so a basket folded twice counts once)."""

    units: dict[str, dict[str, str]] = field(default_factory=dict)
    days: dict[str, dict[str, int]] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)  # basket id -> its day

    def fold(self, baskets: Iterable[Basket]) -> set[str]:
        """Add ``baskets`` (each once); the items they held."""
        touched: set[str] = set()
        for basket in baskets:
            if basket.basket_id in self.folded or not basket.items:
                continue
            self.folded[basket.basket_id] = basket.day
            unit = self.units.setdefault(basket.unit_key, {})
            day = self.days.setdefault(basket.day, {})
            for item in dict.fromkeys(basket.items):
                if unit.get(item, "") < basket.day:
                    unit[item] = basket.day
                day[item] = day.get(item, 0) + 1
                touched.add(item)
        return touched

    def unit_items(self) -> list[list[str]]:
        """Each unit's items, the latest :data:`MAX_UNIT_ITEMS` of a very large one."""
        out = []
        for items in self.units.values():
            if len(items) > MAX_UNIT_ITEMS:
                out.append([i for i, _ in heapq.nlargest(MAX_UNIT_ITEMS, items.items(), key=lambda kv: (kv[1], kv[0]))])
            else:
                out.append(list(items))
        return out

    def to_dict(self) -> dict[str, object]:
        return {"units": self.units, "days": self.days, "folded": self.folded}

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> Purchases:
        units = raw.get("units") or {}
        days = raw.get("days") or {}
        folded = raw.get("folded") or {}
        assert isinstance(units, dict)
        assert isinstance(days, dict)
        assert isinstance(folded, dict)
        return cls(
            {str(u): {str(i): str(d) for i, d in v.items()} for u, v in units.items()},
            {str(d): {str(i): int(c) for i, c in v.items()} for d, v in days.items()},
            {str(b): str(d) for b, d in folded.items()},
        )


def co_counts(units: Iterable[Sequence[str]]) -> tuple[Counter[str], dict[str, dict[str, int]]]:
    """``n`` (units per item) and ``co`` (units per pair, both ways) of ``units``."""
    n: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for items in units:
        distinct = sorted(set(items))
        n.update(distinct)
        pairs.update(combinations(distinct, 2))  # counted in C: each pair once, in order
    co: dict[str, dict[str, int]] = defaultdict(dict)
    for (a, b), count in pairs.items():
        co[a][b] = count
        co[b][a] = count
    return n, co


def related(
    units: Iterable[Sequence[str]], *, top: int = TOP_RELATED, alpha: float = ALPHA, shrink: float = SHRINK
) -> Related:
    """Each item's ``top`` most similar items, most similar first (asymmetric cosine over units, damped by
    ``shrink``)."""
    n, co = co_counts(units)
    power = {item: count ** (1 - alpha) for item, count in n.items()}
    out: Related = {}
    for a, counts in co.items():
        na = n[a] ** alpha
        scored = ((c * c / ((c + shrink) * na * power[b]), b) for b, c in counts.items())
        best = heapq.nlargest(top, scored)
        out[a] = [(b, round(score, 6)) for score, b in sorted(best, key=lambda sb: (-sb[0], sb[1]))]
    return out


def recommend(
    history: Mapping[str, float],
    lists: Mapping[str, Sequence[tuple[str, float]]],
    *,
    limit: int,
    exclude: Iterable[str] = (),
    fill: Sequence[str] = (),
) -> list[tuple[str, float]]:
    """Items for someone who bought ``history`` (item -> weight): each candidate scored by the weighted sum of its
    similarities in the related lists of what they bought; never an item of ``history`` or ``exclude``. Short of
    ``limit``, ``fill`` (popular items, best first) makes up the rest with a score of 0."""
    banned = set(history) | set(exclude)
    scores: dict[str, float] = defaultdict(float)
    for item, weight in history.items():
        for other, similarity in lists.get(item, ()):
            if other not in banned:
                scores[other] += weight * similarity
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    if len(ranked) < limit:
        chosen = {i for i, _ in ranked}
        for item in fill:
            if len(ranked) >= limit:
                break
            if item not in banned and item not in chosen:
                ranked.append((item, 0.0))
                chosen.add(item)
    return [(i, round(s, 6)) for i, s in ranked]


def _window(days: Mapping[str, Mapping[str, int]], start: date, end: date) -> Counter[str]:
    """Baskets per item on days in ``[start, end)``."""
    total: Counter[str] = Counter()
    lo, hi = start.isoformat(), end.isoformat()
    for day, counts in days.items():
        if lo <= day < hi:
            total.update(counts)
    return total


def popular(
    days: Mapping[str, Mapping[str, int]], today: date, *, window: int = POPULAR_DAYS, top: int = 200
) -> list[tuple[str, float]]:
    """The most bought items of the ``window`` days before ``today``: (item, baskets), most first."""
    counts = _window(days, today - timedelta(days=window), today)
    return [(i, float(c)) for i, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def trending(days: Mapping[str, Mapping[str, int]], today: date, *, top: int = 200) -> list[tuple[str, float]]:
    """Items bought faster in the last 7 days than in the 28 before: (item, the ratio of the two daily rates), most
    first; only items in at least :data:`TRENDING_MIN` baskets of the last 7 days, and rising."""
    recent_start = today - timedelta(days=TRENDING_DAYS)
    recent = _window(days, recent_start, today)
    before = _window(days, recent_start - timedelta(days=TRENDING_BEFORE_DAYS), recent_start)
    scored = []
    for item, count in recent.items():
        if count < TRENDING_MIN:
            continue
        rate_now = (count + TRENDING_PRIOR) / TRENDING_DAYS
        # The same prior per week in both windows: a prior of so many baskets a week, not so many per window.
        prior_before = TRENDING_PRIOR * TRENDING_BEFORE_DAYS / TRENDING_DAYS
        rate_before = (before.get(item, 0) + prior_before) / TRENDING_BEFORE_DAYS
        ratio = rate_now / rate_before
        if ratio > 1.0:
            scored.append((item, round(ratio, 4)))
    return sorted(scored, key=lambda kv: (-kv[1], kv[0]))[:top]


def prune(purchases: Purchases, today: date, *, keep_days: int = 400) -> None:
    """Forget the per-day counts and folded basket ids older than ``keep_days`` (the units keep their items:
    co-purchase is long-lived; a basket redelivered is redelivered within days, not a year)."""
    oldest = (today - timedelta(days=keep_days)).isoformat()
    for day in [d for d in purchases.days if d < oldest]:
        del purchases.days[day]
    for basket_id in [b for b, d in purchases.folded.items() if d < oldest]:
        del purchases.folded[basket_id]
