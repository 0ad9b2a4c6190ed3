"""What a request may ask: every bad parameter is a clear error naming it, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from search.domain import SearchRuleError, raw_words, search_request, stem, words


def request(**params: Any) -> Any:
    args: dict[str, Any] = {
        "q": None,
        "category": None,
        "min_price": None,
        "max_price": None,
        "in_stock": None,
        "sort": None,
        "limit": 20,
        "offset": 0,
    }
    args.update(params)
    return search_request(**args)


@pytest.mark.parametrize(
    ("params", "parameter", "code"),
    [
        ({"q": "x" * 201}, "q", "query-too-long"),
        ({"q": "x" * 10_240}, "q", "query-too-long"),
        ({"category": "../etc"}, "category", "invalid-search"),
        ({"category": "a" * 101}, "category", "invalid-search"),
        ({"min_price": "-1"}, "minPrice", "invalid-search"),
        ({"min_price": "1.5"}, "minPrice", "invalid-search"),
        ({"max_price": "9" * 40}, "maxPrice", "invalid-search"),
        ({"max_price": "١٢"}, "maxPrice", "invalid-search"),  # digits, but not ASCII ones
        ({"min_price": "500", "max_price": "100"}, "minPrice", "invalid-search"),
        ({"in_stock": "yes"}, "inStock", "invalid-search"),
        ({"sort": "price"}, "sort", "invalid-search"),
        ({"offset": 1000}, "cursor", "invalid-search"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, Any], parameter: str, code: str) -> None:
    with pytest.raises(SearchRuleError) as caught:
        request(**params)
    assert caught.value.extra == {"parameter": parameter}
    assert caught.value.code == code


def test_a_good_request() -> None:
    r = request(q="Red Mugs  cos", category="home-kitchen", min_price="0", max_price="500", in_stock="true")
    assert r.terms == ("red", "mug", "cos")
    assert r.prefix == "cos"
    assert (r.min_price, r.max_price, r.in_stock, r.effective_sort) == (0, 500, True, "relevance")
    assert request().effective_sort == "newest"
    assert request(q="!!!").terms == ()
    assert request(offset=990, limit=50).limit == 10  # the last page stops at the thousandth result


def test_words_fold_case_accents_and_plurals() -> None:
    assert raw_words("Crème BRÛLÉE dish") == ["creme", "brulee", "dish"]
    assert words("Boxes, candies & mugs; glass") == ["box", "candy", "mug", "glass"]
    assert [stem(w) for w in ("bus", "this", "class", "dishes", "cups")] == ["bus", "this", "class", "dish", "cup"]
