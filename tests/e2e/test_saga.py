"""The order saga end to end through the running shop: checkout → stock → payment → fulfilment, its failure
paths and their compensation, concurrency on the last units of a SKU, and at-least-once delivery with an event
that comes too early. Faults (crashes, Stripe failing) are in test_faults.py."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from gears.local.template import Template
from gears_shared.consumers import not_ready_span_s
from tests.conftest import TEMPLATE
from tests.support.saga import (
    ADDRESS,
    add_to_cart,
    buy,
    checkout,
    new_product,
    path_of,
    placed_data,
    refund,
    send_event,
    sqs_client,
    stock,
    wait_for,
    wait_until,
)
from tests.support.shop import Customer, Shop


def test_happy_path_to_delivered(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=5)
    customer, order_id = buy(shop, product, 2)
    order = wait_for(shop, customer.token, order_id, "PAID", "CANCELLED")
    assert order["status"] == "PAID", order
    assert order["payment"]["charged"]["amount"] == order["total"]["amount"]
    wait_until(lambda: stock(shop, admin, product["sku"]).get("onHand") == 3, "the reservation committed")

    ship = {"carrier": "royal_mail", "trackingNumber": "AB123456789GB"}
    assert shop.post(f"/admin/orders/{order_id}/ship", json=ship, token=admin.token).status_code == 200
    r = shop.post(f"/admin/orders/{order_id}/deliver", token=admin.token)
    assert r.status_code == 200, r.text
    order = wait_for(shop, customer.token, order_id, "DELIVERED")
    assert path_of(order) == ["PENDING", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED"]
    assert order["shipment"]["trackingNumber"] == "AB123456789GB"
    assert [t["cause"]["type"] for t in order["history"][:3]] == [
        "OrderPlaced.v1",
        "StockReserved.v1",
        "PaymentSucceeded.v1",
    ]
    listed = shop.get("/orders", token=customer.token).json()["items"]
    assert [o["orderId"] for o in listed] == [order_id]


def test_declined_card_cancels_and_releases_the_stock(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=3)
    customer, order_id = buy(shop, product, 2, "pm_card_chargeDeclined")
    order = wait_for(shop, customer.token, order_id, "CANCELLED", "PAID")
    assert order["status"] == "CANCELLED"
    assert order["cancelReason"] == "payment_failed"
    assert path_of(order) == ["PENDING", "CONFIRMED", "CANCELLED"]
    wait_until(
        lambda: (s := stock(shop, admin, product["sku"])).get("reserved") == 0 and s.get("available") == 3,
        "the reservation released",
    )


def test_out_of_stock_is_said_before_paying_and_checkout_places_nothing(shop: Shop) -> None:
    """The cart knows what inventory has (its stock events): 2 asked, 1 left is "only 1 left" before checkout,
    and checkout refuses it with nothing placed, charged or reserved."""
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=1)
    customer = shop.new_customer()
    add_to_cart(shop, customer, product["productId"], 2)
    cart = wait_until(
        lambda: (c := shop.get("/cart", token=customer.token).json())["lines"][0].get("availableQuantity") == 1 and c,
        "the cart knows 1 is left",
    )
    line = cart["lines"][0]
    assert line["available"] is False
    assert "only 1 left" in line["message"]
    assert cart["checkoutReady"] is False
    refused = shop.post(
        "/checkout",
        json={"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        token=customer.token,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/products-unavailable")
    assert [u["availableQuantity"] for u in refused.json()["unavailable"]] == [1]
    assert shop.get("/orders", token=customer.token).json()["items"] == []
    assert stock(shop, admin, product["sku"])["available"] == 1


def test_cancel_after_payment_refunds_and_restocks(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=4)
    customer, order_id = buy(shop, product, 1)
    wait_for(shop, customer.token, order_id, "PAID")
    r = shop.post(f"/orders/{order_id}/cancel", token=customer.token)
    assert r.status_code == 200, r.text
    order = wait_for(shop, customer.token, order_id, "REFUNDED")
    assert path_of(order)[-2:] == ["CANCELLED", "REFUNDED"]
    assert order["payment"]["refunded"]["amount"] == order["total"]["amount"]
    wait_until(lambda: stock(shop, admin, product["sku"]).get("available") == 4, "the unit restocked")


def test_partial_refund_is_recorded_without_closing_the_order(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=2, price=2000)
    customer, order_id = buy(shop, product, 1)
    wait_for(shop, customer.token, order_id, "PAID")
    refund(shop, admin, order_id, 500)
    order = wait_until(
        lambda: (
            (o := shop.get(f"/orders/{order_id}", token=customer.token).json())["payment"]["refunded"]["amount"] == 500
            and o
        ),
        "the partial refund recorded",
    )
    assert order["status"] == "PAID"
    refund(shop, admin, order_id)  # the rest
    assert (
        wait_for(shop, customer.token, order_id, "REFUNDED")["payment"]["refunded"]["amount"]
        == order["total"]["amount"]
    )


def test_the_last_units_go_to_exactly_as_many_customers(shop: Shop) -> None:
    units, buyers = 3, 8
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=units)
    customers = [shop.new_customer() for _ in range(buyers)]
    for c in customers:
        add_to_cart(shop, c, product["productId"], 1)
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        placed = list(pool.map(lambda c: _try_checkout(shop, c), customers))
    # All at once, most are accepted before the cart hears of the stock taken: the saga cancels those for stock
    # (out_of_stock, nothing charged). One that checks out after the news is refused before paying (422).
    accepted = [(c, o) for c, o in zip(customers, placed, strict=True) if o is not None]
    final = [wait_for(shop, c.token, o, "PAID", "CANCELLED", deadline_s=120) for c, o in accepted]
    statuses = sorted(o["status"] for o in final)
    assert statuses.count("PAID") == units, statuses
    assert all(o["cancelReason"] == "out_of_stock" for o in final if o["status"] == "CANCELLED")
    assert all(o["payment"]["charged"]["amount"] == 0 for o in final if o["status"] == "CANCELLED")
    level = wait_until(lambda: (s := stock(shop, admin, product["sku"])).get("onHand") == 0 and s, "stock committed")
    assert level["available"] == 0
    assert level["reserved"] == 0


def _try_checkout(shop: Shop, customer: Customer) -> str | None:
    """The order id, or None when checkout said before paying that the stock is gone (422)."""
    r = shop.post(
        "/checkout",
        json={"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        token=customer.token,
    )
    if r.status_code == 422:
        assert r.json()["type"].endswith("/products-unavailable"), r.text
        return None
    assert r.status_code == 202, r.text
    return str(r.json()["orderId"])


def test_a_repeated_checkout_is_one_order(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=5)
    customer = shop.new_customer()
    add_to_cart(shop, customer, product["productId"], 1)
    key = uuid.uuid4().hex
    first, again = checkout(shop, customer, key=key), checkout(shop, customer, key=key)
    assert first == again
    order = wait_for(shop, customer.token, first, "PAID")
    assert path_of(order) == ["PENDING", "CONFIRMED", "PAID"]  # one status change each


def test_duplicates_make_one_change_and_an_early_event_parks_then_redrives_home(shop: Shop) -> None:
    """StockReservationFailed for an order nobody placed yet is retried, then parked in the DLQ with a visible
    reason; once the order exists, `gears dlq redrive` brings the event home and it applies, once."""
    from gears.dlq import DlqTool

    customer = shop.new_customer()
    user_id = shop.get("/me", token=customer.token).json()["userId"]
    order_id = f"e2e-{uuid.uuid4().hex[:12]}"
    early = send_event(shop, "StockReservationFailed.v1", {"orderId": order_id, "reason": "out_of_stock"})

    template = Template(TEMPLATE)
    tool = DlqTool(template, shop.state["resources"], sqs_client(shop))
    # An early event is retried for as long as its queue's redrive policy lets it (five minutes), then parked.
    receives = int(template.properties("OrdersEventsQueue")["RedrivePolicy"]["maxReceiveCount"])
    wait_until(
        lambda: any(json.loads(m.body).get("id") == early for m in tool.show("OrdersEventsDLQ", 50)),
        "the early event parked in OrdersEventsDLQ",
        deadline_s=not_ready_span_s(receives) + 120,
    )
    placed_id = str(uuid.uuid4())
    for _ in range(2):  # OrderPlaced delivered twice
        send_event(shop, "OrderPlaced.v1", placed_data(order_id, user_id), event_id=placed_id)
    wait_for(shop, customer.token, order_id, "PENDING")

    assert tool.redrive("OrdersEventsDLQ") >= 1
    order = wait_for(shop, customer.token, order_id, "CANCELLED")
    send_event(shop, "StockReservationFailed.v1", {"orderId": order_id, "reason": "out_of_stock"}, event_id=early)
    time.sleep(2)  # give the duplicate a chance to (wrongly) change something
    again = shop.get(f"/orders/{order_id}", token=customer.token).json()
    assert path_of(again) == ["PENDING", "CANCELLED"] == path_of(order)
    assert again["history"][1]["cause"] == {"type": "StockReservationFailed.v1", "id": early}
