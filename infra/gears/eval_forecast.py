"""The sales forecast's evaluation on the Online Retail sample: ``python -m gears.eval_forecast``.

Two daily series, as the analytics service sees them after ``gears backfill``: **revenue**, the gross pence of the
day's orders (merchandise lines only, as the backfill brings them: no zero prices, no postage or fees; returns are
refunds in the service, not negative revenue, so cancellations are left out here) and **orders**, the day's invoices
with at least one such line. Every calendar day from the first to the last is in the series (zeros included: the
shop sells nothing on Saturdays and was closed over Christmas and on bank holidays).

Rolling origins over the last eight weeks: every day whose next 7 days lie in the last 56 days of the data is an
origin (50 of them); each forecasts those 7 days from the days before it only (the model is chosen and its interval
measured inside that training window). For each model: **MAE** over all 350 forecast days; **MASE**, each origin's
MAE divided by the training window's in-sample seasonal-naive MAE (m = 7), averaged over origins; **coverage**, the
share of actual days inside the 90% interval (and the interval's mean width). Models: ``forecast()`` (the service's),
seasonal-naive (same weekday last week) and Holt-Winters (additive, weekly, damped trend) alone, each with intervals
from its own backtest. Also: how long one ``forecast()`` takes on two years of daily data.

Writes ``bench/results/forecast.md``. Deterministic: the same CSV gives the same figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "functions" / "analytics", ROOT / "functions" / "ecommerce", ROOT / "shared"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

from analytics.forecast import Forecast, forecast, forecast_with  # noqa: E402
from gears.dataset import DEFAULT_CSV, Invoice, read_invoices  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "forecast.md"
TEST_DAYS = 56
HORIZON = 7
LEVEL = 0.9
SEASON = 7


@dataclass(frozen=True)
class Daily:
    first: date
    revenue: list[float]  # pence
    orders: list[float]


def daily_series(invoices: Sequence[Invoice]) -> Daily:
    """Gross merchandise revenue (pence) and orders per calendar day, zeros included."""
    from ecommerce.catalog.demo import NOT_MERCHANDISE

    revenue: Counter[date] = Counter()
    orders: Counter[date] = Counter()
    for invoice in invoices:
        if invoice.cancellation:
            continue
        pence = sum(
            line.quantity * line.unit_pence
            for line in invoice.lines
            if line.unit_pence > 0 and line.quantity > 0 and line.sku not in NOT_MERCHANDISE
        )
        if pence <= 0:
            continue
        day = invoice.when.date()
        revenue[day] += pence
        orders[day] += 1
    first, last = min(revenue), max(revenue)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return Daily(first, [float(revenue[d]) for d in days], [float(orders[d]) for d in days])


@dataclass
class Score:
    errors: list[float]
    scaled: list[float]  # per origin: MAE / in-sample seasonal-naive MAE
    inside: int = 0
    widths: float = 0.0
    chosen: Counter[str] | None = None
    by_horizon: list[list[float]] = field(default_factory=lambda: [[] for _ in range(HORIZON)])

    @property
    def mae(self) -> float:
        return sum(self.errors) / len(self.errors)

    @property
    def mase(self) -> float:
        return sum(self.scaled) / len(self.scaled)

    @property
    def coverage(self) -> float:
        return self.inside / len(self.errors)

    @property
    def width(self) -> float:
        return self.widths / len(self.errors)


def naive_scale(history: Sequence[float]) -> float:
    """The in-sample MAE of the seasonal-naive forecast (m = 7) over the training window."""
    diffs = [abs(history[t] - history[t - SEASON]) for t in range(SEASON, len(history))]
    return sum(diffs) / len(diffs)


Model = Callable[[Sequence[float], int, date], Forecast]

MODELS: dict[str, Model] = {
    "forecast() (chosen per origin)": lambda h, n, start: forecast(h, n, level=LEVEL, start=start),
    "seasonal-naive": lambda h, n, start: forecast_with(["seasonal-naive"], h, n, level=LEVEL, start=start),
    "holt-winters(damped)": lambda h, n, start: forecast_with(["holt-winters(damped)"], h, n, level=LEVEL, start=start),
}


def evaluate(values: Sequence[float], first: date, models: dict[str, Model]) -> dict[str, Score]:
    n = len(values)
    origins = range(n - TEST_DAYS, n - HORIZON + 1)
    scores = {name: Score([], [], chosen=Counter()) for name in models}
    for origin in origins:
        history = values[:origin]
        scale = naive_scale(history)
        start = first + timedelta(days=origin)
        for name, model in models.items():
            result = model(history, HORIZON, start)
            score = scores[name]
            errors = []
            for h in range(HORIZON):
                actual = values[origin + h]
                errors.append(abs(actual - result.mean[h]))
                score.by_horizon[h].append(errors[-1])
                score.inside += result.lower[h] <= actual <= result.upper[h]
                score.widths += result.upper[h] - result.lower[h]
            score.errors.extend(errors)
            score.scaled.append(sum(errors) / len(errors) / scale)
            assert score.chosen is not None
            score.chosen[result.model] += 1
    return scores


def fit_time(values: Sequence[float], first: date) -> tuple[int, float]:
    """Seconds one forecast() call takes (14 days ahead, best of 3) on two years of daily data (the series repeated
    whole weeks back to 728 days)."""
    history = list(values)
    while len(history) < 728:
        history = list(values[: 7 * (len(values) // 7)]) + history
    history = history[-728:]
    start = first + timedelta(days=len(values))
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        forecast(history, 14, level=LEVEL, start=start)
        best = min(best, time.perf_counter() - began)
    return len(history), best


def report(daily: Daily, csv: Path, results: dict[str, dict[str, Score]], timing: tuple[int, float]) -> str:
    n = len(daily.revenue)
    test_first = daily.first + timedelta(days=n - TEST_DAYS)
    last = daily.first + timedelta(days=n - 1)
    lines = [
        "# Forecast evaluation (Online Retail sample)",
        "",
        f"`python -m gears.eval_forecast` on `{_shown(csv)}`: daily series {daily.first}..{last} ({n} days).",
        f"Rolling origins: every day whose next {HORIZON} days lie in the last {TEST_DAYS} days ({test_first}..{last}),"
        f" {TEST_DAYS - HORIZON + 1} origins, each forecasting {HORIZON} days from the days before it only.",
        "Revenue is gross (orders' merchandise lines; cancellations are refunds, left out); orders are invoices.",
        f"MASE: each origin's MAE over its training window's in-sample seasonal-naive MAE (m=7), averaged; coverage of"
        f" the {LEVEL:.0%} interval over all {HORIZON * (TEST_DAYS - HORIZON + 1)} forecast days.",
        "",
    ]
    for series, scores in results.items():
        unit = "pence" if series == "revenue" else "orders"
        baseline = scores["seasonal-naive"].mae
        lines += [
            f"## {series}",
            "",
            f"| model | MAE ({unit}) | MAE vs seasonal-naive | MASE | {LEVEL:.0%} interval coverage | mean width |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, score in scores.items():
            lines.append(
                f"| {name} | {score.mae:,.1f} | {score.mae / baseline - 1:+.1%} | {score.mase:.3f} |"
                f" {score.coverage:.1%} | {score.width:,.1f} |"
            )
        chosen = scores["forecast() (chosen per origin)"].chosen or Counter()
        lines += [
            "",
            "Chosen by forecast()'s own backtest: " + ", ".join(f"{k} x{v}" for k, v in chosen.most_common()),
            "",
            f"MAE ({unit}) by days ahead:",
            "",
            "| model | " + " | ".join(f"h={h + 1}" for h in range(HORIZON)) + " |",
            "|---|" + "---:|" * HORIZON,
        ]
        for name, score in scores.items():
            cells = " | ".join(f"{sum(e) / len(e):,.1f}" for e in score.by_horizon)
            lines.append(f"| {name} | {cells} |")
        lines.append("")
    lines += [f"One `forecast()` call on {timing[0]} days of history, 14 days ahead: {timing[1] * 1000:.0f} ms.", ""]
    return "\n".join(lines)


def _shown(csv: Path) -> str:
    try:
        return str(csv.resolve().relative_to(ROOT))
    except ValueError:
        return str(csv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gears.eval_forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="the Online Retail CSV (default: the sample)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the Markdown results go")
    args = parser.parse_args(argv)
    daily = daily_series(read_invoices(args.csv))
    results = {
        "revenue": evaluate(daily.revenue, daily.first, MODELS),
        "orders": evaluate(daily.orders, daily.first, MODELS),
    }
    text = report(daily, args.csv, results, fit_time(daily.revenue, daily.first))
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
