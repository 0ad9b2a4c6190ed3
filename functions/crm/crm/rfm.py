"""RFM scoring: recency, frequency and monetary quintiles, and the named segments. Standard library only.

Three callers use it the same way: the scheduled recompute (``crm.segments``: boundaries from every customer with a
paid order, then each customer scored), the incremental update when a payment arrives (the customer re-scored
against the last stored boundaries) and ``make segments`` (``crm.dataset``: the Online Retail sample).

**Scores.** Over the customers with at least one paid order, each dimension gets four cut points, the values at
the 20th, 40th, 60th and 80th percentile (nearest rank). A customer's score in a dimension is 1 plus the number of
cut points its value is above: 1 (the lowest fifth) to 5 (the highest). Recency is scored on the time of the last
order, so a recent order scores high (5) and the cut points stay valid between recomputes (a customer who orders
now is above every one of them). Ties stay together: a customer's score never depends on who else shares its value,
so where many customers share one (a single order, most of all) a quintile holds more than a fifth and the next
ones fewer.

**Segments.** The named segment comes from the R and F scores (M is shown beside them), by :data:`SEGMENT_MAP`::

            F=1          F=2                  F=3                  F=4          F=5
    R=5     new          potential-loyalists  potential-loyalists  champions    champions
    R=4     new          potential-loyalists  potential-loyalists  loyal        loyal
    R=3     hibernating  hibernating          potential-loyalists  loyal        loyal
    R=2     hibernating  hibernating          at-risk              at-risk      cant-lose
    R=1     lost         lost                 at-risk              at-risk      cant-lose

It is the usual R/F grid (champions bought lately and often; loyal often, fairly lately; potential loyalists lately,
a few times; new lately, once; at risk used to buy often and stopped; can't lose bought most often and stopped
longest ago; hibernating and lost bought rarely, long ago), cut to these eight names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

CHAMPIONS = "champions"
LOYAL = "loyal"
POTENTIAL_LOYALISTS = "potential-loyalists"
NEW = "new"
AT_RISK = "at-risk"
CANT_LOSE = "cant-lose"
HIBERNATING = "hibernating"
LOST = "lost"

SEGMENTS: tuple[str, ...] = (CHAMPIONS, LOYAL, POTENTIAL_LOYALISTS, NEW, AT_RISK, CANT_LOSE, HIBERNATING, LOST)
LABELS = {
    CHAMPIONS: "Champions",
    LOYAL: "Loyal",
    POTENTIAL_LOYALISTS: "Potential loyalists",
    NEW: "New",
    AT_RISK: "At risk",
    CANT_LOSE: "Can't lose",
    HIBERNATING: "Hibernating",
    LOST: "Lost",
}

# SEGMENT_MAP[r][f] for scores 1..5 (index 0 unused), as the module's docstring draws it.
_ROWS = {
    5: (NEW, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, CHAMPIONS, CHAMPIONS),
    4: (NEW, POTENTIAL_LOYALISTS, POTENTIAL_LOYALISTS, LOYAL, LOYAL),
    3: (HIBERNATING, HIBERNATING, POTENTIAL_LOYALISTS, LOYAL, LOYAL),
    2: (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),
    1: (LOST, LOST, AT_RISK, AT_RISK, CANT_LOSE),
}
SEGMENT_MAP: dict[int, dict[int, str]] = {r: {f: row[f - 1] for f in range(1, 6)} for r, row in _ROWS.items()}
QUANTILES = (0.2, 0.4, 0.6, 0.8)


def segment_of(r: int, f: int) -> str:
    """The named segment of an R and an F score (1..5 each)."""
    if not (1 <= r <= 5 and 1 <= f <= 5):
        raise ValueError(f"scores are 1..5, not R={r} F={f}")
    return SEGMENT_MAP[r][f]


@dataclass(frozen=True)
class Activity:
    """What RFM reads of one customer: the last paid order's time, the paid orders, the money kept (minor units:
    spent less refunded)."""

    customer_id: str
    last_order_at: datetime
    orders: int
    monetary: int


@dataclass(frozen=True)
class Boundaries:
    """The four cut points of each dimension (ascending), and when they were computed."""

    recency: tuple[datetime, ...]
    frequency: tuple[int, ...]
    monetary: tuple[int, ...]
    computed_at: datetime
    customers: int

    def recency_days(self) -> list[float]:
        """The recency cut points as days before :attr:`computed_at` (largest first: the oldest cut point)."""
        return [round((self.computed_at - cut).total_seconds() / 86400, 1) for cut in self.recency]

    def to_dict(self) -> dict[str, object]:
        return {
            "recency": [_iso(c) for c in self.recency],
            "recencyDays": self.recency_days(),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
            "computedAt": _iso(self.computed_at),
            "customers": self.customers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Boundaries:
        def ints(key: str) -> tuple[int, ...]:
            return tuple(int(v) for v in data[key])  # type: ignore[attr-defined]

        return cls(
            recency=tuple(parse_time(str(v)) for v in data["recency"]),  # type: ignore[attr-defined]
            frequency=ints("frequency"),
            monetary=ints("monetary"),
            computed_at=parse_time(str(data["computedAt"])),
            customers=int(data.get("customers") or 0),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class Score:
    r: int
    f: int
    m: int
    segment: str

    @property
    def code(self) -> str:
        """The scores as one string, R then F then M (``"545"``)."""
        return f"{self.r}{self.f}{self.m}"

    def to_dict(self) -> dict[str, object]:
        return {"r": self.r, "f": self.f, "m": self.m, "code": self.code, "segment": self.segment}


def cut_points(values: Sequence[float]) -> tuple[float, ...]:
    """The values at the 20th, 40th, 60th and 80th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to cut")
    n = len(ordered)
    return tuple(ordered[max(math.ceil(q * n) - 1, 0)] for q in QUANTILES)


