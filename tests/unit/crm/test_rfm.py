"""RFM: known quintiles, every named segment, ties kept together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm.rfm import (
    AT_RISK,
    CANT_LOSE,
    CHAMPIONS,
    HIBERNATING,
    LOST,
    LOYAL,
    NEW,
    POTENTIAL_LOYALISTS,
    SEGMENTS,
    Activity,
    Boundaries,
    boundaries,
    cut_points,
    score,
    segment_of,
    summarise,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def ten_customers() -> list[Activity]:
    """c1 .. c10: c<n> ordered n times, spent n pounds, last ordered 11 - n days ago."""
    return [Activity(f"c{n}", NOW - timedelta(days=11 - n), n, n * 100) for n in range(1, 11)]


def test_cut_points_are_the_20th_to_80th_percentiles_by_nearest_rank() -> None:
    assert cut_points(list(range(1, 11))) == (2, 4, 6, 8)
    assert cut_points([5]) == (5, 5, 5, 5)
    with pytest.raises(ValueError, match="no values"):
        cut_points([])


def test_known_quintiles_give_known_scores() -> None:
    bounds = boundaries(ten_customers(), NOW)
    assert bounds is not None
    assert bounds.frequency == (2, 4, 6, 8)
    assert bounds.monetary == (200, 400, 600, 800)
    assert bounds.recency_days() == [9.0, 7.0, 5.0, 3.0]
    scores = {a.customer_id: score(a, bounds) for a in ten_customers()}
    assert [scores[f"c{n}"].f for n in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [scores[f"c{n}"].r for n in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["c10"].code == "555"
    assert scores["c10"].segment == CHAMPIONS
    assert scores["c1"].segment == LOST


def test_a_new_order_scores_top_recency_against_old_cut_points() -> None:
    bounds = boundaries(ten_customers(), NOW)
    assert bounds is not None
    later = Activity("late", NOW + timedelta(days=30), 1, 50)
    assert score(later, bounds).r == 5
    assert score(later, bounds).segment == NEW


def test_ties_stay_together() -> None:
    many_singles = [Activity(f"s{n}", NOW, 1, 100) for n in range(6)] + [
        Activity(f"m{n}", NOW, n, 100) for n in (2, 3, 4, 5)
    ]
    bounds = boundaries(many_singles, NOW)
    assert bounds is not None
    assert bounds.frequency == (1, 1, 1, 3)
    assert {score(a, bounds).f for a in many_singles if a.orders == 1} == {1}
    assert score(many_singles[-1], bounds).f == 5


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, CHAMPIONS),
        (5, 4, CHAMPIONS),
        (4, 5, LOYAL),
        (3, 4, LOYAL),
        (5, 2, POTENTIAL_LOYALISTS),
        (3, 3, POTENTIAL_LOYALISTS),
        (5, 1, NEW),
        (4, 1, NEW),
        (2, 3, AT_RISK),
        (1, 4, AT_RISK),
        (1, 5, CANT_LOSE),
        (2, 5, CANT_LOSE),
        (3, 1, HIBERNATING),
        (2, 2, HIBERNATING),
        (1, 1, LOST),
        (1, 2, LOST),
    ],
)
def test_each_named_segment_from_its_scores(r: int, f: int, segment: str) -> None:
    assert segment_of(r, f) == segment


def test_every_cell_of_the_map_is_a_named_segment_and_every_segment_is_reached() -> None:
    cells = {segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert cells == set(SEGMENTS)
    with pytest.raises(ValueError, match=r"1\.\.5"):
        segment_of(0, 3)


def test_summary_sizes_and_revenue_shares() -> None:
    activities = ten_customers()
    bounds = boundaries(activities, NOW)
    assert bounds is not None
    sizes = {s.segment: s for s in summarise((a, score(a, bounds)) for a in activities)}
    assert [s for s in sizes] == list(SEGMENTS)
    assert sum(s.customers for s in sizes.values()) == 10
    assert sum(s.revenue for s in sizes.values()) == 5500
    assert sizes[CHAMPIONS].customers == 2  # c9, c10
    assert sizes[CHAMPIONS].revenue == 1900
    assert sizes[CHAMPIONS].share == round(1900 / 5500, 4)
    assert sizes[LOST].customers == 2  # c1, c2


def test_boundaries_round_trip_and_none_without_paid_orders() -> None:
    bounds = boundaries(ten_customers(), NOW)
    assert bounds is not None
    assert Boundaries.from_dict(bounds.to_dict()) == bounds
    assert boundaries([Activity("x", NOW, 0, 0)], NOW) is None
