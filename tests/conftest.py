"""Test-wide settings: no test ever talks to a real AWS account."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# Fake credentials and a fixed region for every tier; a test that forgot to mock fails instead of reaching AWS.
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "GearsTest",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[key] = value
os.environ.pop("AWS_PROFILE", None)


SHOP_TIERS = ("tests/e2e/", "tests/security/")

# The running shop, registered here once: a session fixture imported by two directories' conftests is two fixtures,
# and the e2e and security tiers each started a shop of their own (81 s, and two shops alive side by side).
from tests.support.shop import moto_signing_key, shop  # noqa: E402

__all__ = ["moto_signing_key", "shop"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive the running shop are marked e2e. They share one shop per session, so `make test` runs
    them in a pytest of their own without xdist (whose loadgroup does not keep a group on one worker here)."""
    for item in items:
        if any(tier in str(item.fspath) for tier in SHOP_TIERS):
            item.add_marker(pytest.mark.e2e)
