"""Daily sales forecasts: standard library only, chosen by a backtest on the history itself.

``forecast(history, horizon)`` takes consecutive daily values (revenue or orders, oldest first, ending the day before
the first forecast day) and answers a mean path with a prediction interval. It does not trust one model: it runs a
few candidates over the last weeks of the history as if each day were "today" (rolling origins), keeps the one with
the lowest mean absolute error there, and takes its interval from that same backtest's errors (empirical quantiles
by horizon), so an interval says how wrong this model has actually been on this series, not what a textbook
distribution would claim.

The candidates (see :data:`CANDIDATES`):

- ``seasonal-naive``: the same weekday last week (the baseline every other candidate must beat);
- ``weekday-mean(4)``: the mean of the last four open same weekdays;
- ``level-x-profile``: the last 28 days' level times a 16-week weekday profile (level and shape on their own clocks);
- ``holt-winters(damped)`` and ``holt-winters(damped, log1p)``: additive Holt-Winters with a weekly season and a damped
  trend, on the values or on ``log1p`` of them (multiplicative in effect), smoothing parameters fitted by one-step
  squared error on a grid;
- ``ensemble(...)``: the mean of the non-naive candidates' paths.

Zero days are real and modelled, not smoothed over. A weekday that is (almost) always zero in the recent weeks (the
shop's Saturdays) forecasts zero, with a zero-width interval while the backtest saw nothing sold on such days. A zero
on a weekday where zeros are rare is a closed day (Christmas, a bank holiday, an outage): it is left out when a model
learns the level, and it stays in the backtest errors (a closure nobody announced is a real miss). When
``start`` is given, England-and-Wales bank holidays in the forecast are scaled by what past bank holidays in the
history sold against their neighbouring same weekdays (a shop closed on them forecasts about zero; a history with
no bank holidays in it changes nothing).

Cost: one call on two years of daily values takes 60-85 ms on one core (``gears.eval_forecast`` measures it): almost
all of it the Holt-Winters grid, which runs over at most the last 52 weeks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

SEASON = 7
BACKTEST_ORIGINS = 56  # days of rolling origins at the end of the history (eight weeks)
BACKTEST_HORIZON = 28  # the longest horizon the backtest measures; longer ones widen by sqrt(h / 28)
SELECTION_HORIZON = 14  # the model is chosen on the errors of its first 14 days (or of the horizon asked, if less)
FIT_WINDOW = 364  # Holt-Winters learns from at most the last 52 weeks
ZERO_WEEKDAY_SHARE = 0.8  # a weekday with at least this share of zeros in the recent weeks forecasts zero
RECENT_WEEKS = 12
CLOSED_ZERO_SHARE = 0.2  # a zero is a closed day on a weekday with at most this share of zeros in the history
MIN_HISTORY = 1


@dataclass(frozen=True)
class Forecast:
    model: str  # what was chosen, e.g. "seasonal-naive", "holt-winters(damped, log1p)", "ensemble(...)"
    mean: list[float]  # `horizon` values, >= 0
    lower: list[float]  # prediction interval at `level`
    upper: list[float]
    level: float


# A candidate answers, for each origin (an index into the values: forecast from values[:origin]), its path of
# `horizon` forecasts. `skip[t]` marks days a model must not learn the level from (closed days, zero weekdays).
Paths = Callable[["Series", Sequence[int], int], list[list[float]]]


@dataclass(frozen=True)
class Series:
    values: list[float]
    skip: list[bool]
    zero_position: list[bool]  # by position t % 7: a weekday that forecasts zero


# -- candidates ------------------------------------------------------------------------------------------------------


def seasonal_naive(series: Series, origins: Sequence[int], horizon: int) -> list[list[float]]:
    """The same weekday last week, repeated: the baseline."""
    y = series.values
    paths = []
    for origin in origins:
        if origin >= SEASON:
            last_week = y[origin - SEASON : origin]
            paths.append([last_week[h % SEASON] for h in range(horizon)])
        else:
            level = sum(y[:origin]) / origin
            paths.append([level] * horizon)
    return paths


def _open_mean(series: Series, origin: int, days: int) -> float:
    window = [series.values[t] for t in range(max(0, origin - days), origin) if not series.skip[t]]
    return sum(window) / len(window) if window else 0.0


def weekday_mean(series: Series, origins: Sequence[int], horizon: int, *, weeks: int = 4) -> list[list[float]]:
    """The mean of the last `weeks` open same weekdays (the overall recent mean where a weekday has none)."""
    y, skip = series.values, series.skip
    paths = []
    for origin in origins:
        by_position: list[float] = []
        fallback = _open_mean(series, origin, 28)
        for p in range(SEASON):
            seen: list[float] = []
            t = origin - SEASON + ((p - origin) % SEASON)
            while t >= 0 and len(seen) < weeks:
                if not skip[t]:
                    seen.append(y[t])
                t -= SEASON
            by_position.append(sum(seen) / len(seen) if seen else fallback)
        paths.append([by_position[(origin + h) % SEASON] for h in range(horizon)])
    return paths


def level_x_profile(series: Series, origins: Sequence[int], horizon: int) -> list[list[float]]:
    """The last 28 days' level (deseasonalised) times the weekday profile of the last 16 weeks."""
    y, skip = series.values, series.skip
    paths = []
    for origin in origins:
        sums = [0.0] * SEASON
        counts = [0] * SEASON
        for t in range(max(0, origin - 16 * SEASON), origin):
            if not skip[t]:
                sums[t % SEASON] += y[t]
                counts[t % SEASON] += 1
        overall = sum(sums) / max(1, sum(counts))
        ratio = [(sums[p] / counts[p]) / overall if counts[p] and overall > 0 else 1.0 for p in range(SEASON)]
        deseasonalised = [
            y[t] / ratio[t % SEASON]
            for t in range(max(0, origin - 28), origin)
            if not skip[t] and ratio[t % SEASON] > 0
        ]
        level = sum(deseasonalised) / len(deseasonalised) if deseasonalised else overall
        paths.append([level * ratio[(origin + h) % SEASON] for h in range(horizon)])
    return paths


