"""Driving the order saga through the running shop: products with stock, carts, checkouts, waiting for an order's
status, and events sent straight to a service's queue. Requests whose bodies the API contract leaves to each service
(cart, restock, refund, address) are built here, in one place. Waits poll with a deadline, never sleep blind."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3

from tests.support.shop import Customer, Shop

SAGA_DEADLINE_S = 180  # a settled shop takes seconds; this bounds a loaded CI machine, it is not a target
GBP = "GBP"


# -- bodies API.md leaves to each service  ------------------------------------------------------
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
}


def restock(shop: Shop, admin: Customer, sku: str, quantity: int, product_id: str | None = None) -> None:
    """Open the SKU's stock record (PUT creates it, naming its product) and receive ``quantity`` units."""
    opened = {"threshold": 1, **({"productId": product_id} if product_id else {})}
    r = shop.put(f"/inventory/{sku}", json=opened, token=admin.token)
    assert r.status_code in (200, 201), r.text
    body = {"quantity": quantity, "reference": f"e2e-{uuid.uuid4().hex[:12]}"}
    r = shop.post(f"/inventory/{sku}/restock", json=body, token=admin.token)
    assert r.status_code in (200, 201, 204), r.text


def stock(shop: Shop, admin: Customer, sku: str) -> dict[str, Any]:
    r = shop.get(f"/inventory/{sku}", token=admin.token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def add_to_cart(shop: Shop, customer: Customer, product_id: str, quantity: int) -> None:
    r = shop.put(f"/cart/items/{product_id}", json={"quantity": quantity}, token=customer.token)
    assert r.status_code in (200, 201, 204), r.text


def refund(shop: Shop, admin: Customer, order_id: str, amount: int | None = None) -> None:
    body = {} if amount is None else {"amount": amount}
    r = shop.post(f"/admin/orders/{order_id}/refund", json=body, token=admin.token)
    assert r.status_code in (200, 201, 202), r.text


# -- helpers -----------------------------------------------------------------------------------------------------
def new_product(shop: Shop, admin: Customer, *, on_hand: int, price: int = 1250) -> dict[str, Any]:
    categories = shop.get("/categories").json()["categories"]
    product = {
        "sku": f"SAGA-{uuid.uuid4().hex[:8].upper()}",
        "title": "Saga teapot",
        "price": {"amount": price, "currency": GBP},
        "category": categories[0]["id"],
        "status": "active",
    }
    r = shop.post("/products", json=product, token=admin.token)
    assert r.status_code == 201, r.text
    created = dict(r.json())
    if on_hand:
        restock(shop, admin, product["sku"], on_hand, product_id=created["productId"])

        # The catalog learns the stock from inventory's events: a checkout before that finds the product unavailable.
        def in_stock() -> bool:
            seen = shop.get(f"/products/{created['productId']}")
            return seen.status_code == 200 and (seen.json().get("availability") or {}).get("level") in (
                "in_stock",
                "low",
            )

        wait_until(in_stock, f"the catalog to show {product['sku']} in stock")
    return created


def checkout(shop: Shop, customer: Customer, payment_method: str = "pm_card_visa", key: str | None = None) -> str:
    r = shop.post(
        "/checkout",
        json={"shippingAddress": ADDRESS, "paymentMethod": payment_method},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
        token=customer.token,
    )
    assert r.status_code == 202, r.text
    return str(r.json()["orderId"])


def buy(
    shop: Shop, product: dict[str, Any], quantity: int = 1, payment_method: str = "pm_card_visa"
) -> tuple[Customer, str]:
    customer = shop.new_customer()
    add_to_cart(shop, customer, product["productId"], quantity)
    return customer, checkout(shop, customer, payment_method)


def wait_for(
    shop: Shop, token: str, order_id: str, *statuses: str, deadline_s: float = SAGA_DEADLINE_S
) -> dict[str, Any]:
    """Poll the order until it is in one of ``statuses``; fail with its last state (and history) otherwise."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        r = shop.get(f"/orders/{order_id}", token=token)
        if r.status_code == 200:
            last = r.json()
            if last["status"] in statuses:
                return dict(last)
        else:
            last = (r.status_code, r.text[:300])
        time.sleep(0.25)
    raise AssertionError(f"order {order_id} never reached {statuses}; last seen: {json.dumps(last)[:2000]}")


def wait_until(check: Any, what: str, deadline_s: float = SAGA_DEADLINE_S) -> Any:
    end = time.monotonic() + deadline_s
    value = None
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen; last: {value!r}")


def path_of(order: dict[str, Any]) -> list[str]:
    return [t["to"] for t in order["history"]]


def sqs_client(shop: Shop) -> Any:
    return aws_client(shop, "sqs")


def aws_client(shop: Shop, service: str) -> Any:
    """A client of the shop's local cloud (to reach a queue or look at a table, as an operator would)."""
    return boto3.client(
        service,
        endpoint_url=shop.endpoint,
        region_name=shop.state.get("region", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="local",
    )


def send_event(shop: Shop, type_: str, data: dict[str, Any], event_id: str | None = None) -> str:
    from gears_shared.events import new_event

    event = new_event(type_, "gears.e2e", data, subject=data["orderId"], event_id=event_id or str(uuid.uuid4()))
    sqs_client(shop).send_message(
        QueueUrl=shop.state["resources"]["OrdersEventsQueue"]["QueueUrl"],
        MessageBody=event.to_json(),
        MessageAttributes={"type": {"DataType": "String", "StringValue": type_}},
    )
    return event.id


def placed_data(order_id: str, user_id: str) -> dict[str, Any]:
    line = {
        "productId": "p-e2e",
        "sku": "E2E-SKU",
        "title": "Teapot",
        "quantity": 1,
        "unitPrice": {"amount": 1000, "currency": GBP},
        "lineTotal": {"amount": 1000, "currency": GBP},
    }
    return {
        "orderId": order_id,
        "userId": user_id,
        "lines": [line],
        "subtotal": {"amount": 1000, "currency": GBP},
        "shipping": {"amount": 0, "currency": GBP},
        "total": {"amount": 1000, "currency": GBP},
        "shippingAddress": ADDRESS,
        "paymentMethod": "pm_card_visa",
        "placedAt": "2026-03-01T10:00:00Z",
    }
