"""The inventory table's stream through InventoryPublisherFunction onto the topic, read back from a queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import ModuleType

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from inventory.publisher import reservation_event_id
from tests.functional.inventory.conftest import (
    Call,
    cold,
    order_placed,
    sqs_event,
)
from tests.support.topics import drain, stream_batch, subscribe_queue

CONTEXT = LambdaContext("InventoryPublisherFunction", timeout_s=30)


def test_the_saga_outcomes_and_stock_levels_are_published(
    call: Call, consumers: ModuleType, cloud: Stack, lambda_env: Callable[[str], dict[str, str]]
) -> None:
    env = lambda_env("InventoryPublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("inventory.publisher")
    sku = "P-" + uuid.uuid4().hex[:8].upper()
    call(
        "PUT",
        f"/inventory/{sku}",
        headers={"x-correlation-id": "corr-admin"},
        body={"delta": 4, "reason": "count", "threshold": 2, "productId": "prod-9"},
    )
    consumer_context = LambdaContext("InventoryOrderConsumerFunction")
    consumers.handler(sqs_event(order_placed("o-1", (sku, 1))), consumer_context)  # 3 left: above 2
    consumers.handler(sqs_event(order_placed("o-2", (sku, 1))), consumer_context)  # 2 left: low
    consumers.handler(sqs_event(order_placed("o-3", (sku, 1))), consumer_context)  # 1 left: still low
    consumers.handler(sqs_event(order_placed("o-4", (sku, 5))), consumer_context)  # fails

    batch = stream_batch(cloud, "InventoryTable")
    assert publisher.handler(batch, CONTEXT) == {"batchItemFailures": []}
    events = drain(queue)
    assert [e.type for e in events] == [
        "StockLevelChanged.v1",  # created with 4
        "StockLevelChanged.v1",
        "StockReserved.v1",  # o-1
        "StockLevelChanged.v1",
        "StockLow.v1",
        "StockReserved.v1",  # o-2 crosses the threshold
        "StockLevelChanged.v1",
        "StockReserved.v1",  # o-3: low already, no second StockLow
        "StockReservationFailed.v1",  # o-4
    ]
    assert events[0].correlationid == "corr-admin"
    assert events[2].correlationid == "corr-o-1"
    assert events[3].data["level"] == "low"
    assert events[3].data["available"] == 2
    assert events[4].data == {"sku": sku, "productId": "prod-9", "available": 2, "threshold": 2}
    assert events[5].data == {"orderId": "o-2", "lines": [{"sku": sku, "productId": f"p-{sku}", "quantity": 1}]}
    assert events[5].id == reservation_event_id("o-2", "StockReserved.v1")
    assert events[8].data == {
        "orderId": "o-4",
        "reason": "out_of_stock",
        "unavailable": [{"sku": sku, "requested": 5, "available": 1}],
    }
    assert all(e.source == "gears.inventory" and e.specversion == "1.0" for e in events)

    # A retried batch publishes the very same ids, so consumers can drop the repeats.
    publisher.handler(batch, CONTEXT)
    assert [e.id for e in drain(queue)] == [e.id for e in events]
