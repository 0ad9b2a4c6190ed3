"""Query string parameters read inside a route: ``query_param`` and ``page_limit``, through a real resolver."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gears_shared.http import create_resolver, json_response, page_limit, query_param


def event(query: dict[str, str] | None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "GET /things",
        "rawPath": "/things",
        "rawQueryString": "",
        "headers": {},
        "queryStringParameters": query,
        "requestContext": {"http": {"method": "GET", "path": "/things"}, "requestId": "r-1", "stage": "$default"},
        "isBase64Encoded": False,
    }


app = create_resolver()


@app.get("/things")
def things() -> Any:
    return json_response({"q": query_param(app, "q"), "limit": page_limit(app, default=20, maximum=100)})


def call(query: dict[str, str] | None) -> tuple[int, dict[str, Any]]:
    answer = app.resolve(event(query), None)
    return answer["statusCode"], json.loads(answer["body"])


def test_absent_and_empty_parameters_are_none_and_the_limit_defaults() -> None:
    assert call(None) == (200, {"q": None, "limit": 20})
    assert call({"q": "", "limit": ""}) == (200, {"q": None, "limit": 20})
    assert call({"q": "teapot", "limit": "100"}) == (200, {"q": "teapot", "limit": 100})


@pytest.mark.parametrize("limit", ["0", "-1", "1.5", "ten", "101", "1e3", "²", "١٢", " 5", "5\n"])
def test_a_limit_that_is_not_a_whole_number_in_range_is_a_400_problem(limit: str) -> None:
    status, body = call({"limit": limit})
    assert status == 400
    assert body["detail"] == "limit is a whole number from 1 to 100."
