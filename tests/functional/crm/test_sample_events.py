"""The sample events in events/Crm*/ (for `gears invoke -e`, `sam local invoke -e`) work against the functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.conftest import ROOT
from tests.support.handlers import cold
from tests.support.topics import drain, subscribe_queue

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def test_the_consumer_and_http_samples(consumers: ModuleType, api: ModuleType) -> None:
    ctx = LambdaContext("Crm", timeout_s=60)
    assert consumers.handler(load("CrmEventsConsumerFunction/order-placed.json"), ctx) == {"batchItemFailures": []}
    customer = api.customers_handler(load("CrmCustomersFunction/get-customer.json"), ctx)
    assert body(customer)["orders"]["placed"] == 1
    listed = api.customers_handler(load("CrmCustomersFunction/list-customers.json"), ctx)
    assert [c["userId"] for c in body(listed)["items"]] == ["user-sample"]
    assert api.tickets_handler(load("CrmTicketsFunction/open-ticket.json"), ctx)["statusCode"] == 201
    assert len(body(api.tickets_handler(load("CrmTicketsFunction/list-tickets.json"), ctx))["items"]) == 1
    assert len(body(api.support_handler(load("CrmSupportFunction/list-tickets.json"), ctx))["items"]) == 1
    assert api.admin_handler(load("CrmAdminFunction/get-segments.json"), ctx)["statusCode"] == 200
    assert api.admin_handler(load("CrmAdminFunction/create-campaign.json"), ctx)["statusCode"] == 202
    summary = consumers.recompute_handler(load("CrmSegmentsFunction/scheduled.json"), ctx)
    assert summary["customers"] == 1
    # A campaign the table does not hold waits (and would reach the DLQ): nothing is sent for it.
    failed = consumers.launcher_handler(load("CrmCampaignLauncherFunction/campaign-created.json"), ctx)
    assert [f["itemIdentifier"] for f in failed["batchItemFailures"]] == ["sample-1"]


def test_the_stream_sample(cloud: Stack, lambda_env: Callable[[str], dict[str, str]]) -> None:
    queue = subscribe_queue(lambda_env("CrmPublisherFunction")["TOPIC_ARN"])
    publisher = cold("crm.publisher")
    result = publisher.handler(load("CrmPublisherFunction/stream-support-replied.json"), LambdaContext("Publisher"))
    assert result == {"batchItemFailures": []}
    [replied] = drain(queue)
    assert (replied.type, replied.data["ticketId"], replied.data["body"]) == (
        "SupportReplied.v1",
        "ticket-sample",
        "It ships today.",
    )
