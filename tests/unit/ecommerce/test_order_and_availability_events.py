"""OrderPlaced.v1 from the order record's stream insert; availability from StockLevelChanged.v1, publishing nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from ecommerce.cart.consumers import availability_from
from ecommerce.cart.domain import Cart, ShippingAddress, place_order, price_cart
from ecommerce.cart.store import ORDER_PLACED as ORDER_ENTITY
from ecommerce.cart.store import _dynamo
from ecommerce.catalog.domain import Availability, Money, Product, ProductDetails, StockLevel, product_id_for_sku
from ecommerce.catalog.store import product_model, to_item
from ecommerce.discounts.domain import AppliedDiscount
from ecommerce.events import ORDER_PLACED, SOURCE, OrderPlaced
from ecommerce.publisher import events_for_record, order_event_id
from gears_shared.events import new_event

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
Model = product_model("unit-test-table")


def a_product() -> Product:
    return replace(
        Product.new("MUG", ProductDetails("Mug", Money(1250, "GBP"), "mugs", status="active"), NOW), version=1
    )


def order_image(discount: AppliedDiscount | None = None) -> dict[str, Any]:
    mug = a_product()
    order = place_order(
        price_cart(Cart("u1").with_quantity(mug, 2, NOW), {mug.product_id: mug}),
        order_id="order-1",
        shipping_address=ShippingAddress("Ann", "1 High St", "Leeds", "LS1 1AA", "GB"),
        payment_method="pm_card_visa",
        now=NOW,
    )
    if discount is not None:
        order = order.with_discount(discount)
    return {
        "pk": {"S": "ORDER#order-1"},
        "sk": {"S": "ORDER"},
        "entity": {"S": ORDER_ENTITY},
        "orderId": {"S": "order-1"},
        "order": _dynamo(order.to_event_data()),
        "correlationId": {"S": "req-9"},
    }


def stream(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None, seq: int = 1) -> dict:
    ddb: dict[str, Any] = {"SequenceNumber": str(seq), "ApproximateCreationDateTime": 1714564800}
    if new:
        ddb["NewImage"] = new
    if old:
        ddb["OldImage"] = old
    return {"eventID": f"ev-{seq}", "eventName": name, "dynamodb": ddb}


def test_an_order_record_inserted_is_order_placed_as_the_contract_says() -> None:
    [event] = events_for_record(stream("INSERT", order_image()))
    assert (event.type, event.source, event.subject, event.correlationid) == (ORDER_PLACED, SOURCE, "order-1", "req-9")
    OrderPlaced.model_validate(event.data)
    assert set(event.data) == {
        "orderId",
        "userId",
        "lines",
        "subtotal",
        "shipping",
        "discount",
        "total",
        "shippingAddress",
        "paymentMethod",
        "placedAt",
    }
    assert event.data["lines"][0]["lineTotal"] == {"amount": 2500, "currency": "GBP"}
    assert event.data["discount"] is None
    assert event.data["total"] == {"amount": 2999, "currency": "GBP"}
    assert event.time == "2024-05-01T12:00:00.000Z"


def test_an_order_placed_with_a_code_carries_its_discount_and_the_discounted_total() -> None:
    [event] = events_for_record(stream("INSERT", order_image(AppliedDiscount("SPRING10", Money(250, "GBP")))))
    OrderPlaced.model_validate(event.data)
    assert event.data["discount"] == {"code": "SPRING10", "amount": {"amount": 250, "currency": "GBP"}}
    # total = subtotal - discount + shipping: 2500 - 250 + 499 (shipping decided on the subtotal before the discount)
    assert (event.data["subtotal"]["amount"], event.data["total"]["amount"]) == (2500, 2749)


def test_the_order_placed_id_is_the_orders_whatever_stream_record_carries_it() -> None:
    [first] = events_for_record(stream("INSERT", order_image(), seq=1))
    [again] = events_for_record(stream("INSERT", order_image(), seq=99))
    assert first.id == again.id == order_event_id("order-1")


def test_an_order_record_expiring_publishes_nothing() -> None:
    assert events_for_record(stream("REMOVE", None, old=order_image())) == []


def test_an_availability_change_alone_publishes_nothing() -> None:
    old = a_product()
    new = replace(old, availability=Availability(StockLevel.LOW, 3, "2024-05-01T12:00:00.000Z"))
    record = stream("MODIFY", to_item(Model, new).serialize(), old=to_item(Model, old).serialize())
    assert events_for_record(record) == []
    priced = replace(new, details=replace(new.details, price=Money(999, "GBP")), version=2)
    [event] = events_for_record(
        stream("MODIFY", to_item(Model, priced).serialize(), old=to_item(Model, new).serialize())
    )
    assert event.data["changedFields"] == ["price"]
    assert "availability" not in event.data  # product events are unchanged by availability


def stock_event(data: dict[str, Any], time: str = "2024-05-01T12:00:00.123456+00:00") -> Any:
    return new_event("StockLevelChanged.v1", "gears.inventory", data, time=time)


def test_a_stock_level_event_reads_as_the_products_availability() -> None:
    cmd = availability_from(
        stock_event(
            {
                "sku": "MUG",
                "productId": "p-1",
                "onHand": 10,
                "reserved": 7,
                "available": 3,
                "threshold": 5,
                "level": "low",
                "somethingNew": True,
            }
        )
    )
    assert (cmd.product_id, cmd.availability) == ("p-1", Availability(StockLevel.LOW, 3, "2024-05-01T12:00:00.123Z"))


def test_without_a_product_id_the_sku_names_the_product() -> None:
    cmd = availability_from(stock_event({"sku": "MUG", "available": 0, "level": "out"}, "2024-05-01T12:00:00Z"))
    assert cmd.product_id == product_id_for_sku("MUG")


@pytest.mark.parametrize("data", [{"sku": "MUG", "available": 1, "level": "plenty"}, {"sku": "MUG", "level": "out"}])
def test_a_malformed_stock_event_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        availability_from(stock_event(data))
