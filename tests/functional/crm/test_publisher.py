"""The CRM's stream on moto: staff replies (on a ticket or a customer's page) publish SupportReplied, a campaign
CampaignCreated; the launcher pages the segment into CampaignBatchReady batches of at most 50, every member once."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from gears_shared.events import CloudEvent
from tests.functional.crm.conftest import Call, registered, sqs_event
from tests.support.handlers import ADMIN, SUPPORT, claims, cold
from tests.support.topics import drain, stream_batch, subscribe_queue


def publish(cloud: Stack, publisher: ModuleType, queue: str, seen: set[str]) -> list[CloudEvent]:
    """Run the publisher over the table's stream so far; the events that reached the topic for the first time."""
    result = publisher.handler(stream_batch(cloud, "CrmTable"), LambdaContext("CrmPublisherFunction"))
    assert result == {"batchItemFailures": []}
    fresh = [e for e in drain(queue) if e.id not in seen]
    seen.update(e.id for e in fresh)
    return fresh


def test_replies_publish_support_replied(
    cloud: Stack, lambda_env: Callable[[str], dict[str, str]], call: Call, deliver: Callable[..., Any]
) -> None:
    queue = subscribe_queue(lambda_env("CrmPublisherFunction")["TOPIC_ARN"])
    publisher = cold("crm.publisher")
    seen: set[str] = set()
    ann = claims("u-pub")
    tid = call("POST", "/support/tickets", claims=ann, body={"subject": "Lost parcel", "message": "Help"}).body[
        "ticketId"
    ]
    call("POST", "/admin/tickets/{ticketId}/messages", claims=SUPPORT, ticketId=tid, body={"text": "Found it."})
    deliver(registered("u-pub", "pub@example.com"))
    call(
        "POST",
        "/admin/customers/{userId}/interactions",
        claims=SUPPORT,
        userId="u-pub",
        body={"kind": "note", "text": "Kind customer."},
    )
    call(
        "POST",
        "/admin/customers/{userId}/interactions",
        claims=SUPPORT,
        userId="u-pub",
        body={"kind": "reply", "text": "Your refund is on its way.", "subject": "Your refund"},
    )

    events = publish(cloud, publisher, queue, seen)
    assert [e.type for e in events] == ["SupportReplied.v1", "SupportReplied.v1"]
    on_ticket, on_page = sorted(events, key=lambda e: e.data["ticketId"] is None)
    assert on_ticket.data["ticketId"] == tid
    assert (on_ticket.data["userId"], on_ticket.data["body"], on_ticket.data["by"]) == (
        "u-pub",
        "Found it.",
        "support-1",
    )
    assert on_ticket.data["subject"] == "Re: Lost parcel"
    assert (on_page.data["subject"], on_page.data["body"]) == ("Your refund", "Your refund is on its way.")
    assert publish(cloud, publisher, queue, seen) == []  # the same records again: the same ids


def test_a_campaign_reaches_every_member_once_in_batches_of_fifty(
    cloud: Stack, lambda_env: Callable[[str], dict[str, str]], call: Call, consumers: ModuleType
) -> None:
    from crm import bootstrap
    from crm.domain import Customer
    from crm.rfm import Score

    queue = subscribe_queue(lambda_env("CrmPublisherFunction")["TOPIC_ARN"])
    publisher = cold("crm.publisher")
    seen: set[str] = set()
    store = bootstrap.crm_store()
    members = [f"u-m{n:04d}" for n in range(420)]
    for user_id in members:  # 48 to 58 a shard: more than a batch in some (the stream read stays under 1,000 records)
        store.save_score(Customer(user_id, "2026-01-01T00:00:00Z", score=Score(5, 5, 5, "champions")))
    store.save_score(Customer("u-other", "2026-01-01T00:00:00Z", score=Score(1, 1, 1, "lost")))

    made = call(
        "POST",
        "/admin/campaigns",
        claims=ADMIN,
        body={
            "name": "Champions' thanks",
            "segment": "champions",
            "subject": "Thank you, {{ first_name }}",
            "body": "Here is {{ discount_code }}.",
            "channels": ["email", "push"],
            "discountCode": "THANKS20",
        },
    )
    cid = made.body["campaignId"]
    created = publish(cloud, publisher, queue, seen)
    assert [e.type for e in created] == ["CampaignCreated.v1"]
    launcher_ctx = LambdaContext("CrmCampaignLauncherFunction", timeout_s=300)
    assert consumers.launcher_handler(sqs_event(*created), launcher_ctx) == {"batchItemFailures": []}
    assert consumers.launcher_handler(sqs_event(*created), launcher_ctx) == {"batchItemFailures": []}  # again

    batches = [e for e in publish(cloud, publisher, queue, seen) if e.type == "CampaignBatchReady.v1"]
    recipients = [r for b in batches for r in b.data["recipients"]]
    assert sorted(recipients) == members
    assert max(len(b.data["recipients"]) for b in batches) == 50
    assert len({b.data["batchId"] for b in batches}) == len(batches)
    first = batches[0].data
    assert (first["campaignId"], first["discountCode"], first["channels"]) == (cid, "THANKS20", ["email", "push"])
    assert first["subject"] == "Thank you, {{ first_name }}"  # the source: notification renders it

    got = call("GET", "/admin/campaigns/{campaignId}", claims=ADMIN, campaignId=cid).body
    assert (got["status"], got["targeted"], got["batches"]) == ("launched", 420, len(batches))
    assert got["counts"]["targeted"] == 420