def _rank(value: float, cuts: Iterable[float]) -> int:
    return 1 + sum(1 for cut in cuts if value > cut)


def boundaries(activities: Sequence[Activity], now: datetime) -> Boundaries | None:
    """The cut points over ``activities`` (customers with at least one paid order); ``None`` when there are none."""
    scored = [a for a in activities if a.orders > 0]
    if not scored:
        return None
    recency = cut_points([a.last_order_at.timestamp() for a in scored])
    return Boundaries(
        recency=tuple(datetime.fromtimestamp(t, UTC) for t in recency),
        frequency=tuple(int(v) for v in cut_points([a.orders for a in scored])),
        monetary=tuple(int(v) for v in cut_points([a.monetary for a in scored])),
        computed_at=now,
        customers=len(scored),
    )


def score(activity: Activity, bounds: Boundaries) -> Score:
    """The customer's R, F and M scores and segment against ``bounds``."""
    r = _rank(activity.last_order_at.timestamp(), (c.timestamp() for c in bounds.recency))
    f = _rank(activity.orders, bounds.frequency)
    m = _rank(activity.monetary, bounds.monetary)
    return Score(r, f, m, segment_of(r, f))


@dataclass(frozen=True)
class SegmentSize:
    segment: str
    customers: int
    revenue: int
    share: float  # of the revenue of every scored customer, 0..1

    def to_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "label": LABELS[self.segment],
            "customers": self.customers,
            "revenue": self.revenue,
            "share": self.share,
        }


def summarise(scores: Iterable[tuple[Activity, Score]]) -> list[SegmentSize]:
    """Each named segment's customers, revenue and share of the revenue, in :data:`SEGMENTS` order."""
    customers = dict.fromkeys(SEGMENTS, 0)
    revenue = dict.fromkeys(SEGMENTS, 0)
    for activity, s in scores:
        customers[s.segment] += 1
        revenue[s.segment] += activity.monetary
    total = sum(revenue.values())
    return [
        SegmentSize(seg, customers[seg], revenue[seg], round(revenue[seg] / total, 4) if total else 0.0)
        for seg in SEGMENTS
    ]


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
