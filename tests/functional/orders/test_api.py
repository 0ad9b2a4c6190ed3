"""The order routes on moto: own orders, 404 for another customer's, 403 for customers on admin routes, bad input
4xx that changes nothing, and fulfilment in order."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from gears.local.lambda_context import LambdaContext
from tests.functional.orders.conftest import APPROVAL_URL, approval_event, placed_event, saga_event, sqs_event
from tests.support.handlers import ADMIN, SUPPORT, Answer, claims

ANN = claims("user-ann")
BOB = claims("user-bob")
Call = Callable[..., Answer]


@pytest.fixture
def saga(consumers: ModuleType) -> Callable[..., None]:
    def run(*events: Any) -> None:
        result = consumers.handler(sqs_event(*events), LambdaContext("OrdersEventsConsumerFunction"))
        assert result == {"batchItemFailures": []}

    return run


def paid_order(saga: Callable[..., None], order_id: str, user: str = "user-ann", **kw: Any) -> None:
    saga(
        placed_event(order_id, user, **kw),
        saga_event("StockReserved.v1", order_id),
        saga_event("PaymentSucceeded.v1", order_id, paymentIntentId="pi", amount=1399),
    )


def test_customers_see_their_own_orders_only(call: Call, saga: Callable[..., None]) -> None:
    saga(placed_event("ao-1", "user-ann", placedAt="2026-03-01T10:00:00Z"))
    saga(placed_event("ao-2", "user-ann", placedAt="2026-03-02T10:00:00Z"))
    saga(placed_event("ao-3", "user-bob"))
    mine = call("GET", "/orders", claims=ANN, query={"limit": "1"})
    assert mine.status == 200
    assert [o["orderId"] for o in mine.body["items"]] == ["ao-2"]
    rest = call("GET", "/orders", claims=ANN, query={"cursor": mine.body["nextCursor"]})
    assert [o["orderId"] for o in rest.body["items"]] == ["ao-1"]
    assert rest.body["nextCursor"] is None

    own = call("GET", "/orders/ao-1", "/orders/{orderId}", claims=ANN, path_parameters={"orderId": "ao-1"})
    assert own.status == 200
    assert own.body["status"] == "PENDING"
    assert own.body["lines"][0]["sku"] == "SKU-1"
    assert own.body["history"][0]["cause"]["type"] == "OrderPlaced.v1"
    assert own.body["payment"]["method"] == "pm_card_visa"
    assert own.body["shipment"]["carrier"] is None

    theirs = call("GET", "/orders/ao-3", "/orders/{orderId}", claims=ANN, path_parameters={"orderId": "ao-3"})
    assert theirs.status == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    staff = call("GET", "/orders/ao-3", "/orders/{orderId}", claims=SUPPORT, path_parameters={"orderId": "ao-3"})
    assert staff.status == 200


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "ten"}, {"cursor": "!!!"}, {"cursor": "eyJ4IjoxfQ"}])
def test_bad_listing_parameters_are_400(call: Call, query: dict[str, str]) -> None:
    assert call("GET", "/orders", claims=ANN, query=query).status == 400


def test_cancel_is_for_the_owner_before_shipping(call: Call, saga: Callable[..., None]) -> None:
    saga(placed_event("ao-4", "user-ann"))
    path = {"orderId": "ao-4"}
    assert (
        call("POST", "/orders/ao-4/cancel", "/orders/{orderId}/cancel", claims=BOB, path_parameters=path).status == 404
    )
    assert (
        call("POST", "/orders/ao-4/cancel", "/orders/{orderId}/cancel", claims=SUPPORT, path_parameters=path).status
        == 404
    )
    done = call("POST", "/orders/ao-4/cancel", "/orders/{orderId}/cancel", claims=ANN, path_parameters=path)
    assert done.status == 200
    assert done.body["status"] == "CANCELLED"
    assert done.body["cancelReason"] == "customer_request"
    assert done.body["history"][-1]["cause"] == {"type": "request", "id": "user-ann"}

    paid_order(saga, "ao-5")
    ship = {"carrier": "royal_mail", "trackingNumber": "AB123456789GB"}
    shipped = call(
        "POST",
        "/admin/orders/ao-5/ship",
        "/admin/orders/{orderId}/ship",
        claims=ADMIN,
        path_parameters={"orderId": "ao-5"},
        body=ship,
    )
    assert shipped.status == 200, shipped
    late = call(
        "POST", "/orders/ao-5/cancel", "/orders/{orderId}/cancel", claims=ANN, path_parameters={"orderId": "ao-5"}
    )
    assert late.status == 422
    assert late.body["orderStatus"] == "SHIPPED"


def test_customers_get_403_on_admin_routes_and_support_cannot_ship(call: Call, saga: Callable[..., None]) -> None:
    paid_order(saga, "ao-6")
    assert call("GET", "/admin/orders", claims=ANN).status == 403
    for who in (ANN, SUPPORT):
        r = call(
            "POST",
            "/admin/orders/ao-6/ship",
            "/admin/orders/{orderId}/ship",
            claims=who,
            path_parameters={"orderId": "ao-6"},
            body={"carrier": "dhl", "trackingNumber": "1234567890"},
        )
        assert r.status == 403
        r = call(
            "POST",
            "/admin/orders/ao-6/deliver",
            "/admin/orders/{orderId}/deliver",
            claims=who,
            path_parameters={"orderId": "ao-6"},
        )
        assert r.status == 403


@pytest.mark.parametrize(
    "body",
    [
        {"carrier": "pigeon", "trackingNumber": "1234567890"},
        {"carrier": "dhl", "trackingNumber": "12"},
        {"carrier": "dhl", "trackingNumber": "ABCDEFGHIJ"},
        {"carrier": "dhl", "trackingNumber": "1234567890", "status": "DELIVERED"},
        {"carrier": "dhl"},
        "not json",
    ],
)
def test_bad_shipments_are_400_and_change_nothing(call: Call, saga: Callable[..., None], body: Any) -> None:
    paid_order(saga, "ao-7")
    r = call(
        "POST",
        "/admin/orders/ao-7/ship",
        "/admin/orders/{orderId}/ship",
        claims=ADMIN,
        path_parameters={"orderId": "ao-7"},
        body=body,
    )
    assert r.status == 400, r
    got = call("GET", "/orders/ao-7", "/orders/{orderId}", claims=ADMIN, path_parameters={"orderId": "ao-7"})
    assert got.body["status"] == "PAID"


def test_fulfilment_in_order_and_the_admin_listing(call: Call, saga: Callable[..., None]) -> None:
    saga(placed_event("ao-8", "user-ann", placedAt="2026-04-01T09:00:00Z"))
    paid_order(saga, "ao-9", placedAt="2026-04-02T09:00:00Z")
    early = call(
        "POST",
        "/admin/orders/ao-8/ship",
        "/admin/orders/{orderId}/ship",
        claims=ADMIN,
        path_parameters={"orderId": "ao-8"},
        body={"carrier": "dhl", "trackingNumber": "1234567890"},
    )
    assert early.status == 422
    deliver_early = call(
        "POST",
        "/admin/orders/ao-9/deliver",
        "/admin/orders/{orderId}/deliver",
        claims=ADMIN,
        path_parameters={"orderId": "ao-9"},
    )
    assert deliver_early.status == 422
    call(
        "POST",
        "/admin/orders/ao-9/ship",
        "/admin/orders/{orderId}/ship",
        claims=ADMIN,
        path_parameters={"orderId": "ao-9"},
        body={"carrier": "dhl", "trackingNumber": "1234567890"},
    )
    delivered = call(
        "POST",
        "/admin/orders/ao-9/deliver",
        "/admin/orders/{orderId}/deliver",
        claims=ADMIN,
        path_parameters={"orderId": "ao-9"},
    )
    assert delivered.status == 200
    assert delivered.body["status"] == "DELIVERED"
    assert delivered.body["shipment"]["deliveredAt"]
    missing = call(
        "POST",
        "/admin/orders/nope/deliver",
        "/admin/orders/{orderId}/deliver",
        claims=ADMIN,
        path_parameters={"orderId": "nope"},
    )
    assert missing.status == 404

    by_status = call("GET", "/admin/orders", claims=SUPPORT, query={"status": "DELIVERED"})
    assert by_status.status == 200
    assert [o["orderId"] for o in by_status.body["items"]] == ["ao-9"]
    april = call("GET", "/admin/orders", claims=ADMIN, query={"from": "2026-04-01", "to": "2026-04-01"})
    assert [o["orderId"] for o in april.body["items"]] == ["ao-8"]
    paged = call("GET", "/admin/orders", claims=ADMIN, query={"from": "2026-04-01", "limit": "1"})
    assert [o["orderId"] for o in paged.body["items"]] == ["ao-9"]
    rest = call("GET", "/admin/orders", claims=ADMIN, query={"from": "2026-04-01", "cursor": paged.body["nextCursor"]})
    assert [o["orderId"] for o in rest.body["items"]] == ["ao-8"]
    for query in ({"status": "LOST"}, {"from": "yesterday"}, {"from": "2026-05-01", "to": "2026-04-01"}):
        assert call("GET", "/admin/orders", claims=ADMIN, query=query).status == 400


def test_an_order_awaiting_payment_shows_where_to_approve_and_is_cancelled_as_a_confirmed_one(
    call: Call, saga: Callable[..., None]
) -> None:
    saga(
        placed_event("ao-10", "user-ann", paymentMethod="paypal"),
        saga_event("StockReserved.v1", "ao-10"),
        approval_event("ao-10", expires_at="2026-03-01T12:30:00+00:00"),
    )
    path = {"orderId": "ao-10"}
    own = call("GET", "/orders/ao-10", "/orders/{orderId}", claims=ANN, path_parameters=path)
    assert own.status == 200  # and the answer holds to OrderAnswer (tests/support/contract.py)
    assert own.body["status"] == "AWAITING_PAYMENT"
    payment = own.body["payment"]
    assert (payment["method"], payment["paymentIntentId"]) == ("paypal", "5O190127TN364715T")
    assert (payment["approvalUrl"], payment["approvalExpiresAt"]) == (APPROVAL_URL, "2026-03-01T12:30:00.000Z")
    assert own.body["history"][-1]["from"] == "CONFIRMED"
    assert own.body["history"][-1]["cause"]["type"] == "PaymentApprovalRequested.v1"

    listed = call("GET", "/admin/orders", claims=SUPPORT, query={"status": "awaiting_payment"})
    assert listed.status == 200
    assert [(o["orderId"], o["status"]) for o in listed.body["items"]] == [("ao-10", "AWAITING_PAYMENT")]
    assert [o["status"] for o in call("GET", "/orders", claims=ANN).body["items"]] == ["AWAITING_PAYMENT"]

    done = call("POST", "/orders/ao-10/cancel", "/orders/{orderId}/cancel", claims=ANN, path_parameters=path)
    assert done.status == 200
    assert (done.body["status"], done.body["cancelReason"]) == ("CANCELLED", "customer_request")
    assert (done.body["payment"]["approvalUrl"], done.body["payment"]["approvalExpiresAt"]) == (None, None)
    assert call("GET", "/admin/orders", claims=SUPPORT, query={"status": "AWAITING_PAYMENT"}).body["items"] == []
