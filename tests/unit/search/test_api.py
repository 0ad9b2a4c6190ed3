"""``GET /search`` over the in-memory shop (its reader handed in with ``dependency_overrides``): the answer as the
contract says, cursors that page, and every bad parameter a 400 problem naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared.http import encode_cursor
from search import api, bootstrap
from search.api import SearchAnswer
from search.service import IndexReader
from search.snapshots import DirectorySnapshots, Pointer
from tests.unit.search.conftest import SearchShop


@pytest.fixture
def served(shop: SearchShop) -> Iterator[SearchShop]:
    shop.reader.check_every_s = 0
    api.app.dependency_overrides[bootstrap.index_reader] = lambda: shop.reader
    try:
        yield shop
    finally:
        api.app.dependency_overrides.clear()


def get(query: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    event = http_api_event("GET", "/search", route_key="GET /search", query=query)
    handler: Any = api.handler
    answer = handler(event, LambdaContext("SearchFunction"))
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    return answer["statusCode"], headers, json.loads(answer["body"])


def test_the_answer_and_its_pages(served: SearchShop) -> None:
    for n in range(3):
        served.add(f"Oven glove {n}", created_at=f"2026-01-0{n + 1}T00:00:00Z")
    status, _, first = get({"q": "glove", "limit": "2"})
    assert status == 200
    SearchAnswer.model_validate(first)
    assert first["total"] == 3
    assert len(first["items"]) == 2
    assert first["nextCursor"]
    _, _, second = get({"q": "glove", "limit": "2", "cursor": first["nextCursor"]})
    assert len(second["items"]) == 1
    assert second["nextCursor"] is None
    titles = {i["title"] for page in (first, second) for i in page["items"]}
    assert titles == {"Oven glove 0", "Oven glove 1", "Oven glove 2"}
    item = first["items"][0]
    assert item["price"] == {"amount": 850, "currency": "GBP"}
    assert item["categoryPath"] == ["home-kitchen", "mugs-cups"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"q": "x" * 10_240}, "q"),
        ({"minPrice": "-5"}, "minPrice"),
        ({"minPrice": "10", "maxPrice": "9"}, "minPrice"),
        ({"maxPrice": "lots"}, "maxPrice"),
        ({"inStock": "1"}, "inStock"),
        ({"sort": "cheapest"}, "sort"),
        ({"category": "a b"}, "category"),
        ({"cursor": encode_cursor({"offset": 1000}) or ""}, "cursor"),
    ],
)
def test_bad_parameters_are_400_problems_naming_them(served: SearchShop, query: dict[str, str], parameter: str) -> None:
    status, headers, body = get(query)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert body["parameter"] == parameter
    if parameter == "q":
        assert body["type"].endswith("/query-too-long")


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "51"},
        {"limit": "ten"},
        {"limit": "\u00b2"},
        {"cursor": "not-ours!"},
        {"cursor": encode_cursor({"offset": -1}) or ""},
    ],
)
def test_bad_limits_and_cursors_are_400(served: SearchShop, query: dict[str, str]) -> None:
    status, _, body = get(query)
    assert status == 400
    assert body["status"] == 400


class Unreachable(DirectorySnapshots):
    def pointer(self) -> Pointer | None:
        raise OSError("bucket unreachable")


def test_a_cold_start_that_cannot_read_the_bucket_is_a_502_problem(tmp_path: Path) -> None:
    reader = IndexReader(Unreachable(str(tmp_path)), str(tmp_path))
    api.app.dependency_overrides[bootstrap.index_reader] = lambda: reader
    try:
        status, headers, body = get({"q": "mug"})
    finally:
        api.app.dependency_overrides.clear()
    assert status == 502
    assert body["type"].endswith("/search-unavailable")
    assert headers["content-type"] == "application/problem+json"
