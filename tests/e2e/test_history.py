"""Order history through the running shop: the demo history is there, an import counts each order once (the route and
`gears backfill` alike), history is never an order, and bad input is a clear 4xx with nothing imported."""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, TEMPLATE
from tests.support.shop import Shop

pytestmark = pytest.mark.usefixtures("shop")

ROUTE = "/admin/orders/history"


def history_order(order_id: str | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "orderId": order_id or f"OR-e2e-{uuid.uuid4().hex[:12]}",
        "customerId": "17850",
        "placedAt": "2011-06-01T10:00:00Z",
        "country": "GB",
        "kind": "order",
        "lines": [
            {
                "productId": str(uuid.uuid5(uuid.NAMESPACE_URL, "gears-e2e-history")),
                "sku": "E2E-HISTORY",
                "title": "History teapot",
                "quantity": 2,
                "unitPrice": {"amount": 1250, "currency": "GBP"},
            }
        ],
        **kw,
    }


def test_the_demo_history_was_imported_at_start(shop: Shop) -> None:
    admin = shop.admin()
    # The sample's first invoice: the demo loader imported it, so it is not imported again.
    r = shop.post(ROUTE, token=admin.token, json={"orders": [history_order("OR-536365")]})
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 1, "imported": 0, "alreadyImported": ["OR-536365"], "batchId": None}


def test_an_import_counts_each_order_once_and_is_never_an_order(shop: Shop) -> None:
    admin = shop.admin()
    orders = [history_order(), history_order(kind="return")]
    first = shop.post(ROUTE, token=admin.token, json={"orders": orders})
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 2
    assert first.json()["batchId"]
    again = shop.post(ROUTE, token=admin.token, json={"orders": orders})
    assert again.json() == {
        "received": 2,
        "imported": 0,
        "alreadyImported": [o["orderId"] for o in orders],
        "batchId": None,
    }
    assert shop.get(f"/orders/{orders[0]['orderId']}", token=admin.token).status_code == 404


def test_gears_backfill_run_twice_imports_nothing_the_second_time(shop: Shop, tmp_path: Path) -> None:
    number = str(uuid.uuid4().int)[:9]
    sample = tmp_path / "retail.csv"
    with open(sample, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
        )
        writer.writerow(
            [
                number,
                "85123A",
                "WHITE HANGING HEART T-LIGHT HOLDER",
                "6",
                "2011-06-01 10:00:00",
                "2.55",
                "17850",
                "United Kingdom",
            ]
        )
        writer.writerow([number, "POST", "POSTAGE", "1", "2011-06-01 10:00:00", "18", "17850", "United Kingdom"])
        writer.writerow(
            [
                f"C{number}",
                "85123A",
                "WHITE HANGING HEART T-LIGHT HOLDER",
                "-1",
                "2011-06-02 10:00:00",
                "2.55",
                "17850",
                "United Kingdom",
            ]
        )

    def backfill() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "gears.cli", "--template", str(TEMPLATE), "--state-dir", str(shop.state_dir),
             "backfill", "--csv", str(sample)],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        return done.stdout

    first = backfill()
    assert "history orders: 2 (1 returns" in first
    assert "lines: 1 not merchandise" in first
    assert "imported: 2; imported before: 0" in first
    assert "imported: 0; imported before: 2" in backfill()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"orders": []},
        {"orders": [history_order(placedAt="2999-01-01T00:00:00Z")]},
        {"orders": [history_order(orderId="not an id")]},
        {"orders": [history_order(total={"amount": 1, "currency": "GBP"})]},
        {"orders": [history_order() for _ in range(51)]},
    ],
)
def test_bad_input_is_a_400_problem_and_imports_nothing(shop: Shop, body: dict[str, Any]) -> None:
    admin = shop.admin()
    r = shop.post(ROUTE, token=admin.token, json=body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    for order in body.get("orders", [])[:1]:
        if isinstance(order.get("orderId"), str) and " " not in order["orderId"]:
            fine = history_order(order["orderId"])  # the same id, now valid: it was not imported before
            assert shop.post(ROUTE, token=admin.token, json={"orders": [fine]}).json()["imported"] == 1


def test_only_an_admin_imports(shop: Shop) -> None:
    customer = shop.new_customer()
    r = shop.post(ROUTE, token=customer.token, json={"orders": [history_order()]})
    assert r.status_code == 403
    assert shop.post(ROUTE, json={"orders": [history_order()]}).status_code == 401
