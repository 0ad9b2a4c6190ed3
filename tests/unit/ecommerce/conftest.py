"""The publisher reads the category tree for product events' ``categoryPath``: here, an in-memory one."""

from __future__ import annotations

import pytest

from ecommerce import bootstrap
from ecommerce.catalog.domain import Category
from ecommerce.catalog.service import CategoryCatalog
from tests.unit.ecommerce.fakes import InMemoryCategories

TREE = [Category("home", "Home"), Category("mugs", "Mugs", "home"), Category("plates", "Plates", "home")]


@pytest.fixture(autouse=True)
def category_tree(monkeypatch: pytest.MonkeyPatch) -> CategoryCatalog:
    catalog = CategoryCatalog(InMemoryCategories(TREE))
    monkeypatch.setattr(bootstrap, "category_catalog", lambda: catalog)
    return catalog
