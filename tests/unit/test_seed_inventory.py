"""Demo stock for the demo catalog: deterministic, explained by the ledger, never overwriting what is there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from gears.local.provision import provision
from gears.local.template import Template
from gears.seed import DEFAULT_CSV
from gears.seed_inventory import MIN_ON_HAND, THRESHOLD, opening_quantity, seed_inventory, sold_quantities
from tests.conftest import TEMPLATE

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_CSV).exists(), reason=f"the Online Retail sample is not at {DEFAULT_CSV}"
)


@pytest.fixture
def table() -> Iterator[str]:
    with mock_aws():
        stack = provision(Template(TEMPLATE), boto3.Session(region_name="us-east-1"))
        yield stack.ref("InventoryTable")


def test_opening_quantities_come_from_what_sold() -> None:
    sold = sold_quantities()
    assert sold["85123A"] > 1000  # the sample's best seller
    assert opening_quantity(sold["85123A"]) == min(500, sold["85123A"] // 10)
    assert opening_quantity(0) == MIN_ON_HAND
    assert sold == sold_quantities()


def test_every_demo_sku_is_stocked_once_and_explained_by_the_ledger(table: str) -> None:
    from ecommerce.catalog.domain import product_id_for_sku
    from inventory.store import DynamoStockRepository

    first = seed_inventory(table)
    assert (first.skus_written, first.skus_present) == (3_131, 0)
    assert first.units_written >= 3_131 * MIN_ON_HAND
    again = seed_inventory(table)
    assert (again.skus_written, again.skus_present, again.units_written) == (0, 3_131, 0)

    repo = DynamoStockRepository(table)
    heart = repo.get("85123A")
    assert heart is not None
    assert (heart.on_hand, heart.reserved, heart.threshold) == (
        opening_quantity(sold_quantities()["85123A"]),
        0,
        THRESHOLD,
    )
    assert heart.product_id == product_id_for_sku("85123A")
    ledger, _ = repo.movements("85123A", 10, None)
    assert [(m.kind.value, m.on_hand_delta, m.reason) for m in ledger] == [("restock", heart.on_hand, "opening stock")]
    assert repo.low_stock(0, 100, None)[0] == []  # nothing starts low


def test_it_never_overwrites_stock_that_changed(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from inventory import service
    from inventory.store import DynamoStockRepository

    repo = DynamoStockRepository(table)
    assert seed_inventory(table, ["85123a", "22423"]).skus_written == 2
    service.update_stock(service.UpdateStock("85123A", delta=-15, reason="sold at the market"), repo)
    changed = repo.get("85123A")
    report = seed_inventory(table, ["85123A", "22423", "21166"])
    assert (report.skus_written, report.skus_present) == (1, 2)
    assert repo.get("85123A") == changed
    monkeypatch.delenv("TABLE_NAME", raising=False)  # other tests' wiring must not stand in for a table name
    monkeypatch.delenv("INVENTORY_TABLE_NAME", raising=False)
    with pytest.raises(ValueError, match="table name"):
        seed_inventory("", [])