@dataclass(frozen=True)
class _HoltWinters:
    alpha: float
    beta: float
    gamma: float
    phi: float


_ALPHAS = (0.05, 0.1, 0.2, 0.35, 0.5)
_BETAS = (0.0, 0.03, 0.1)
_GAMMAS = (0.05, 0.15, 0.3)
_PHI = 0.9


def _hw_init(y: Sequence[float], skip: Sequence[bool], begin: int) -> tuple[float, float, list[float]]:
    """Level, trend and season from the first two weeks at `begin` (open days only)."""
    weeks = []
    for w in range(2):
        days = [y[t] for t in range(begin + w * SEASON, begin + (w + 1) * SEASON) if t < len(y) and not skip[t]]
        weeks.append(sum(days) / len(days) if days else None)
    first = weeks[0] if weeks[0] is not None else (weeks[1] or 0.0)
    second = weeks[1] if weeks[1] is not None else first
    season = [0.0] * SEASON
    counts = [0] * SEASON
    for t in range(begin, min(len(y), begin + 2 * SEASON)):
        if not skip[t]:
            season[t % SEASON] += y[t] - (first if t < begin + SEASON else second)
            counts[t % SEASON] += 1
    season = [season[p] / counts[p] if counts[p] else 0.0 for p in range(SEASON)]
    return first, (second - first) / SEASON, season


def _hw_run(
    y: Sequence[float],
    skip: Sequence[bool],
    begin: int,
    end: int,
    params: _HoltWinters,
    origins: Sequence[int] = (),
    horizon: int = 0,
) -> tuple[float, dict[int, list[float]]]:
    """Filter y[begin:end]: the one-step squared error on open days, and the `horizon`-day path at each origin."""
    alpha, beta, gamma, phi = params.alpha, params.beta, params.gamma, params.phi
    level, trend, season = _hw_init(y, skip, begin)
    if beta == 0.0:
        trend = 0.0
    wanted = set(origins)
    paths: dict[int, list[float]] = {}
    sse = 0.0
    for t in range(begin, end):
        if t in wanted:
            paths[t] = _hw_path(level, trend, season, t, horizon, phi)
        position = t % SEASON
        expected = level + phi * trend + season[position]
        if skip[t]:
            level, trend = level + phi * trend, phi * trend
            continue
        value = y[t]
        if t >= begin + 2 * SEASON:
            sse += (value - expected) ** 2
        new_level = alpha * (value - season[position]) + (1 - alpha) * (level + phi * trend)
        trend = beta * (new_level - level) + (1 - beta) * phi * trend
        season[position] = gamma * (value - new_level) + (1 - gamma) * season[position]
        level = new_level
    if end in wanted:
        paths[end] = _hw_path(level, trend, season, end, horizon, phi)
    return sse, paths


