"""The order events and the catalog's new products through InventoryOrderConsumerFunction's handler, as SQS delivers
them, against moto."""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any

import boto3

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.events import SnsPublisher, new_event
from inventory.domain import StockChange, StockItem
from inventory.store import DynamoStockRepository, reservation_key
from tests.functional.inventory.conftest import (
    Call,
    order_cancelled,
    order_paid,
    order_placed,
    product_created,
    sqs_event,
)
from tests.support.topics import drain

CONTEXT = LambdaContext("InventoryOrderConsumerFunction", timeout_s=30)


def new_sku() -> str:
    return "C-" + uuid.uuid4().hex[:10].upper()


def stocked(call: Call, on_hand: int, threshold: int = 2) -> str:
    sku = new_sku()
    body = {"delta": on_hand, "reason": "count", "threshold": threshold, "productId": f"p-{sku}"}
    assert call("PUT", f"/inventory/{sku}", body=body).status == 201
    return sku


def figures(call: Call, sku: str) -> tuple[int, int, int]:
    body = call("GET", f"/inventory/{sku}").body
    return body["onHand"], body["reserved"], body["available"]


def reservation(table_name: str, order_id: str) -> dict[str, Any] | None:
    item = boto3.client("dynamodb").get_item(TableName=table_name, Key=reservation_key(order_id)).get("Item")
    return item


def test_an_order_reserves_commits_and_is_restocked_when_cancelled_after_payment(
    call: Call, consumers: ModuleType, table_name: str
) -> None:
    a, b = stocked(call, 10), stocked(call, 3)
    order = "o-" + uuid.uuid4().hex[:8]
    assert consumers.handler(sqs_event(order_placed(order, (a, 2), (b, 3), (a, 1))), CONTEXT) == {
        "batchItemFailures": []
    }
    assert figures(call, a) == (10, 3, 7)  # both lines of a, merged
    assert figures(call, b) == (3, 3, 0)
    stored = reservation(table_name, order)
    assert stored is not None
    assert stored["status"]["S"] == "RESERVED"

    assert consumers.handler(sqs_event(order_paid(order)), CONTEXT) == {"batchItemFailures": []}
    assert figures(call, a) == (7, 0, 7)
    assert figures(call, b) == (0, 0, 0)

    assert consumers.handler(sqs_event(order_cancelled(order, paid=True)), CONTEXT) == {"batchItemFailures": []}
    assert figures(call, a) == (10, 0, 10)
    assert figures(call, b) == (3, 0, 3)
    assert reservation(table_name, order)["status"]["S"] == "RESTOCKED"  # type: ignore[index]
    kinds = [m["kind"] for m in call("GET", f"/inventory/{b}").body["movements"]]
    assert kinds == ["restock", "commit", "reserve", "adjust"]


def test_a_cancel_before_payment_releases(call: Call, consumers: ModuleType, table_name: str) -> None:
    sku = stocked(call, 4)
    order = "o-" + uuid.uuid4().hex[:8]
    consumers.handler(sqs_event(order_placed(order, (sku, 4))), CONTEXT)
    assert figures(call, sku) == (4, 4, 0)
    consumers.handler(sqs_event(order_cancelled(order, paid=False)), CONTEXT)
    assert figures(call, sku) == (4, 0, 4)
    assert reservation(table_name, order)["status"]["S"] == "RELEASED"  # type: ignore[index]


def test_one_short_line_reserves_nothing(call: Call, consumers: ModuleType, table_name: str) -> None:
    plenty, scarce = stocked(call, 10), stocked(call, 1)
    order = "o-" + uuid.uuid4().hex[:8]
    consumers.handler(sqs_event(order_placed(order, (plenty, 2), (scarce, 2), ("NEVER-STOCKED", 1))), CONTEXT)
    assert figures(call, plenty) == (10, 0, 10)
    assert figures(call, scarce) == (1, 0, 1)
    stored = reservation(table_name, order)
    assert stored is not None
    assert stored["status"]["S"] == "FAILED"
    unavailable = {u["M"]["sku"]["S"]: int(u["M"]["available"]["N"]) for u in stored["unavailable"]["L"]}
    assert unavailable == {scarce: 1, "NEVER-STOCKED": 0}
    consumers.handler(sqs_event(order_cancelled(order, paid=False)), CONTEXT)  # the saga cancels it: nothing moves
    assert figures(call, scarce) == (1, 0, 1)


def test_every_event_delivered_twice_is_applied_once(call: Call, consumers: ModuleType, table_name: str) -> None:
    sku = stocked(call, 10)
    order = "o-" + uuid.uuid4().hex[:8]
    placed = order_placed(order, (sku, 3))
    # the same message twice in one batch, then again later
    assert consumers.handler(sqs_event(placed, placed), CONTEXT) == {"batchItemFailures": []}
    assert consumers.handler(sqs_event(placed), CONTEXT) == {"batchItemFailures": []}
    # a second OrderPlaced for the same order with another event id (a replay upstream) reserves nothing more
    consumers.handler(sqs_event(order_placed(order, (sku, 3))), CONTEXT)
    assert figures(call, sku) == (10, 3, 7)
    paid = order_paid(order)
    consumers.handler(sqs_event(paid, paid), CONTEXT)
    consumers.handler(sqs_event(order_paid(order)), CONTEXT)
    assert figures(call, sku) == (7, 0, 7)
    cancelled = order_cancelled(order, paid=True)
    consumers.handler(sqs_event(cancelled, cancelled), CONTEXT)
    consumers.handler(sqs_event(order_cancelled(order, paid=True)), CONTEXT)
    assert figures(call, sku) == (10, 0, 10)
    movements = call("GET", f"/inventory/{sku}").body["movements"]
    assert [m["kind"] for m in movements] == ["restock", "commit", "reserve", "adjust"]


