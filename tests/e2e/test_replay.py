"""`gears replay` against the running shop: real customers of the Online Retail sample sign up, place their
invoices as orders through checkout and the saga, and their returns come back as refunds on those orders."""

from __future__ import annotations

from pathlib import Path

from gears.replay import Shop as ReplayShop
from gears.replay import customers_with_returns, read_invoices, replay
from tests.support.saga import wait_until
from tests.support.shop import Shop


def test_a_real_customers_orders_and_returns_replay_into_orders_and_refunds(shop: Shop) -> None:
    invoices = customers_with_returns(read_invoices(), 1)
    admin = shop.state["admin"]
    target = ReplayShop(shop.api, Path(shop.state["mailbox"]), (admin["email"], admin["password"]))
    report = replay(target, invoices, workers=1)

    assert not report.errors, report.text()
    placed = [i for i in invoices if not i.cancellation]
    # Every invoice is an order, unless checkout said before paying that none of it was left (no order then).
    assert report.orders_placed + report.refused_out_of_stock == len(placed), report.text()
    assert sum(report.outcomes.values()) == report.orders_placed  # every order settled, none stuck
    assert not [o for o in report.outcomes if o.startswith("STUCK")], report.text()
    assert report.refunds >= 1, report.text()

    token = target.customer_token(invoices[0].customer)
    for order_id, pence in report.refunded.items():
        wait_until(
            lambda o=order_id, p=pence: (
                target.call("GET", f"/orders/{o}", token).json()["payment"]["refunded"]["amount"] == p
            ),
            f"the returns refunded on order {order_id}",
        )