def _hw_path(level: float, trend: float, season: list[float], origin: int, horizon: int, phi: float) -> list[float]:
    path = []
    damping = 0.0
    for h in range(1, horizon + 1):
        damping += phi**h
        path.append(level + damping * trend + season[(origin + h - 1) % SEASON])
    return path


def _hw_fit(y: Sequence[float], skip: Sequence[bool], begin: int, end: int) -> _HoltWinters:
    best: tuple[float, _HoltWinters] | None = None
    for alpha in _ALPHAS:
        for beta in _BETAS:
            for gamma in _GAMMAS:
                params = _HoltWinters(alpha, beta, gamma, _PHI if beta else 1.0)
                sse, _ = _hw_run(y, skip, begin, end, params)
                if best is None or sse < best[0]:
                    best = (sse, params)
    assert best is not None
    return best[1]


def _holt_winters(series: Series, origins: Sequence[int], horizon: int, *, log: bool) -> list[list[float]]:
    """Additive Holt-Winters (weekly season, damped trend), fitted on the data before the first origin."""
    y = [math.log1p(max(0.0, v)) for v in series.values] if log else series.values
    first = min(origins)
    begin = max(0, first - FIT_WINDOW)
    if first - begin < 3 * SEASON:
        return weekday_mean(series, origins, horizon)
    params = _hw_fit(y, series.skip, begin, first)
    _, paths = _hw_run(y, series.skip, begin, max(origins), params, origins, horizon)
    if log:
        return [[math.expm1(min(v, 700.0)) for v in paths[o]] for o in origins]
    return [paths[o] for o in origins]


def holt_winters(series: Series, origins: Sequence[int], horizon: int) -> list[list[float]]:
    return _holt_winters(series, origins, horizon, log=False)


def holt_winters_log(series: Series, origins: Sequence[int], horizon: int) -> list[list[float]]:
    return _holt_winters(series, origins, horizon, log=True)


CANDIDATES: dict[str, Paths] = {
    "seasonal-naive": seasonal_naive,
    "weekday-mean(4)": weekday_mean,
    "level-x-profile": level_x_profile,
    "holt-winters(damped)": holt_winters,
    "holt-winters(damped, log1p)": holt_winters_log,
}
BASELINE = "seasonal-naive"
ENSEMBLE_OF = ("weekday-mean(4)", "level-x-profile", "holt-winters(damped)", "holt-winters(damped, log1p)")


# -- zero days and holidays ------------------------------------------------------------------------------------------


def _series(history: Sequence[float], start: date | None) -> Series:
    y = [max(0.0, float(v)) for v in history]  # a day below zero (refunds over sales) sold nothing
    n = len(y)
    zero_position = [False] * SEASON
    closable = [False] * SEASON
    for p in range(SEASON):
        recent = [y[t] for t in range(n - 1, max(-1, n - 1 - RECENT_WEEKS * SEASON), -1) if t % SEASON == p]
        if recent and sum(1 for v in recent if v <= 0) / len(recent) >= ZERO_WEEKDAY_SHARE:
            zero_position[p] = True
        every = [y[t] for t in range(p, n, SEASON)]
        # Zeros are closures only where they are rare; on a weekday often at zero (a small shop's quiet days) they
        # are what the weekday sells, and leaving them out would lift its level.
        closable[p] = not every or sum(1 for v in every if v <= 0) / len(every) <= CLOSED_ZERO_SHARE
    holidays = _holiday_flags(n, start)
    skip = [zero_position[t % SEASON] or holidays[t] or (y[t] <= 0 and closable[t % SEASON]) for t in range(n)]
    return Series(y, skip, zero_position)


