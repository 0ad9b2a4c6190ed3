"""The table's stream through the publisher onto the topic, read back from an SQS queue subscribed to it."""

from __future__ import annotations

import json

from ecommerce import publisher
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.functional.ecommerce.conftest import ADMIN, Call, new_product
from tests.support.topics import drain, stream_batch, subscribe_queue


def test_catalog_changes_arrive_as_cloudevents(call: Call, cloud: Stack, lambda_env) -> None:
    env = lambda_env("EcommercePublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])

    created = call(
        "POST",
        "/products",
        admin=True,
        claims=ADMIN,
        headers={"x-correlation-id": "corr-create"},
        body=new_product("PUB-1"),
    ).body
    pid = created["productId"]
    call(
        "PUT",
        f"/products/{pid}",
        admin=True,
        claims=ADMIN,
        headers={"x-correlation-id": "corr-update"},
        body={**created, "price": {"amount": 800, "currency": "GBP"}},
    )
    call("DELETE", f"/products/{pid}", admin=True, claims=ADMIN, headers={"x-correlation-id": "corr-delete"})

    batch = stream_batch(cloud, "EcommerceTable")
    result = publisher.handler(batch, LambdaContext("EcommercePublisherFunction", timeout_s=30))
    assert result == {"batchItemFailures": []}

    events = [e for e in drain(queue) if e.subject == pid]
    assert [e.type for e in events] == ["ProductCreated.v1", "ProductUpdated.v1", "ProductDeleted.v1"]
    assert [e.correlationid for e in events] == ["corr-create", "corr-update", "corr-delete"]
    assert all(e.source == "gears.ecommerce" and e.specversion == "1.0" for e in events)
    assert events[0].data["price"] == {"amount": 1250, "currency": "GBP"}
    assert events[1].data["changedFields"] == ["price"]
    assert events[1].data["previous"]["price"]["amount"] == 1250
    assert events[2].data["archived"] is True

    # A retried batch publishes the very same ids, so consumers can drop the repeats.
    publisher.handler(batch, LambdaContext("EcommercePublisherFunction", timeout_s=30))
    again = [e for e in drain(queue) if e.subject == pid]
    assert [e.id for e in again] == [e.id for e in events]
    assert json.loads(events[0].to_json())["id"] == events[0].id
