"""The recommendation table's invariants (``gears check``) catch what they name."""

from __future__ import annotations

import json

from gears_shared.invariants import Shop
from recommendation.domain import shard_of
from recommendation.invariants import checks


def test_sound_items_pass_and_broken_ones_are_named() -> None:
    good_list = {
        "pk": "PRODUCT#p1",
        "sk": "RELATED",
        "entity": "Related",
        "items": json.dumps([["p2", 0.9], ["p3", 0.5]]),
    }
    good_basket = {
        "pk": f"BASKETS#{shard_of('order:o1')}",
        "sk": "2026-03-01#order:o1",
        "entity": "Basket",
        "basketId": "order:o1",
        "items": ["p1"],
    }
    lists, baskets = checks([good_list, good_basket], Shop())
    assert (lists.ok, lists.checked, baskets.ok, baskets.checked) == (True, 1, True, 1)

    itself = {**good_list, "items": json.dumps([["p1", 0.9]])}
    unsorted = {"pk": "LIST#popular", "sk": "LIST", "entity": "List", "items": json.dumps([["a", 1], ["b", 3]])}
    twice = {"pk": "LIST#trending", "sk": "LIST", "entity": "List", "items": json.dumps([["a", 3], ["a", 1]])}
    misplaced = {**good_basket, "pk": f"BASKETS#{(shard_of('order:o1') + 1) % 16}"}
    empty = {**good_basket, "items": []}
    lists, baskets = checks([itself, unsorted, twice, misplaced, empty], Shop())
    assert lists.problem_count == 3
    assert baskets.problem_count == 2
