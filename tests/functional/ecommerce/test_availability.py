"""Availability from inventory's StockLevelChanged.v1 through the consumer function, shown on the product reads,
publishing no product event; and the sample events of the cart, checkout and consumer functions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from ecommerce import publisher
from ecommerce.catalog.demo import CATEGORIES, demo_catalog, load_catalog
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.conftest import ROOT
from tests.functional.ecommerce.conftest import ADMIN, Call, checkout_body
from tests.support.topics import drain, stream_batch, subscribe_queue


def sqs_event(*bodies: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": json.dumps(body), "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def stock_changed(product: dict[str, Any], level: str, available: int, time: str, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "gears.inventory",
        "type": "StockLevelChanged.v1",
        "time": time,
        "correlationid": "corr-stock",
        "data": {
            "sku": product["sku"],
            "productId": product["productId"],
            "onHand": available + 2,
            "reserved": 2,
            "available": available,
            "threshold": 5,
            "level": level,
            **extra,
        },
    }


def consumer(lambda_env: Any) -> Any:
    from ecommerce.cart import consumers

    lambda_env("EcommerceInventoryConsumerFunction")
    return consumers


def test_products_show_availability_from_stock_events(call: Call, products: Any, lambda_env: Any) -> None:
    [mug] = products(1)
    assert mug["availability"] == {"level": "unknown", "available": None, "asOf": None}
    module = consumer(lambda_env)
    context = LambdaContext("EcommerceInventoryConsumerFunction", timeout_s=30)
    result = module.inventory_handler(sqs_event(stock_changed(mug, "low", 3, "2024-05-01T12:00:00Z")), context)
    assert result == {"batchItemFailures": []}
    shown = call("GET", f"/products/{mug['productId']}").body["availability"]
    assert shown == {"level": "low", "available": 3, "asOf": "2024-05-01T12:00:00.000Z"}
    listed = {p["productId"]: p for p in call("GET", "/products", query={"limit": "100"}).body["items"]}
    assert listed[mug["productId"]]["availability"]["level"] == "low"

    # a later event wins; an older one that arrives late changes nothing; a redelivery is applied once
    later = stock_changed(mug, "out", 0, "2024-05-01T12:05:00Z")
    older = stock_changed(mug, "in_stock", 40, "2024-05-01T11:00:00Z")
    assert module.inventory_handler(sqs_event(later, older, later), context) == {"batchItemFailures": []}
    assert call("GET", f"/products/{mug['productId']}").body["availability"]["level"] == "out"


def test_an_event_for_an_unknown_product_is_dropped_and_a_malformed_one_fails(lambda_env: Any, call: Call) -> None:
    module = consumer(lambda_env)
    ghost = {"sku": "GHOST-1", "productId": str(uuid.uuid4())}
    bad = stock_changed(ghost, "plenty", 1, "2024-05-01T12:00:00Z")
    result = module.inventory_handler(
        sqs_event(stock_changed(ghost, "in_stock", 5, "2024-05-01T12:00:00Z"), bad), LambdaContext("C", timeout_s=30)
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert call("GET", f"/products/{ghost['productId']}").status == 404  # no ghost product was made


def test_availability_publishes_no_product_event_and_survives_an_admin_edit(
    call: Call, products: Any, lambda_env: Any, cloud: Stack
) -> None:
    env = lambda_env("EcommercePublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    [mug] = products(1)
    module = consumer(lambda_env)
    module.inventory_handler(sqs_event(stock_changed(mug, "low", 2, "2024-05-01T12:00:00Z")), LambdaContext("C"))
    current = call("GET", f"/products/{mug['productId']}").body
    assert current["version"] == mug["version"]  # availability is not a revision of the product
    edited = call("PUT", f"/products/{mug['productId']}", admin=True, claims=ADMIN, body={**current, "title": "New"})
    assert edited.status == 200, edited
    assert edited.body["availability"]["level"] == "low"

    assert publisher.handler(stream_batch(cloud, "EcommerceTable"), LambdaContext("P", timeout_s=30)) == {
        "batchItemFailures": []
    }
    types = [e.type for e in drain(queue) if e.subject == mug["productId"]]
    assert types == ["ProductCreated.v1", "ProductUpdated.v1"]  # the stock change in between published nothing


def test_the_cart_and_checkout_say_only_3_left_from_the_stock_events(
    shop_call: Call, products: Any, lambda_env: Any
) -> None:
    mug, plate = products(2)
    assert shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 5}).status == 200
    assert shop_call("PUT", f"/cart/items/{plate['productId']}", body={"quantity": 1}).status == 200
    before = shop_call("GET", "/cart").body  # inventory has said nothing yet: as before, every line is available
    assert [li["available"] for li in before["lines"]] == [True, True]
    assert before["checkoutReady"] is True

    module = consumer(lambda_env)
    stock = stock_changed(mug, "low", 3, "2024-05-01T12:00:00Z")
    assert module.inventory_handler(sqs_event(stock), LambdaContext("C", timeout_s=30)) == {"batchItemFailures": []}

    cart = shop_call("GET", "/cart").body
    line = {li["productId"]: li for li in cart["lines"]}[mug["productId"]]
    assert (line["available"], line["availableQuantity"], line["reason"]) == (False, 3, "insufficient-stock")
    assert line["message"] == "only 3 left"
    assert cart["checkoutReady"] is False

    refused = shop_call("POST", "/checkout", headers={"Idempotency-Key": str(uuid.uuid4())}, body=checkout_body())
    assert (refused.status, refused.body["type"].rsplit("/", 1)[1]) == (422, "products-unavailable"), refused
    assert [(u["productId"], u["quantity"], u["availableQuantity"]) for u in refused.body["unavailable"]] == [
        (mug["productId"], 5, 3)
    ]
    assert "only 3 left" in refused.body["detail"]
    assert len(shop_call("GET", "/cart").body["lines"]) == 2  # no order was placed: the cart is as it was

    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 3})
    assert shop_call("GET", "/cart").body["checkoutReady"] is True
    placed = shop_call("POST", "/checkout", headers={"Idempotency-Key": str(uuid.uuid4())}, body=checkout_body())
    assert placed.status == 202, placed


# -- sample events ---------------------------------------------------------------------------------------------------
def load(path: str) -> dict[str, Any]:
    return json.loads(Path(ROOT / "events" / path).read_text())


def test_the_cart_checkout_and_consumer_samples(cart_api: Any, table_name: str, lambda_env: Any, call: Call) -> None:
    load_catalog(table_name, [p for p in demo_catalog() if p.sku == "85123A"], CATEGORIES)
    context = LambdaContext("CartFunction")
    put = cart_api.cart_handler(load("CartFunction/put-item.json"), context)
    assert put["statusCode"] == 200, put["body"]
    got = cart_api.cart_handler(load("CartFunction/get-cart.json"), context)
    assert json.loads(got["body"])["lines"][0]["quantity"] == 2
    placed = cart_api.checkout_handler(load("CheckoutFunction/checkout.json"), context)
    assert placed["statusCode"] == 202, placed["body"]
    shown = cart_api.checkout_handler(load("CheckoutFunction/get-checkout.json"), context)
    assert (shown["statusCode"], json.loads(shown["body"])["orderId"]) == (200, json.loads(placed["body"])["orderId"])
    module = consumer(lambda_env)
    result = module.inventory_handler(load("EcommerceInventoryConsumerFunction/stock-level-changed.json"), context)
    assert result == {"batchItemFailures": []}
    sample = load("CartFunction/put-item.json")["pathParameters"]["productId"]
    assert call("GET", f"/products/{sample}").body["availability"]["level"] == "low"
