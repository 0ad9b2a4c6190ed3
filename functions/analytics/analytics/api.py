"""Analytics' HTTP function (``AnalyticsReportsFunction``, admin only): sales figures, top products, forecast.

Every query parameter is checked before anything is read: a bad one is a 400 problem naming it (dates that are not
``YYYY-MM-DD``, ``to`` before ``from``, ranges over 366 days by day or five years by week or month, unknown
granularities, limits out of range).
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from pydantic import Field

from analytics import bootstrap, service
from analytics.domain import GRANULARITIES, MAX_DAYS
from analytics.errors import InvalidParameter
from analytics.store import DynamoAnalytics
from gears_shared.answers import Answer, Money, Timestamp
from gears_shared.auth import ADMIN
from gears_shared.clock import utc_now
from gears_shared.http import create_resolver, documented, http_handler, json_response, query_param

ERRORS: dict[type[BaseException], int] = {}
DEFAULT_DAYS = 30
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
TOP_MAX_DAYS = 5 * 366

Store = Annotated[DynamoAnalytics, Depends(bootstrap.analytics_store)]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


# -- answers ------------------------------------------------------------------------------------------------------
class Figures(Answer):
    revenue: Money
    orders: int
    averageOrderValue: Money
    units: int
    refunds: Money
    refundCount: int


class Bucket(Figures):
    period: str = Field(description="2026-11-27, 2026-W48 (ISO week) or 2026-11")


class Totals(Figures):
    cartsStarted: int
    ordersPlaced: int
    conversionRate: float | None = Field(description="ordersPlaced / cartsStarted; null without carts")


class BreakdownRow(Answer):
    key: str = Field(description="A top-level category id (or `uncategorised`), or an ISO country code (`unknown`)")
    revenue: Money
    orders: int
    units: int
    refunds: Money


class SalesAnswer(Answer):
    from_: Day = Field(alias="from")
    to: Day
    granularity: Literal["day", "week", "month"]
    currency: Literal["GBP"]
    buckets: list[Bucket]
    totals: Totals
    breakdown: list[BreakdownRow] | None = Field(default=None, description="Only with `by`, by revenue")


class TopProduct(Answer):
    productId: str
    sku: str
    title: str
    units: int
    revenue: Money
    orders: int


class TopProductsAnswer(Answer):
    from_: Day = Field(alias="from")
    to: Day
    by: Literal["revenue", "units"]
    items: list[TopProduct]


class MoneyPoint(Answer):
    date: Day
    mean: Money
    lower: Money
    upper: Money


class CountPoint(Answer):
    date: Day
    mean: float
    lower: float
    upper: float


class RevenueForecast(Answer):
    model: str
    points: list[MoneyPoint]


class OrdersForecast(Answer):
    model: str
    points: list[CountPoint]


class ForecastAnswer(Answer):
    days: int
    level: float
    generatedAt: Timestamp
    historyDays: int
    revenue: RevenueForecast
    orders: OrdersForecast


# -- parameters ---------------------------------------------------------------------------------------------------
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"[0-9]{1,6}")
_NUMBER = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")


def _date(app: Any, name: str) -> date | None:
    raw = query_param(app, name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter(f"{name} is a date, YYYY-MM-DD.", parameter=name) from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidParameter(f"{name} is a date from {EARLIEST} to {LATEST}.", parameter=name)
    return day


def _range(app: Any, most_days: int) -> tuple[date, date]:
    first, last = _date(app, "from"), _date(app, "to")
    if last is None:
        last = max(first, utc_now().date()) if first else utc_now().date()
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise InvalidParameter("to is on or after from.", parameter="to")
    if (last - first).days + 1 > most_days:
        raise InvalidParameter(f"from..to spans at most {most_days} days here.", parameter="from")
    return first, last


def _choice(app: Any, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    raw = query_param(app, name)
    if raw is None:
        return default
    if raw not in choices:
        raise InvalidParameter(f"{name} is one of: {', '.join(choices)}.", parameter=name)
    return raw


def _int(app: Any, name: str, low: int, high: int, default: int) -> int:
    raw = query_param(app, name)
    if raw is None:
        return default
    if not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidParameter(f"{name} is a whole number from {low} to {high}.", parameter=name)
    return int(raw)


def _level(app: Any) -> float:
    raw = query_param(app, "level")
    if raw is None:
        return 0.9
    value = float(raw) if _NUMBER.fullmatch(raw) else math.nan
    if not 0.5 <= value <= 0.99:
        raise InvalidParameter("level is a number from 0.5 to 0.99.", parameter="level")
    return value


RANGE = {"from": "First day, YYYY-MM-DD (default: 29 days before `to`)", "to": "Last day, inclusive (default today)"}

# -- routes -------------------------------------------------------------------------------------------------------
reports_app = create_resolver(ERRORS, roles=(ADMIN,))


@reports_app.get(
    "/admin/analytics/sales",
    summary="Sales figures over a range",
    description="Revenue (order totals of paid orders and imported history), orders, average order value, units "
    "and refunds per day, ISO week or month for every period of `from`..`to` (zeros included), the totals with "
    "carts started, orders placed and the conversion rate, and with `by` a breakdown by top-level category or "
    "shipping country. At most 366 days by day, five years by week or month. Admin only.",
)
@documented(
    answers={200: SalesAnswer},
    query={**RANGE, "granularity": "day (default), week or month", "by": "category or country (optional)"},
)
def get_sales(store: Store) -> Response[Any]:
    app = reports_app
    granularity = _choice(app, "granularity", GRANULARITIES, "day") or "day"
    by = _choice(app, "by", ("category", "country"), None)
    first, last = _range(app, MAX_DAYS[granularity])
    return json_response(service.sales(service.SalesQuery(first, last, granularity, by), store))


@reports_app.get(
    "/admin/analytics/top-products",
    summary="Best-selling products over a range",
    description="The products with the most revenue (their lines' totals) or units from `from` to `to` "
    "(inclusive, default the last 30 days, at most five years), with the orders they were in. Admin only.",
)
@documented(
    answers={200: TopProductsAnswer},
    query={**RANGE, "by": "revenue (default) or units", "limit": "1..100, default 10"},
)
def get_top_products(store: Store) -> Response[Any]:
    app = reports_app
    by = _choice(app, "by", ("revenue", "units"), "revenue") or "revenue"
    limit = _int(app, "limit", 1, 100, 10)
    first, last = _range(app, TOP_MAX_DAYS)
    return json_response(service.top_products(service.TopProductsQuery(first, last, by, limit), store))


@reports_app.get(
    "/admin/analytics/forecast",
    summary="Forecast daily revenue and orders",
    description="The next `days` days (from today) of revenue and orders with prediction intervals at `level`, "
    "from the daily series (at most two years, ending yesterday). Fewer than 14 days of history is 422 "
    "`not-enough-history`. Admin only.",
)
@documented(
    answers={200: ForecastAnswer},
    query={"days": "1..90, default 14", "level": "0.5..0.99, default 0.9"},
)
def get_forecast(store: Store) -> Response[Any]:
    app = reports_app
    query = service.ForecastQuery(_int(app, "days", 1, 90, 14), _level(app))
    return json_response(service.forecast(query, store))


reports_handler = http_handler(reports_app)
