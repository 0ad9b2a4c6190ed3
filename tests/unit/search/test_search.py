"""Searching, as a shopper sees it: relevance, typos, search-as-you-type, filters, sorts, facets and pages, over a
real tantivy index built by the writer and read from its snapshot."""

from __future__ import annotations

import pytest

from search.api import SearchAnswer
from tests.unit.search.conftest import SearchShop


def test_keywords_rank_title_matches_first_and_only_active_products_are_found(shop: SearchShop) -> None:
    shop.add("Enamel mug", description="Tin camping cup")
    shop.add("Garden kneeler", description="Kneel on it while you weed; fits by the mug rack")
    shop.add("Draft mug", status="draft")
    shop.add("Old mug", status="archived")
    answer = shop.search(q="mug")
    assert [i["title"] for i in answer["items"]] == ["Enamel mug", "Garden kneeler"]
    assert answer["total"] == 2
    assert answer["query"] == "mug"
    assert answer["items"][0]["score"] > answer["items"][1]["score"] > 0
    SearchAnswer.model_validate({**{k: v for k, v in answer.items() if k != "nextOffset"}, "nextCursor": None})


def test_plurals_one_typo_on_long_words_and_the_word_being_typed(shop: SearchShop) -> None:
    shop.add("Lavender candle")
    shop.add("Glass lantern")
    assert shop.titles(q="candles") == ["Lavender candle"]
    assert shop.titles(q="lavendr candel") == ["Lavender candle"]  # one edit each, words of 5+ letters
    assert shop.titles(q="lav") == ["Lavender candle"]  # the last word as typed so far
    assert shop.titles(q="lav ") == []  # a finished word is a word
    assert shop.titles(q="jug") == []  # three letters: no typo forgiven (the descriptions say "mug")


@pytest.mark.parametrize(
    "hostile",
    ["title:*", '"unbalanced', "AND OR NOT", "*", "(((", "\\", "a" * 200, "x:y^2~1 +- ||", "\u0000\ufffd"],
)
def test_query_syntax_is_searched_as_text_never_parsed(shop: SearchShop, hostile: str) -> None:
    shop.add("Title card")
    answer = shop.search(q=hostile)
    assert isinstance(answer["total"], int)


def test_category_matches_its_subcategories_and_facets_count_under_the_other_filters(shop: SearchShop) -> None:
    shop.add("Red mug", category="mugs-cups", path=("home-kitchen", "mugs-cups"), amount=400, level="in_stock")
    shop.add("Blue mug", category="mugs-cups", path=("home-kitchen", "mugs-cups"), amount=1200, level="out")
    shop.add("Mug tree", category="storage", path=("home-kitchen", "storage"), amount=2600, level="low")
    shop.add("Mug cosy", category="knitting", path=("crafts", "knitting"), amount=300, level=None)

    assert sorted(shop.titles(q="mug", category="home-kitchen")) == ["Blue mug", "Mug tree", "Red mug"]
    assert shop.titles(q="mug", category="storage") == ["Mug tree"]

    answer = shop.search(q="mug", category="mugs-cups", in_stock="true")
    assert [i["title"] for i in answer["items"]] == ["Red mug"]
    facets = answer["facets"]
    # categories: counted in stock, in any category (the category filter is the facet's own)
    assert facets["categories"] == [
        {"id": "home-kitchen", "count": 2},
        {"id": "mugs-cups", "count": 1},
        {"id": "storage", "count": 1},
    ]
    # availability: counted in mugs-cups at any level (its own filter left out)
    assert facets["availability"] == [{"level": "in_stock", "count": 1}, {"level": "out", "count": 1}]
    bands = {(b["min"], b["max"]): b["count"] for b in facets["priceBands"]}
    assert bands[(0, 500)] == 1
    assert sum(bands.values()) == 1
    assert [i["availability"] for i in shop.search(q="cosy")["items"]] == ["unknown"]


def test_price_range_and_stock_filters(shop: SearchShop) -> None:
    shop.add("Cheap tray", amount=499)
    shop.add("Dear tray", amount=5000, level="out")
    assert shop.titles(q="tray", min_price="499", max_price="499") == ["Cheap tray"]
    assert shop.titles(q="tray", min_price="500") == ["Dear tray"]
    assert shop.titles(q="tray", in_stock="true") == ["Cheap tray"]
    assert shop.titles(q="tray", in_stock="false") == ["Dear tray"]


def test_sorts_and_browse_without_keywords_is_newest_first(shop: SearchShop) -> None:
    shop.add("Bowl one", amount=300, created_at="2026-01-01T00:00:00Z")
    shop.add("Bowl two", amount=100, created_at="2026-03-01T00:00:00Z")
    shop.add("Bowl three", amount=200, created_at="2026-02-01T00:00:00Z")
    assert shop.titles() == ["Bowl two", "Bowl three", "Bowl one"]
    assert shop.titles(q="bowl", sort="price-asc") == ["Bowl two", "Bowl three", "Bowl one"]
    assert shop.titles(q="bowl", sort="price-desc") == ["Bowl one", "Bowl three", "Bowl two"]
    assert shop.titles(q="bowl", sort="newest") == ["Bowl two", "Bowl three", "Bowl one"]
    assert all(i["score"] is None for i in shop.search(q="bowl", sort="newest")["items"])


def test_pages_follow_each_other_without_overlap(shop: SearchShop) -> None:
    for n in range(5):
        shop.add(f"Plate {n}", created_at=f"2026-01-0{n + 1}T00:00:00Z")
    first = shop.search(q="plate", limit=2)
    assert first["total"] == 5
    assert first["nextOffset"] == 2
    second = shop.search(q="plate", limit=2, offset=2)
    last = shop.search(q="plate", limit=2, offset=4)
    seen = [i["productId"] for page in (first, second, last) for i in page["items"]]
    assert len(set(seen)) == 5
    assert last["nextOffset"] is None


def test_no_snapshot_yet_is_an_empty_shop(shop: SearchShop) -> None:
    answer = shop.search(q="anything")
    assert answer["total"] == 0
    assert answer["items"] == []
    assert answer["nextOffset"] is None
    assert all(b["count"] == 0 for b in answer["facets"]["priceBands"])