def test_a_late_order_placed_after_its_cancellation_reserves_nothing(
    call: Call, consumers: ModuleType, table_name: str
) -> None:
    sku = stocked(call, 5)
    order = "o-" + uuid.uuid4().hex[:8]
    consumers.handler(sqs_event(order_cancelled(order, paid=False)), CONTEXT)
    consumers.handler(sqs_event(order_placed(order, (sku, 2))), CONTEXT)
    assert figures(call, sku) == (5, 0, 5)
    assert reservation(table_name, order)["status"]["S"] == "CANCELLED"  # type: ignore[index]


def test_a_poison_message_fails_alone(call: Call, consumers: ModuleType) -> None:
    sku = stocked(call, 5)
    good = order_placed("o-" + uuid.uuid4().hex[:8], (sku, 1))
    bad_data = order_placed("o-bad", (sku, 1)).model_copy(
        update={"data": {"orderId": "o-bad", "lines": [{"sku": sku, "quantity": -3}]}}
    )
    result = consumers.handler(sqs_event(bad_data, good, bodies=["not json at all"]), CONTEXT)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-2"}]}
    assert figures(call, sku) == (5, 1, 4)
    # the failed event was released from the inbox: a fixed redelivery would be applied
    again = consumers.handler(sqs_event(bad_data), CONTEXT)
    assert again == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}


# -- the catalog's new products ----------------------------------------------------------------------------------
def test_a_new_product_gets_its_stock_record_and_can_be_restocked_at_once(call: Call, consumers: ModuleType) -> None:
    sku, product = new_sku(), "prod-" + uuid.uuid4().hex[:8]
    created = product_created(product, sku.lower())
    assert consumers.catalog_handler(sqs_event(created), CONTEXT) == {"batchItemFailures": []}
    opened = call("GET", f"/inventory/{sku}")
    assert opened.status == 200, opened
    assert (opened.body["productId"], opened.body["onHand"], opened.body["reserved"], opened.body["version"]) == (
        product,
        0,
        0,
        1,
    )
    assert opened.body["movements"] == []
    restocked = call("POST", f"/inventory/{sku}/restock", body={"quantity": 6})
    assert restocked.status == 200, restocked
    # the same event again, and another ProductCreated for the product (a replay upstream), change nothing
    consumers.catalog_handler(sqs_event(created, product_created(product, sku)), CONTEXT)
    after = call("GET", f"/inventory/{sku}").body
    assert (after["onHand"], after["productId"], after["version"]) == (6, product, 2)


def test_a_new_product_links_the_record_its_sku_already_had(call: Call, consumers: ModuleType, table_name: str) -> None:
    sku = new_sku()
    DynamoStockRepository(table_name).write([StockChange(None, StockItem.new(sku))])  # a record of before the link
    consumers.catalog_handler(sqs_event(product_created("prod-linked", sku)), CONTEXT)
    linked = call("GET", f"/inventory/{sku}").body
    assert (linked["productId"], linked["version"]) == ("prod-linked", 2)


def test_a_product_whose_sku_the_inventory_cannot_hold_fails_its_record(call: Call, consumers: ModuleType) -> None:
    result = consumers.catalog_handler(sqs_event(product_created("prod-slash", "SL/15551")), CONTEXT)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}  # retried, then parked in the DLQ
    assert call("GET", "/inventory/SL%2F15551").status == 400


def test_the_catalog_queue_receives_the_catalog_s_new_products_and_nothing_else_of_it(
    call: Call, consumers: ModuleType, cloud: Stack
) -> None:
    sku, product = new_sku(), "prod-" + uuid.uuid4().hex[:8]
    catalog = SnsPublisher(cloud.ref("EcommerceTopic"), boto3.client("sns"))
    catalog.publish(
        [
            product_created(product, sku),
            new_event("ProductUpdated.v1", "gears.ecommerce", {"productId": product, "sku": sku}),
            new_event("ProductDeleted.v1", "gears.ecommerce", {"productId": product, "sku": sku}),
        ]
    )
    delivered = drain(cloud.ref("InventoryCatalogQueue"))
    assert [e.type for e in delivered] == ["ProductCreated.v1"]
    assert consumers.catalog_handler(sqs_event(*delivered), CONTEXT) == {"batchItemFailures": []}
    assert call("GET", f"/inventory/{sku}").body["productId"] == product


def test_the_saga_queue_gets_none_of_the_catalog_s_events(consumers: ModuleType, cloud: Stack) -> None:
    """A burst of new products (a catalog import, the demo data) must never wait in front of the saga's events."""
    sku, product = new_sku(), "prod-" + uuid.uuid4().hex[:8]
    SnsPublisher(cloud.ref("EcommerceTopic"), boto3.client("sns")).publish([product_created(product, sku)])
    assert [e.type for e in drain(cloud.ref("InventoryCatalogQueue"))] == ["ProductCreated.v1"]
    assert drain(cloud.ref("InventoryOrdersQueue")) == []
