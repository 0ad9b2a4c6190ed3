"""`gears chaos`, short: real orders replayed while DynamoDB throttles and fails, SQS duplicates and delays, workers
die mid-batch and Stripe errs and hangs; afterwards every invariant of `gears check` holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from gears.chaos import Plan, event_driven_functions, run_chaos
from gears.local.template import Template
from tests.support.shop import Shop


@pytest.mark.shop_wide
def test_the_shop_converges_under_chaos(shop: Shop) -> None:
    plan = Plan(invoices=25, workers=4, crashes=1, stripe_every_s=8.0)
    outcome = run_chaos(shop.state, plan, shop.state_dir)

    assert outcome.ok, outcome.text()
    # The faults did fire: a run without them would prove nothing.
    assert outcome.fired.get("dynamodb.throttle", 0) > 0, outcome.text()
    assert outcome.fired.get("sqs.duplicate", 0) > 0, outcome.text()
    assert sum(outcome.crashes.values()) >= 3, outcome.text()
    assert outcome.stripe_bursts >= 1, outcome.text()
    # Charged, then dead before recording it (Stripe's webhooks held meanwhile): the charge's own idempotency is what
    # the retry meets. Without the payment service's idempotency key this run ends with two charges for an order.
    assert any("after a provider call" in name for name in outcome.crashes), outcome.text()
    # Every function an event source drives was armed: the list comes from the template, not from this test.
    armed = {name for name in outcome.crashes if "(" not in name}
    assert armed == set(event_driven_functions(Template(Path(shop.state["template"]))))
    assert all(c["checked"] for c in outcome.check.checks), outcome.text()
