"""The sales forecast: shapes, zero days, closures, bank holidays, honest intervals, and beating seasonal naive."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from analytics.forecast import bank_holidays, forecast, forecast_with

PROFILE = (100.0, 120.0, 110.0, 130.0, 90.0, 0.0, 40.0)  # Monday..Sunday; the shop sells nothing on Saturdays
MONDAY = date(2026, 1, 5)


def weekly(days: int, *, seed: int, noise: float = 0.25, first: date = MONDAY) -> list[float]:
    """Daily values with a weekly profile (indexed by the calendar weekday) and multiplicative noise."""
    rng = random.Random(seed)
    values = []
    for t in range(days):
        base = PROFILE[(first + timedelta(days=t)).weekday()]
        values.append(round(max(0.0, base * (1 + rng.gauss(0, noise)))) if base else 0.0)
    return values


def test_a_forecast_has_one_point_per_day_with_the_mean_inside_its_interval() -> None:
    history = weekly(120, seed=1)

    result = forecast(history, 14, level=0.8, start=MONDAY + timedelta(days=120))

    assert result.level == 0.8
    assert len(result.mean) == len(result.lower) == len(result.upper) == 14
    assert all(
        0 <= low <= mean <= high for low, mean, high in zip(result.lower, result.mean, result.upper, strict=True)
    )
    assert result.model


def test_a_weekday_that_never_sells_forecasts_zero_with_a_zero_interval() -> None:
    history = weekly(84, seed=2)
    start = MONDAY + timedelta(days=84)

    result = forecast(history, 14, start=start)

    saturdays = [h for h in range(14) if (start + timedelta(days=h)).weekday() == 5]
    assert saturdays
    for h in saturdays:
        assert (result.lower[h], result.mean[h], result.upper[h]) == (0.0, 0.0, 0.0)
    assert all(result.mean[h] > 0 for h in range(14) if h not in saturdays)


def test_beats_seasonal_naive_on_a_noisy_weekly_series() -> None:
    values = weekly(400, seed=3)
    ours = naive = 0.0
    for origin in range(200, 393, 7):
        start = MONDAY + timedelta(days=origin)
        actual = values[origin : origin + 7]
        ours += sum(abs(a - f) for a, f in zip(actual, forecast(values[:origin], 7, start=start).mean, strict=True))
        baseline = forecast_with(["seasonal-naive"], values[:origin], 7, start=start).mean
        naive += sum(abs(a - f) for a, f in zip(actual, baseline, strict=True))

    assert ours < 0.85 * naive


def test_intervals_cover_about_what_they_promise() -> None:
    values = weekly(260, seed=4)
    inside = total = 0
    for origin in range(180, 253, 2):
        result = forecast(values[:origin], 7, level=0.9, start=MONDAY + timedelta(days=origin))
        for h in range(7):
            if result.mean[h] > 0:
                inside += result.lower[h] <= values[origin + h] <= result.upper[h]
                total += 1

    assert 0.8 <= inside / total <= 0.98


def test_a_closed_day_does_not_drag_the_level_down() -> None:
    history = weekly(112, seed=5)
    history[-7:-1] = [0.0] * 6  # closed all last week (a Saturday is zero anyway): an outage, not a new normal
    start = MONDAY + timedelta(days=112)

    result = forecast(history, 7, start=start)

    assert result.mean[0] > 0.6 * PROFILE[0]  # next Monday still sells (seasonal naive would say 0)
    assert result.mean[3] > 0.6 * PROFILE[3]


def test_bank_holidays_forecast_what_past_bank_holidays_sold() -> None:
    first = date(2025, 1, 6)  # a Monday; the history holds 2025's bank holidays, the forecast 2026's Easter
    days = 450
    start = first + timedelta(days=days)
    assert start == date(2026, 4, 1)
    closed_on_holidays = weekly(days, seed=6, first=first)
    for t in range(days):
        if first + timedelta(days=t) in bank_holidays((first + timedelta(days=t)).year):
            closed_on_holidays[t] = 0.0
    open_on_holidays = weekly(days, seed=6, first=first)
    good_friday, easter_monday = date(2026, 4, 3), date(2026, 4, 6)

    closed = forecast(closed_on_holidays, 10, start=start)
    still_open = forecast(open_on_holidays, 10, start=start)

    for day in (good_friday, easter_monday):
        h = (day - start).days
        assert closed.mean[h] < 0.1 * PROFILE[day.weekday()]
        assert still_open.mean[h] > 0.6 * PROFILE[day.weekday()]
    thursday = (date(2026, 4, 2) - start).days
    assert closed.mean[thursday] > 0.6 * PROFILE[3]


def test_england_and_wales_bank_holidays_with_their_substitute_days() -> None:
    assert sorted(bank_holidays(2022)) == [
        date(2022, 1, 3),  # New Year's Day was a Saturday
        date(2022, 4, 15),
        date(2022, 4, 18),
        date(2022, 5, 2),
        date(2022, 5, 30),
        date(2022, 8, 29),
        date(2022, 12, 26),
        date(2022, 12, 27),  # Christmas Day was a Sunday
    ]
    assert {date(2010, 12, 27), date(2010, 12, 28)} <= bank_holidays(2010)  # Christmas on a Saturday


@pytest.mark.parametrize("days", [1, 6, 7, 14, 30])
def test_a_short_history_still_forecasts(days: int) -> None:
    history = weekly(days, seed=7)

    result = forecast(history, 90, start=MONDAY + timedelta(days=days))

    assert len(result.mean) == 90
    assert all(math.isfinite(v) and v >= 0 for v in result.mean + result.lower + result.upper)
    assert all(low <= mean <= high for low, mean, high in zip(result.lower, result.mean, result.upper, strict=True))


def test_a_long_horizon_widens_beyond_the_backtested_days() -> None:
    result = forecast(weekly(400, seed=8), 90, start=MONDAY + timedelta(days=400))

    width = [
        (high - low) / mean for low, mean, high in zip(result.lower, result.mean, result.upper, strict=True) if mean
    ]
    assert width[-1] > width[0]


def test_a_series_of_zeros_forecasts_zeros() -> None:
    result = forecast([0.0] * 60, 7)

    assert result.mean == result.lower == result.upper == [0.0] * 7


@pytest.mark.parametrize(
    ("history", "horizon", "level"),
    [
        ([], 7, 0.9),
        ([1.0, 2.0], 0, 0.9),
        ([1.0], 7, 1.0),
        ([1.0], 7, 0.0),
        ([1.0, math.nan], 7, 0.9),
        ([math.inf], 7, 0.9),
    ],
)
def test_bad_arguments_are_refused(history: list[float], horizon: int, level: float) -> None:
    with pytest.raises(ValueError, match=r"history|horizon|level"):
        forecast(history, horizon, level=level)


@pytest.mark.parametrize("shape", ["sparse", "spiky", "flat", "huge"])
def test_odd_series_still_get_finite_ordered_answers(shape: str) -> None:
    rng = random.Random(shape)
    for _ in range(15):
        days = rng.randint(1, 300)
        if shape == "sparse":
            history = [rng.choice([0.0, 0.0, 0.0, rng.random() * 10]) for _ in range(days)]
        elif shape == "spiky":
            history = [rng.expovariate(1) ** 4 * 100 for _ in range(days)]
        elif shape == "flat":
            history = [7.0] * days
        else:
            history = [rng.random() * 1e12 for _ in range(days)]

        result = forecast(history, rng.randint(1, 90), level=rng.uniform(0.5, 0.99), start=MONDAY)

        points = list(zip(result.lower, result.mean, result.upper, strict=True))
        assert all(math.isfinite(high) and 0 <= low <= mean <= high for low, mean, high in points)


def test_a_small_shop_with_many_quiet_days_is_not_forecast_as_if_it_never_had_one() -> None:
    rng = random.Random(9)
    history = [float(rng.choice([0, 2])) for _ in range(140)]  # an order or two on half the days: 1 a day

    result = forecast(history, 14, start=MONDAY + timedelta(days=140))

    assert 0.6 <= sum(result.mean) / 14 <= 1.4


def test_a_day_below_zero_counts_as_a_day_that_sold_nothing() -> None:
    history = weekly(70, seed=10)
    with_refunds = [*history[:-1], -500.0]  # yesterday's refunds outweighed its sales

    assert forecast(with_refunds, 7).mean == forecast([*history[:-1], 0.0], 7).mean
