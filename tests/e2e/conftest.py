"""End-to-end tier: HTTP flows through the running local shop (the ``shop`` fixture: tests/conftest.py).

The tier shares one shop. Tests marked ``shop_wide`` change it for everyone (the chaos run fills and drains
stock; contract fuzzing as an admin archives and edits products): they run after every other test of the tier.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shop_wide: changes the shared shop for everyone; runs last in its tier")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("shop_wide") is not None)  # stable: the rest keep order
