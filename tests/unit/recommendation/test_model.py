"""The collaborative filtering model: similarity normalised for popularity, scoring, popular and trending."""

from __future__ import annotations

from datetime import date

from recommendation import model
from recommendation.model import Basket, Purchases


def units(*groups: tuple[int, tuple[str, ...]]) -> list[list[str]]:
    return [list(items) for count, items in groups for _ in range(count)]


def test_an_item_everyone_buys_is_not_everyones_nearest_neighbour() -> None:
    bought = units(
        (10, ("mug", "coaster", "bag")),  # mug and coaster together, and the bag everyone buys
        (2, ("mug", "bag")),
        (88, ("bag",)),
    )
    lists = model.related(bought)
    assert [item for item, _ in lists["mug"]][:2] == ["coaster", "bag"]
    assert lists["mug"][0][1] > lists["mug"][1][1] > 0


def test_a_pair_bought_together_once_counts_less_than_one_bought_together_often() -> None:
    lists = model.related(units((1, ("a", "b")), (6, ("a", "c")), (1, ("c",))))
    assert [item for item, _ in lists["a"]] == ["c", "b"]


def test_recommendations_sum_the_related_lists_and_leave_out_what_was_bought() -> None:
    lists = {"a": [("x", 0.5), ("y", 0.4)], "b": [("y", 0.3), ("a", 0.9), ("z", 0.1)]}
    ranked = model.recommend({"a": 1.0, "b": 1.0}, lists, limit=3, exclude={"z"}, fill=["p", "x", "q"])
    assert ranked == [("y", 0.7), ("x", 0.5), ("p", 0.0)]


def test_a_basket_is_folded_once_and_the_purchases_survive_a_snapshot() -> None:
    purchases = Purchases()
    basket = Basket("order:1", "user:u1", "2026-03-01", ("a", "b"))
    assert purchases.fold([basket, basket]) == {"a", "b"}
    assert purchases.fold([Basket("order:2", "user:u1", "2026-03-02", ("b", "c"))]) == {"b", "c"}
    again = Purchases.from_dict(purchases.to_dict())
    assert again.fold([basket]) == set()
    assert again.units == {"user:u1": {"a": "2026-03-01", "b": "2026-03-02", "c": "2026-03-02"}}
    assert again.days["2026-03-01"] == {"a": 1, "b": 1}


def test_an_order_without_a_customer_is_its_own_unit() -> None:
    purchases = Purchases()
    purchases.fold([Basket("history:9", "", "2026-03-01", ("a",)), Basket("history:10", "", "2026-03-01", ("b",))])
    assert sorted(purchases.units) == ["basket:history:10", "basket:history:9"]


def test_popular_counts_the_last_90_days_only() -> None:
    days = {"2026-03-01": {"old": 9}, "2026-05-01": {"a": 2, "b": 3}, "2026-05-30": {"a": 2}, "2026-05-31": {"c": 9}}
    assert model.popular(days, date(2026, 5, 31)) == [("a", 4.0), ("b", 3.0)]


def test_trending_is_the_last_week_against_the_four_before() -> None:
    days = {
        "2026-05-28": {"rising": 3, "steady": 1, "once": 1},
        "2026-05-10": {"steady": 4},
        "2026-05-12": {"falling": 9},
        "2026-05-29": {"falling": 2},
    }
    assert [item for item, _ in model.trending(days, date(2026, 6, 1))] == ["rising"]


def test_a_reseller_with_thousands_of_items_counts_its_latest_only() -> None:
    purchases = Purchases()
    purchases.fold(
        Basket(f"order:{n}", "customer:big", f"2026-{1 + n // 400:02d}-01", (f"item-{n}",)) for n in range(450)
    )
    [items] = purchases.unit_items()
    assert len(items) == model.MAX_UNIT_ITEMS
    assert "item-449" in items
    assert "item-0" not in items
