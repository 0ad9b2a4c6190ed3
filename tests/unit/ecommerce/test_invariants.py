"""The e-commerce table's invariants over items as ``gears check`` hands them (plain values)."""

from __future__ import annotations

from typing import Any

from ecommerce.invariants import checks
from gears_shared.invariants import Shop


def code(name: str, shards: int, limit: int | None) -> dict[str, Any]:
    return {"entity": "Discount", "code": name, "shards": shards, "usageLimit": limit}


def shard(name: str, n: int, used: int, allowance: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {"entity": "DiscountUsage", "code": name, "shard": n, "used": used}
    if allowance is not None:
        item["allowance"] = allowance
    return item


def order(name: str, released: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"entity": "OrderPlaced", "discountCode": name}
    if released:
        item["discountReleasedAt"] = "2024-05-01T12:00:00.000Z"
    return item


def problems(items: list[dict[str, Any]]) -> list[list[str]]:
    return [c.problems for c in checks(items, Shop())]


def test_a_consistent_table_holds() -> None:
    items = [
        code("A5", 2, 5),
        shard("A5", 0, 2, 3),
        shard("A5", 1, 1, 2),
        code("ANY", 1, None),
        shard("ANY", 0, 7, None),
        order("A5"),
        order("A5"),
        order("A5", released=True),
        order("ANY"),
        {"entity": "Product"},
    ]
    assert problems(items) == [[], []]


def test_a_shard_over_its_allowance_a_missing_shard_and_an_order_without_its_use_are_reported() -> None:
    items = [
        code("A5", 3, 5),
        shard("A5", 0, 3, 2),
        shard("A5", 1, 0, 2),
        order("A5"),
        order("A5"),
        order("A5"),
        order("A5"),
    ]
    [shards, orders] = problems(items)
    assert any("shards [0, 1]" in p for p in shards)
    assert any("3 uses of an allowance of 2" in p for p in shards)
    assert any("add up to 4" in p for p in shards)
    assert orders == ["A5: 4 orders used it, its shards count 3"]
