"""`gears load`, short: customers browse, buy and track while an admin restocks and ships; no request answers 5xx,
every read the spec offers a customer or the admin is exercised, and every invariant of `gears check` holds."""

from __future__ import annotations

import pytest

from gears.load import Plan, Spec, run_load, spec_path
from tests.support.shop import Shop


@pytest.mark.shop_wide
def test_the_shop_serves_customers_and_an_admin_under_load(shop: Shop) -> None:
    outcome = run_load(shop.state, Plan(customers=4, seconds=25.0))

    assert outcome.ok, outcome.text()
    assert sum(outcome.stats.orders[s] for s in ("PAID", "SHIPPED", "DELIVERED")) > 0, outcome.text()
    # What was read comes from the spec: a route a later service adds is read without editing the load test.
    spec = Spec.load(spec_path(shop.state))
    offered = {op.route for role in ("customer", "admin") for op in spec.reads(role)}
    assert offered <= outcome.stats.rows_by_route(), (offered - outcome.stats.rows_by_route(), outcome.text())
    assert not outcome.unread, outcome.text()
