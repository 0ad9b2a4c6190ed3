"""``make bench``'s CRM and notification benchmarks (:mod:`gears.bench_campaign`) at a tiny size, so their code keeps
working as the services change: the RFM recompute scores every customer without a Scan, and a campaign reaches
every member exactly once (sent with consent, suppressed without), through the template's own functions on moto.
Counts only: nothing here is timed."""

from __future__ import annotations

from typing import Any

import pytest

from gears import bench, bench_campaign
from gears.bench_report import targets
from tests.conftest import TEMPLATE

MEMBERS = 60


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    # moto as the tests have it (the local cloud's patches are process-wide; the benchmark applies them itself).
    return {
        "members": MEMBERS,
        "segments": bench_campaign.segment_recompute(TEMPLATE, MEMBERS, runs=1, moto_patches=False),
        "fanout": bench_campaign.campaign_fanout(TEMPLATE, MEMBERS, moto_patches=False),
    }


def test_the_recompute_scores_every_customer_from_the_sharded_index(measured: dict[str, Any]) -> None:
    s = measured["segments"]
    assert s["customers"] == MEMBERS
    assert sum(s["segments"].values()) == MEMBERS
    assert len([n for n in s["segments"].values() if n]) > 3  # drawn from the sample's spread, not all alike
    first, steady = s["first"], s["steady"]
    # Each new score written, and the summary; the customers read by Query (one per shard), never a Scan.
    assert first["rescored"] == MEMBERS
    assert first["dynamodb_calls"]["PutItem"] == MEMBERS + 1
    assert set(first["dynamodb_calls"]) == {"Query", "PutItem"}
    assert steady["rescored"] == 0
    assert steady["dynamodb_calls"]["PutItem"] == 1
    assert not first["scan"]
    assert not steady["scan"]


def test_every_member_ends_in_exactly_one_outcome(measured: dict[str, Any]) -> None:
    f = measured["fanout"]
    launch, out = f["launch"], f["fanout"]
    assert f["checks"] == dict.fromkeys(f["checks"], True)
    assert f["ok"]
    assert launch["recipients"] == MEMBERS
    assert out["sent"] + out["suppressed"] + out["failed"] == out["messages"] == MEMBERS
    # Those who consented are sent to (but for the suppressed addresses); the others are suppressed, none failed.
    assert 0 < f["suppressed_addresses"] < f["consenting"] < MEMBERS
    assert out["sent"] == f["consenting"] - f["suppressed_addresses"]
    assert out["failed"] == 0
    assert out["reasons"] == {
        "sent: -": out["sent"],
        "suppressed: address-suppressed": f["suppressed_addresses"],
        "suppressed: no-consent": MEMBERS - f["consenting"],
    }
    # One SES call per email sent, nothing by SNS; a batch's recipients read in bulk, never one GetItem each.
    assert out["calls"]["sesv2"] == {"SendEmail": out["sent"]}
    assert out["calls"]["sns"] == {}
    assert "GetItem" not in out["calls"]["dynamodb"]
    assert out["calls"]["dynamodb"]["BatchGetItem"] <= 2 * out["invocations"] * out["batch_size"]
    assert not out["scan"]
    assert not launch["scan"]


def test_the_report_shows_both(measured: dict[str, Any]) -> None:
    results = {
        "when": "2026-01-01T00:00:00+00:00",
        "machine": {"python": "3.11", "cpus": 2, "platform": "test"},
        "startup_s": 5.0,
        "settle_s": 5.0,
        "bare_boto3_import_ms": 100.0,
        "cold_start": {},
        "warm_latency": {},
        "throughput_get_products": {"rps": 200.0, "clients": 4, "requests": 10, "seconds": 0.05, "errors": 0},
        "campaign": measured,
    }
    text = bench.markdown(results)
    assert "## CRM segments and campaign fan-out" in text
    assert f"### RFM recompute, {MEMBERS} customers" in text
    assert f"### A campaign to {MEMBERS} members" in text
    assert "messages/s" in text
    assert "SendEmail" in text
    rows = {measure: (target, met) for measure, target, _, met in targets(results)}
    assert rows[f"RFM recompute, {MEMBERS} customers (moto, in-process)"][0].startswith("no Scan")
    assert rows[f"campaign fan-out, {MEMBERS} members (moto, in-process)"][0].startswith("no Scan")
    assert bench.markdown({**results, "campaign": None}).count("campaign fan-out") == 0