def _holiday_flags(n: int, start: date | None) -> list[bool]:
    if start is None:
        return [False] * n
    first = start - timedelta(days=n)
    return [is_bank_holiday(first + timedelta(days=t)) for t in range(n)]


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=day.weekday())


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays (the regular ones, with weekend substitutes; one-off days are not known)."""
    easter = _easter(year)
    days = {
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    new_year = date(year, 1, 1)
    days.add(new_year if new_year.weekday() < 5 else new_year + timedelta(days=7 - new_year.weekday()))
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday
        days |= {date(year, 12, 27), date(year, 12, 28)}
    elif christmas.weekday() == 6:  # Sunday: Boxing Day Monday, substitute Tuesday
        days |= {boxing, date(year, 12, 27)}
    elif christmas.weekday() == 4:  # Friday: Boxing Day's substitute is Monday
        days |= {christmas, date(year, 12, 28)}
    else:
        days |= {christmas, boxing}
    return frozenset(days)


def is_bank_holiday(day: date) -> bool:
    return day in bank_holidays(day.year)


def _holiday_ratio(series: Series, start: date | None) -> float:
    """What past bank holidays sold against the mean of their four previous open same weekdays (1 if none seen)."""
    if start is None:
        return 1.0
    y = series.values
    first = start - timedelta(days=len(y))
    sold = expected = 0.0
    seen = 0
    for t in range(len(y)):
        if series.zero_position[t % SEASON] or not is_bank_holiday(first + timedelta(days=t)):
            continue
        before = [y[s] for s in range(t - SEASON, -1, -SEASON) if not series.skip[s]][:4]
        if before:
            sold += y[t]
            expected += sum(before) / len(before)
            seen += 1
    if seen < 2 or expected <= 0:
        return 1.0
    return min(1.5, sold / expected)


# -- the backtest and the forecast -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Backtest:
    origins: list[int]
    paths: dict[str, list[list[float]]]


def _backtest(series: Series, names: Sequence[str], horizon: int) -> _Backtest | None:
    n = len(series.values)
    first = max(SEASON + 1, n - BACKTEST_ORIGINS)
    origins = list(range(first, n))
    if not origins:
        return None
    paths = {name: _zeroed(series, origins, CANDIDATES[name](series, origins, horizon)) for name in names}
    return _Backtest(origins, paths)


def _zeroed(series: Series, origins: Sequence[int], paths: list[list[float]]) -> list[list[float]]:
    """Zero weekdays forecast zero, and nothing forecasts below zero."""
    return [
        [0.0 if series.zero_position[(origin + h) % SEASON] else max(0.0, v) for h, v in enumerate(path)]
        for origin, path in zip(origins, paths, strict=True)
    ]


def _mean_paths(paths: Sequence[list[list[float]]]) -> list[list[float]]:
    return [[sum(values) / len(values) for values in zip(*rows, strict=True)] for rows in zip(*paths, strict=True)]


def _backtest_mae(series: Series, backtest: _Backtest, paths: list[list[float]], horizon: int) -> float:
    y = series.values
    errors = [
        abs(y[origin + h] - path[h])
        for origin, path in zip(backtest.origins, paths, strict=True)
        for h in range(horizon)
        if origin + h < len(y)
    ]
    return sum(errors) / len(errors) if errors else math.inf


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _backtest_errors(
    series: Series, backtest: _Backtest | None, paths: list[list[float]] | None
) -> tuple[list[list[float]], list[float]]:
    """The backtest's actual / forecast ratios by horizon, and what days forecast at zero actually sold."""
    y = series.values
    ratios: list[list[float]] = [[] for _ in range(BACKTEST_HORIZON)]
    zero_day_sales: list[float] = []
    if backtest is None or paths is None:
        return ratios, zero_day_sales
    for o, path in zip(backtest.origins, paths, strict=True):
        for h, predicted in enumerate(path[: len(y) - o]):
            if predicted > 0:
                ratios[h].append(y[o + h] / predicted)
            else:
                zero_day_sales.append(y[o + h])
    return ratios, zero_day_sales


