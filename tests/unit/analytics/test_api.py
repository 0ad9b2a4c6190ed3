"""The report routes over the in-memory store (``dependency_overrides``): admin only, every bad parameter a 400
problem naming it, nothing read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from analytics import api, bootstrap
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from tests.unit.analytics.fakes import InMemoryAnalytics

ADMIN = {"sub": "admin-1", "cognito:groups": ["admin", "customer"], "token_use": "access"}
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
ANN = {"sub": "user-ann", "cognito:groups": ["customer"], "token_use": "access"}


@pytest.fixture
def store() -> Iterator[InMemoryAnalytics]:
    fake = InMemoryAnalytics()
    api.reports_app.dependency_overrides[bootstrap.analytics_store] = lambda: fake
    yield fake
    api.reports_app.dependency_overrides.clear()


def get(path: str, query: dict[str, str] | None = None, claims: dict[str, Any] = ADMIN) -> tuple[int, Any]:
    event = http_api_event("GET", path, route_key=f"GET {path}", query=query or {}, claims=claims)
    handler: Handler = api.reports_handler
    raw = handler(event, LambdaContext("Analytics", timeout_s=30))
    return raw["statusCode"], json.loads(raw["body"])


def test_a_customer_is_refused(store: InMemoryAnalytics) -> None:
    for path in ("/admin/analytics/sales", "/admin/analytics/top-products", "/admin/analytics/forecast"):
        assert get(path, {"from": "nonsense"}, claims=ANN)[0] == 403


def test_the_default_sales_range_is_the_last_30_days_with_a_zero_bucket_each(store: InMemoryAnalytics) -> None:
    status, body = get("/admin/analytics/sales")
    assert status == 200
    assert len(body["buckets"]) == 30
    assert body["buckets"][-1]["period"] == body["to"]
    assert body["totals"]["revenue"] == {"amount": 0, "currency": "GBP"}
    assert "breakdown" not in body


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/admin/analytics/sales", {"from": "2026-13-01"}, "from"),
        ("/admin/analytics/sales", {"from": "26-11-01"}, "from"),
        ("/admin/analytics/sales", {"to": "tomorrow"}, "to"),
        ("/admin/analytics/sales", {"from": "2026-11-10", "to": "2026-11-01"}, "to"),
        ("/admin/analytics/sales", {"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ("/admin/analytics/sales", {"from": "2020-01-01", "to": "2026-01-01", "granularity": "month"}, "from"),
        ("/admin/analytics/sales", {"from": "1066-10-14", "to": "1066-10-15"}, "from"),
        ("/admin/analytics/sales", {"granularity": "hour"}, "granularity"),
        ("/admin/analytics/sales", {"by": "colour"}, "by"),
        ("/admin/analytics/top-products", {"by": "orders"}, "by"),
        ("/admin/analytics/top-products", {"limit": "101"}, "limit"),
        ("/admin/analytics/top-products", {"limit": "-1"}, "limit"),
        ("/admin/analytics/top-products", {"limit": "\u00b2"}, "limit"),
        ("/admin/analytics/forecast", {"days": "\u0663"}, "days"),
        ("/admin/analytics/sales", {"from": "2026-11-01\n"}, "from"),
        ("/admin/analytics/sales", {"from": "\u0662\u0660\u0662\u0666-11-01"}, "from"),
        ("/admin/analytics/forecast", {"days": "0"}, "days"),
        ("/admin/analytics/forecast", {"days": "91"}, "days"),
        ("/admin/analytics/forecast", {"days": "1e3"}, "days"),
        ("/admin/analytics/forecast", {"level": "0.999"}, "level"),
        ("/admin/analytics/forecast", {"level": "nan"}, "level"),
        ("/admin/analytics/forecast", {"level": "0.4"}, "level"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    store: InMemoryAnalytics, path: str, query: dict[str, str], parameter: str | None
) -> None:
    status, body = get(path, query)
    assert status == 400, body
    assert body["status"] == 400
    name = parameter or "limit"
    assert name in body["detail"]


def test_a_week_range_may_span_five_years(store: InMemoryAnalytics) -> None:
    status, body = get("/admin/analytics/sales", {"from": "2022-01-03", "to": "2026-11-27", "granularity": "week"})
    assert status == 200
    assert body["buckets"][0]["period"] == "2022-W01"


def test_a_forecast_without_history_is_422(store: InMemoryAnalytics) -> None:
    status, body = get("/admin/analytics/forecast")
    assert status == 422
    assert body["type"].endswith("not-enough-history")
    assert body["historyDays"] == 0
