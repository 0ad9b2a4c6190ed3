"""Inventory's demo data loader (``InventoryDemoDataFunction``) on the table built from template.yaml: every demo
SKU stocked once, explained by the ledger, never overwriting what is there."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from gears.local.lambda_context import LambdaContext
from inventory.demo import MIN_ON_HAND, THRESHOLD, handler, load_opening_stock, read_demo_stock
from tests.conftest import ROOT


def test_every_demo_sku_is_stocked_once_and_explained_by_the_ledger(table_name: str) -> None:
    from ecommerce.catalog.domain import product_id_for_sku
    from inventory.store import DynamoStockRepository

    first = load_opening_stock(table_name)
    assert (first.skus_written, first.skus_present) == (3_131, 0)
    assert first.units_written >= 3_131 * MIN_ON_HAND
    again = load_opening_stock(table_name)
    assert (again.skus_written, again.skus_present, again.units_written) == (0, 3_131, 0)

    repo = DynamoStockRepository(table_name)
    heart = repo.get("85123A")
    assert heart is not None
    opening = {line.sku: line.on_hand for line in read_demo_stock()}
    assert (heart.on_hand, heart.reserved, heart.threshold) == (opening["85123A"], 0, THRESHOLD)
    assert heart.product_id == product_id_for_sku("85123A")
    ledger, _ = repo.movements("85123A", 10, None)
    assert [(m.kind.value, m.on_hand_delta, m.reason) for m in ledger] == [("restock", heart.on_hand, "opening stock")]
    assert repo.low_stock(0, 100, None)[0] == []  # nothing starts low


def test_it_never_overwrites_stock_that_changed(table_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from inventory import service
    from inventory.store import DynamoStockRepository

    repo = DynamoStockRepository(table_name)
    assert load_opening_stock(table_name, ["85123a", "22423"]).skus_written == 2
    service.update_stock(service.UpdateStock("85123A", delta=-15, reason="sold at the market"), repo)
    changed = repo.get("85123A")
    report = load_opening_stock(table_name, ["85123A", "22423", "21166"])
    assert (report.skus_written, report.skus_present) == (1, 2)
    assert repo.get("85123A") == changed
    monkeypatch.delenv("TABLE_NAME", raising=False)  # other tests' wiring must not stand in for a table name
    with pytest.raises(ValueError, match="table name"):
        load_opening_stock("", [])


def test_a_plain_invocation_loads_and_answers_the_summary(
    table_name: str, lambda_env: Callable[[str], dict[str, str]]
) -> None:
    lambda_env("InventoryDemoDataFunction")
    context = LambdaContext("InventoryDemoDataFunction", timeout_s=300)
    sample = json.loads(
        (ROOT / "events" / "InventoryDemoDataFunction" / "load.json").read_text()
    )  # a plain invocation: no ResponseURL
    first = handler(sample, context)
    units = sum(line.on_hand for line in read_demo_stock())
    assert (first["skusWritten"], first["skusPresent"], first["unitsWritten"]) == (3_131, 0, units)
    assert first["summary"] == f"3131 SKUs ({units} units) written, 0 there"
    assert handler({}, context)["skusPresent"] == 3_131