def _intervals(
    series: Series, backtest: _Backtest | None, paths: list[list[float]] | None, mean: list[float], level: float
) -> tuple[list[float], list[float]]:
    """Empirical quantiles of the backtest's relative errors (actual / forecast) at each horizon, +-1 day pooled.
    With nothing to measure (a history too short for any comparison) the interval is [0, 2 x mean]."""
    q_low, q_high = (1 - level) / 2, 1 - (1 - level) / 2
    ratios, zero_day_sales = _backtest_errors(series, backtest, paths)
    every = [r for by_h in ratios for r in by_h]
    if len(every) < 10:
        every = _naive_ratios(series)
    lower, upper = [], []
    for h, value in enumerate(mean):
        if value <= 0:
            lower.append(0.0)
            upper.append(_quantile(zero_day_sales, q_high) if zero_day_sales else 0.0)
            continue
        k = min(h, BACKTEST_HORIZON - 1)
        pooled = [r for j in range(max(0, k - 1), min(BACKTEST_HORIZON, k + 2)) for r in ratios[j]]
        if len(pooled) < 20:
            pooled = every
        if not pooled:
            lower.append(0.0)
            upper.append(value * 2)
            continue
        low, high = _quantile(pooled, q_low), _quantile(pooled, q_high)
        widen = math.sqrt((h + 1) / BACKTEST_HORIZON) if h >= BACKTEST_HORIZON else 1.0
        # A model that was always too low (or high) in its backtest still shows its mean inside the interval.
        lower.append(max(0.0, value * (1 - max(0.0, 1 - low) * widen)))
        upper.append(value * (1 + max(0.0, high - 1) * widen))
    return lower, upper


def _naive_ratios(series: Series) -> list[float]:
    """For a history too short to backtest: how each open day compared with the same weekday a week before."""
    y = series.values
    return [y[t] / y[t - SEASON] for t in range(SEASON, len(y)) if y[t - SEASON] > 0 and not series.skip[t]]


def forecast(history: Sequence[float], horizon: int, *, level: float = 0.9, start: date | None = None) -> Forecast:
    """The next `horizon` days after `history` (consecutive daily values, oldest first, ending the day before
    `start`; a negative day counts as zero), with a prediction interval at `level`: the candidate that did best in a
    backtest on the history. A ValueError for an empty or non-finite history, `horizon` < 1, `level` outside (0, 1)."""
    return forecast_with(tuple(CANDIDATES), history, horizon, level=level, start=start, ensemble=True)


def forecast_with(
    names: Sequence[str],
    history: Sequence[float],
    horizon: int,
    *,
    level: float = 0.9,
    start: date | None = None,
    ensemble: bool = False,
) -> Forecast:
    """:func:`forecast` choosing among the named candidates only (one name: that model, with its own intervals)."""
    _check(history, horizon, level, names)
    series = _series(history, start)
    n = len(series.values)
    backtest = _backtest(series, names, min(max(horizon, SELECTION_HORIZON), BACKTEST_HORIZON))
    choices: dict[str, list[list[float]] | None] = {name: None for name in names}
    if backtest is not None:
        choices = dict(backtest.paths)
        if ensemble and all(name in backtest.paths for name in ENSEMBLE_OF):
            choices[_ensemble_name()] = _mean_paths([backtest.paths[name] for name in ENSEMBLE_OF])
    if backtest is not None and len(choices) > 1:
        selection = min(horizon, SELECTION_HORIZON)
        chosen = min(choices, key=lambda name: _backtest_mae(series, backtest, choices[name] or [], selection))
    else:
        chosen = next(iter(choices))
    if chosen == _ensemble_name():
        final = _mean_paths([CANDIDATES[name](series, [n], horizon) for name in ENSEMBLE_OF])[0]
    else:
        final = CANDIDATES[chosen](series, [n], horizon)[0]
    mean = _zeroed(series, [n], [final])[0]
    lower, upper = _intervals(series, backtest, choices.get(chosen), mean, level)
    ratio = _holiday_ratio(series, start)
    if start is not None and ratio != 1.0:
        for h in range(horizon):
            if is_bank_holiday(start + timedelta(days=h)):
                mean[h], lower[h], upper[h] = mean[h] * ratio, lower[h] * ratio, upper[h] * ratio
    return Forecast(model=chosen, mean=mean, lower=lower, upper=upper, level=level)


def _ensemble_name() -> str:
    return "ensemble(" + ", ".join(ENSEMBLE_OF) + ")"


def _check(history: Sequence[float], horizon: int, level: float, names: Sequence[str]) -> None:
    if len(history) < MIN_HISTORY:
        raise ValueError("history must hold at least one day")
    if not all(math.isfinite(v) for v in history):
        raise ValueError("history values must be finite numbers")
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    unknown = [name for name in names if name not in CANDIDATES]
    if unknown or not names:
        raise ValueError(f"unknown candidates: {unknown}")


__all__ = ["CANDIDATES", "Forecast", "bank_holidays", "forecast", "forecast_with", "is_bank_holiday"]
