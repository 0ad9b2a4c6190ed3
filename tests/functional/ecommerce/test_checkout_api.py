"""Checkout in-process against moto: one transaction, idempotent by key, OrderPlaced.v1 from the stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from ecommerce import publisher
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.functional.ecommerce.conftest import ADMIN, Call, checkout_body
from tests.support.topics import drain, stream_batch, subscribe_queue

Products = Callable[..., list[dict[str, Any]]]


def key() -> str:
    return str(uuid.uuid4())


def item(table_name: str, pk: str, sk: str) -> dict[str, Any] | None:
    return boto3.client("dynamodb").get_item(TableName=table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def test_checkout_places_the_order_at_catalog_prices_and_empties_the_cart(
    shop_call: Call, products: Products, table_name: str
) -> None:
    [mug] = products(1, price={"amount": 1250, "currency": "GBP"})
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 2})
    answer = shop_call("POST", "/checkout", headers={"Idempotency-Key": key()}, body=checkout_body())
    assert answer.status == 202, answer
    receipt = answer.body
    assert receipt["status"] == "PENDING"
    assert (receipt["subtotal"]["amount"], receipt["shipping"]["amount"], receipt["total"]["amount"]) == (
        2500,
        499,
        2999,
    )
    assert receipt["lines"][0]["sku"] == mug["sku"]
    assert answer.headers["location"] == f"/checkout/{receipt['orderId']}"
    assert item(table_name, f"ORDER#{receipt['orderId']}", "ORDER") is not None
    assert shop_call("GET", "/cart").body["lines"] == []


def test_the_location_of_a_checkout_answers_at_once_and_to_its_customer_only(
    shop_call: Call, products: Products, table_name: str
) -> None:
    [mug] = products(1, price={"amount": 1250, "currency": "GBP"})
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 2})
    placed = shop_call("POST", "/checkout", headers={"Idempotency-Key": key()}, body=checkout_body())
    assert placed.status == 202, placed
    location, order_id = placed.headers["location"], placed.body["orderId"]

    shown = shop_call("GET", location)  # straight after the 202: nothing has consumed OrderPlaced yet
    assert shown.status == 200, shown
    assert shown.body == {**placed.body, "order": f"/orders/{order_id}"}
    assert (shown.body["status"], shown.body["total"]["amount"]) == ("PENDING", 2999)
    assert shown.headers["cache-control"] == "no-store"

    for other in (
        shop_call("GET", location, user="someone-else"),
        shop_call("GET", f"/checkout/{uuid.uuid4()}"),
        shop_call("GET", "/checkout/" + "x" * 300),
    ):
        assert (other.status, other.body["type"].rsplit("/", 1)[1]) == (404, "checkout-not-found"), other
    assert shop_call("GET", location, user=None).status == 401
    # the receipt is kept under the customer and the order id, written with the order
    assert item(table_name, f"RECEIPT#customer-1#{order_id}", "RECEIPT") is not None


def test_a_replayed_checkout_points_to_the_same_location(shop_call: Call, products: Products) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    k = key()
    first = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body())
    again = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body())
    assert again.headers["location"] == first.headers["location"] == f"/checkout/{first.body['orderId']}"
    assert shop_call("GET", again.headers["location"]).status == 200


def test_the_same_key_is_the_same_order_and_another_body_is_refused(shop_call: Call, products: Products) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    k = key()
    first = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body())
    again = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body())
    assert (again.status, again.body) == (202, first.body)
    assert again.headers["idempotent-replayed"] == "true"
    other = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body(paymentMethod="pm_x1"))
    assert (other.status, other.body["type"].rsplit("/", 1)[1]) == (422, "idempotency-key-reused")
    # another customer's identical key is another checkout (their own, empty cart)
    assert (
        shop_call("POST", "/checkout", user="other", headers={"Idempotency-Key": k}, body=checkout_body()).status == 422
    )


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, checkout_body(), 400, "idempotency-key-required"),
        ({"Idempotency-Key": "short"}, checkout_body(), 400, "idempotency-key-required"),
        ({"Idempotency-Key": "has spaces in it"}, checkout_body(), 400, "idempotency-key-required"),
        ({"Idempotency-Key": "k" * 129}, checkout_body(), 400, "idempotency-key-required"),
        ({"Idempotency-Key": "K-GOOD-0001"}, checkout_body(total={"amount": 1, "currency": "GBP"}), 400, "bad-request"),
        ({"Idempotency-Key": "K-GOOD-0002"}, checkout_body(status="PAID"), 400, "bad-request"),
        ({"Idempotency-Key": "K-GOOD-0003"}, checkout_body(lines=[{"unitPrice": 1}]), 400, "bad-request"),
        ({"Idempotency-Key": "K-GOOD-0004"}, checkout_body(paymentMethod="card_visa"), 400, "bad-request"),
        ({"Idempotency-Key": "K-GOOD-0005"}, {**checkout_body(), "shippingAddress": {"name": "A"}}, 400, "bad-request"),
        (
            {"Idempotency-Key": "K-GOOD-0006"},
            checkout_body(
                shippingAddress={"name": "A", "line1": "1", "city": "L", "postalCode": "X", "country": "GBR"}
            ),
            400,
            "bad-request",
        ),
        ({"Idempotency-Key": "K-GOOD-0007"}, "{not json", 400, "bad-request"),
    ],
)
def test_bad_checkouts_are_refused_and_change_nothing(
    shop_call: Call, products: Products, table_name: str, headers: dict, body: Any, status: int, code: str
) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    before = shop_call("GET", "/cart").body
    answer = shop_call("POST", "/checkout", headers=headers, body=body)
    assert (answer.status, answer.body["type"].rsplit("/", 1)[1]) == (status, code), answer
    assert shop_call("GET", "/cart").body == before


def test_an_empty_cart_and_an_archived_product_are_422(shop_call: Call, call: Call, products: Products) -> None:
    empty = shop_call("POST", "/checkout", headers={"Idempotency-Key": key()}, body=checkout_body())
    assert (empty.status, empty.body["type"].rsplit("/", 1)[1]) == (422, "empty-cart")
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    call("DELETE", f"/products/{mug['productId']}", admin=True, claims=ADMIN)
    refused = shop_call("POST", "/checkout", headers={"Idempotency-Key": key()}, body=checkout_body())
    assert (refused.status, refused.body["type"].rsplit("/", 1)[1]) == (422, "products-unavailable")
    assert refused.body["unavailable"][0]["sku"] == mug["sku"]
    assert mug["title"] in refused.body["detail"]
    assert len(shop_call("GET", "/cart").body["lines"]) == 1


def test_order_placed_reaches_the_topic_as_the_contract_says(
    shop_call: Call, products: Products, cloud: Stack, lambda_env: Any
) -> None:
    env = lambda_env("EcommercePublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    [mug] = products(1, price={"amount": 2000, "currency": "GBP"})
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 3})
    receipt = shop_call(
        "POST",
        "/checkout",
        headers={"Idempotency-Key": key(), "x-correlation-id": "corr-checkout"},
        body=checkout_body(),
    ).body

    result = publisher.handler(
        stream_batch(cloud, "EcommerceTable"), LambdaContext("EcommercePublisherFunction", timeout_s=30)
    )
    assert result == {"batchItemFailures": []}
    events = drain(queue)
    placed = [e for e in events if e.type == "OrderPlaced.v1"]
    assert len(placed) == 1
    event = placed[0]
    assert (event.subject, event.correlationid) == (receipt["orderId"], "corr-checkout")
    assert event.data["userId"] == "customer-1"
    assert event.data["lines"] == receipt["lines"]
    assert (event.data["subtotal"]["amount"], event.data["shipping"]["amount"], event.data["total"]["amount"]) == (
        6000,
        0,
        6000,
    )
    assert event.data["paymentMethod"] == "pm_card_visa"
    assert event.data["shippingAddress"]["country"] == "GB"
    # a cart publishes once, when it starts; its changes, checkout keys and the cart's deletion publish nothing
    assert [e.data["userId"] for e in events if e.type == "CartStarted.v1"] == ["customer-1"]
    assert {e.type for e in events} <= {"ProductCreated.v1", "CartStarted.v1", "OrderPlaced.v1"}


def test_a_paypal_checkout_answers_the_link_that_takes_its_buyer_to_paypal(
    shop_call: Call, products: Products, cloud: Stack, lambda_env: Any
) -> None:
    # The checkout function's own environment, as the template gives it: the link is under the API's address.
    public = lambda_env("CheckoutFunction")["PUBLIC_API_URL"]
    assert public.startswith(("http://", "https://")), public
    queue = subscribe_queue(lambda_env("EcommercePublisherFunction")["TOPIC_ARN"])
    [mug] = products(1, price={"amount": 1250, "currency": "GBP"})
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    k = key()
    placed = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body(paymentMethod="paypal"))
    assert placed.status == 202, placed
    order_id = placed.body["orderId"]
    assert placed.body["payment"] == {
        "method": "paypal",
        "approvalUrl": f"{public.rstrip('/')}/payments/paypal/approve?orderId={order_id}",
    }
    assert shop_call("GET", placed.headers["location"]).body["payment"] == placed.body["payment"]
    again = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body(paymentMethod="paypal"))
    assert (again.status, again.body) == (202, placed.body)

    publisher.handler(stream_batch(cloud, "EcommerceTable"), LambdaContext("EcommercePublisherFunction", timeout_s=30))
    [event] = [e for e in drain(queue) if e.type == "OrderPlaced.v1"]
    assert (event.subject, event.data["paymentMethod"]) == (order_id, "paypal")


def test_a_card_checkout_needs_no_link(shop_call: Call, products: Products) -> None:
    [mug] = products(1, price={"amount": 1250, "currency": "GBP"})
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    placed = shop_call("POST", "/checkout", headers={"Idempotency-Key": key()}, body=checkout_body())
    assert placed.body["payment"] == {"method": "card", "approvalUrl": None}
    assert shop_call("GET", placed.headers["location"]).body["payment"] == placed.body["payment"]


@pytest.mark.parametrize("method", ["PayPal", "paypal ", "paypal_wallet", "pm_", "stripe"])
def test_a_payment_method_that_is_neither_a_card_nor_paypal_is_400_naming_both(
    shop_call: Call, products: Products, method: str
) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    answer = shop_call(
        "POST", "/checkout", headers={"Idempotency-Key": key()}, body=checkout_body(paymentMethod=method)
    )
    assert (answer.status, answer.body["type"].rsplit("/", 1)[1]) == (400, "bad-request"), answer
    [error] = answer.body["errors"]
    assert error["field"] == "paymentMethod"
    assert '"pm_"' in error["message"]
    assert '"paypal"' in error["message"]
    assert len(shop_call("GET", "/cart").body["lines"]) == 1  # nothing placed


def test_a_checkout_stored_before_paypal_still_reads_and_replays_as_paid_by_card(
    shop_call: Call, products: Products, table_name: str
) -> None:
    [mug] = products(1)
    shop_call("PUT", f"/cart/items/{mug['productId']}", body={"quantity": 1})
    k = key()
    placed = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body())
    order_id = placed.body["orderId"]
    # Both copies of the receipt as the code before PayPal wrote them: no `payment`.
    client = boto3.client("dynamodb")
    for pk, sk in ((f"RECEIPT#customer-1#{order_id}", "RECEIPT"), (f"CHECKOUT#customer-1#{k}", "CHECKOUT")):
        stored = item(table_name, pk, sk)
        assert stored is not None
        old = {name: value for name, value in json.loads(stored["receipt"]["S"]).items() if name != "payment"}
        client.put_item(TableName=table_name, Item={**stored, "receipt": {"S": json.dumps(old)}})

    shown = shop_call("GET", placed.headers["location"])
    assert (shown.status, shown.body["payment"]) == (200, {"method": "card", "approvalUrl": None}), shown
    again = shop_call("POST", "/checkout", headers={"Idempotency-Key": k}, body=checkout_body())
    assert (again.status, again.body) == (202, placed.body)
