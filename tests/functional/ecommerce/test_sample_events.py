"""The sample events in events/ (for `sam local invoke -e`) work against the functions as they are."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from ecommerce import bootstrap, publisher
from ecommerce.catalog.demo import CATEGORIES, demo_catalog, load_catalog
from gears.local.lambda_context import LambdaContext
from tests.conftest import ROOT

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def test_the_http_samples(api: ModuleType, table_name: str) -> None:
    bootstrap.category_catalog().invalidate()
    load_catalog(table_name, [p for p in demo_catalog() if p.sku == "85123A"], CATEGORIES)
    context = LambdaContext("CatalogFunction")
    listed = api.catalog_read_handler(load("CatalogReadFunction/list-products.json"), context)
    assert listed["statusCode"] == 200
    assert [p["sku"] for p in json.loads(listed["body"])["items"]] == ["85123A"]
    got = api.catalog_read_handler(load("CatalogReadFunction/get-product.json"), context)
    assert got["statusCode"] == 200
    created = api.catalog_admin_handler(load("CatalogAdminFunction/create-product.json"), context)
    assert created["statusCode"] == 201, created["body"]


def test_the_stream_sample(lambda_env: Any) -> None:
    lambda_env("EcommercePublisherFunction")
    event = load("EcommercePublisherFunction/stream-insert.json")
    result = publisher.handler(event, LambdaContext("EcommercePublisherFunction"))
    assert result == {"batchItemFailures": []}


def test_the_discount_admin_samples(table_name: str, lambda_env: Any) -> None:
    from ecommerce.discounts import api as discount_api

    lambda_env("DiscountAdminFunction")
    context: Any = LambdaContext("DiscountAdminFunction")
    created = discount_api.discount_admin_handler(load("DiscountAdminFunction/create-discount.json"), context)
    assert created["statusCode"] == 201, created["body"]
    got = discount_api.discount_admin_handler(load("DiscountAdminFunction/get-discount.json"), context)
    assert (got["statusCode"], json.loads(got["body"])["usageLimit"]) == (200, 500)
    listed = discount_api.discount_admin_handler(load("DiscountAdminFunction/list-discounts.json"), context)
    assert [d["code"] for d in json.loads(listed["body"])["items"]] == ["SPRING10"]


def test_the_orders_consumer_sample(table_name: str, lambda_env: Any) -> None:
    from ecommerce.discounts import consumers

    lambda_env("EcommerceOrdersConsumerFunction")
    context: Any = LambdaContext("EcommerceOrdersConsumerFunction")
    result = consumers.orders_handler(load("EcommerceOrdersConsumerFunction/order-cancelled.json"), context)
    assert result == {"batchItemFailures": []}  # an order this table does not know: nothing to give back
