"""The CRM's routes on moto: tickets are their owner's (another's is 404), roles before bodies (403), bad input a
400 problem that writes nothing, paging, segments and campaigns as an admin sees them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from gears.local.lambda_context import LambdaContext
from tests.functional.crm.conftest import Call, paid, placed, registered
from tests.support.handlers import ADMIN, SUPPORT, claims

ANN = claims("u-ann")
BOB = claims("u-bob")


def entities(table_name: str, entity: str) -> int:
    """How many items of a kind the table holds (a test may Scan; a request path never does)."""
    items = boto3.client("dynamodb").scan(TableName=table_name)["Items"]
    return sum(1 for i in items if i.get("entity", {}).get("S") == entity)


def test_a_ticket_is_its_owners_alone(call: Call) -> None:
    opened = call(
        "POST",
        "/support/tickets",
        claims=ANN,
        body={"subject": "Broken gear", "message": "It arrived cracked.", "orderId": "o-1"},
    )
    assert opened.status == 201
    tid = opened.body["ticketId"]
    assert opened.body["status"] == "open"
    assert [m["by"] for m in opened.body["messages"]] == ["customer"]

    for who in (BOB, SUPPORT):
        theirs = call("GET", "/support/tickets/{ticketId}", claims=who, ticketId=tid)
        assert theirs.status == 404
        assert theirs.headers["content-type"] == "application/problem+json"
    wrote = call("POST", "/support/tickets/{ticketId}/messages", claims=BOB, ticketId=tid, body={"text": "hi"})
    assert wrote.status == 404
    assert call("GET", "/support/tickets", claims=BOB).body["items"] == []
    assert call("GET", "/support/tickets/{ticketId}", claims=ANN, ticketId=tid).body["messageCount"] == 1


def test_staff_answer_assign_and_close(call: Call) -> None:
    tid = call("POST", "/support/tickets", claims=ANN, body={"subject": "Where?", "message": "No parcel"}).body[
        "ticketId"
    ]
    assert call("GET", "/admin/tickets", claims=ANN).status == 403
    listed = call("GET", "/admin/tickets", claims=SUPPORT, query={"status": "open"})
    assert tid in [t["ticketId"] for t in listed.body["items"]]
    replied = call(
        "POST", "/admin/tickets/{ticketId}/messages", claims=SUPPORT, ticketId=tid, body={"text": "It ships today."}
    )
    assert replied.status == 201
    assert replied.body["status"] == "pending"
    changed = call(
        "PUT",
        "/admin/tickets/{ticketId}",
        claims=SUPPORT,
        ticketId=tid,
        body={"status": "closed", "assignee": "support-1"},
    )
    assert (changed.status, changed.body["status"], changed.body["assignee"]) == (200, "closed", "support-1")
    assert call("PUT", "/admin/tickets/{ticketId}", claims=SUPPORT, ticketId=tid, body={}).status == 400
    closed = call("POST", "/admin/tickets/{ticketId}/messages", claims=SUPPORT, ticketId=tid, body={"text": "x"})
    assert (closed.status, closed.body["type"].rsplit("/", 1)[-1]) == (422, "ticket-closed")
    mine = call("POST", "/support/tickets/{ticketId}/messages", claims=ANN, ticketId=tid, body={"text": "Still?"})
    assert (mine.status, mine.body["status"], mine.body["messageCount"]) == (201, "open", 3)
    staff_view = call("GET", "/admin/tickets/{ticketId}", claims=SUPPORT, ticketId=tid)
    assert [m["by"] for m in staff_view.body["messages"]] == ["customer", "staff", "customer"]
    assert call("GET", "/admin/tickets/{ticketId}", claims=SUPPORT, ticketId="nope").status == 404


BAD_TICKETS: list[Any] = [
    {"subject": "Hi", "message": "x", "userId": "u-bob"},  # a server-owned field
    {"subject": "", "message": "x"},
    {"subject": "   ", "message": "x"},
    {"subject": "Hi\u0007", "message": "x"},
    {"subject": "Line\nbreak", "message": "x"},
    {"subject": "Hi", "message": "x" * 5001},
    {"subject": "Hi"},
    "not json",
]


def test_a_bad_ticket_is_400_and_writes_nothing(call: Call, table_name: str) -> None:
    for body in BAD_TICKETS:
        answer = call("POST", "/support/tickets", claims=ANN, body=body)
        assert answer.status == 400, body
        assert answer.headers["content-type"] == "application/problem+json"
    assert entities(table_name, "Ticket") == 0


def test_my_tickets_page_newest_first(call: Call) -> None:
    ids = [
        call("POST", "/support/tickets", claims=ANN, body={"subject": f"T{n}", "message": "m"}).body["ticketId"]
        for n in range(3)
    ]
    first = call("GET", "/support/tickets", claims=ANN, query={"limit": "2"})
    rest = call("GET", "/support/tickets", claims=ANN, query={"cursor": first.body["nextCursor"]})
    assert [t["ticketId"] for t in first.body["items"] + rest.body["items"]] == ids[::-1]
    assert rest.body["nextCursor"] is None
    for query in ({"limit": "0"}, {"cursor": "!!"}, {"cursor": "eyJ4IjoxfQ"}):
        assert call("GET", "/support/tickets", claims=ANN, query=query).status == 400


def test_interactions_need_staff_and_a_known_customer(call: Call, deliver: Callable[..., Any]) -> None:
    deliver(registered("u-int", "int@example.com"))
    note = {"kind": "note", "text": "Prefers DPD."}
    assert call("POST", "/admin/customers/{userId}/interactions", claims=ANN, userId="u-int", body=note).status == 403
    assert (
        call("POST", "/admin/customers/{userId}/interactions", claims=SUPPORT, userId="u-none", body=note).status == 404
    )
    assert (
        call(
            "POST",
            "/admin/customers/{userId}/interactions",
            claims=SUPPORT,
            userId="u-int",
            body={"kind": "call", "text": "x"},
        ).status
        == 400
    )
    made = call("POST", "/admin/customers/{userId}/interactions", claims=SUPPORT, userId="u-int", body=note)
    assert (made.status, made.body["kind"], made.body["by"]) == (201, "note", "support-1")
    shown = call("GET", "/admin/customers/{userId}", claims=ADMIN, userId="u-int").body
    assert [i["text"] for i in shown["interactions"]] == ["Prefers DPD."]
    assert call("GET", "/admin/customers", claims=SUPPORT, query={"segment": "vip"}).status == 400


def test_segments_after_a_recompute(call: Call, deliver: Callable[..., Any], consumers: Any) -> None:
    assert call("GET", "/admin/segments", claims=SUPPORT).status == 403
    before = call("GET", "/admin/segments", claims=ADMIN)
    assert (before.status, before.body["computedAt"]) == (200, None)
    for n in range(10):
        for k in range(n + 1):
            order = f"o-seg-{n}-{k}"
            deliver(
                placed(order, f"u-seg-{n}", 1000 * (n + 1), at=f"2026-02-{10 + n:02d}T10:00:00.000Z"),
                paid(order, 1000 * (n + 1)),
            )
    summary = consumers.recompute_handler({}, LambdaContext("CrmSegmentsFunction"))
    assert summary["scored"] == 10
    seen = call("GET", "/admin/segments", claims=ADMIN).body
    assert seen["boundaries"]["frequency"] == [2, 4, 6, 8]
    sizes = {s["segment"]: s for s in seen["segments"]}
    assert sum(s["customers"] for s in sizes.values()) == 10
    assert sizes["champions"]["customers"] == 2
    assert sizes["champions"]["revenue"] == {"amount": 9 * 9000 + 10 * 10000, "currency": "GBP"}
    top = call("GET", "/admin/customers/{userId}", claims=SUPPORT, userId="u-seg-9").body
    assert (top["rfm"]["code"], top["rfm"]["segment"]) == ("555", "champions")
    members = call("GET", "/admin/customers", claims=SUPPORT, query={"segment": "champions", "limit": "1"})
    more = call(
        "GET", "/admin/customers", claims=SUPPORT, query={"segment": "champions", "cursor": members.body["nextCursor"]}
    )
    assert [c["userId"] for c in members.body["items"] + more.body["items"]] == ["u-seg-8", "u-seg-9"]


BAD_CAMPAIGNS: list[tuple[dict[str, Any], str]] = [
    ({"body": "Hello {{ name "}, "invalid-template"),
    ({"subject": "{% for %}"}, "invalid-template"),
    ({"body": "{{ secret }}"}, "invalid-template"),
    ({"body": ""}, "bad-request"),
    ({"body": "x" * 20_001}, "bad-request"),
    ({"segment": "vip"}, "bad-request"),
    ({"channels": []}, "bad-request"),
    ({"channels": ["fax"]}, "bad-request"),
    ({"discountCode": "no spaces"}, "bad-request"),
    ({"attributionWindowDays": 0}, "bad-request"),
    ({"targeted": 5}, "bad-request"),
]


def test_a_bad_campaign_is_400_and_sends_nothing(call: Call, table_name: str) -> None:
    for change, code in BAD_CAMPAIGNS:
        body = {
            "name": "Spring",
            "segment": "champions",
            "subject": "Hi {{ first_name }}",
            "body": "Hello",
            "channels": ["email"],
            **change,
        }
        answer = call("POST", "/admin/campaigns", claims=ADMIN, body=body)
        assert answer.status == 400, (change, answer)
        assert answer.body["type"].rsplit("/", 1)[-1] == code, change
    assert entities(table_name, "Campaign") == 0


def test_campaigns_are_for_admins(call: Call) -> None:
    body = {"name": "S", "segment": "lost", "subject": "Hi", "body": "B", "channels": ["email"]}
    assert call("POST", "/admin/campaigns", claims=SUPPORT, body=body).status == 403
    made = call("POST", "/admin/campaigns", claims=ADMIN, body={**body, "discountCode": "back15"})
    assert made.status == 202
    assert (made.body["status"], made.body["discountCode"], made.body["attributionWindowDays"]) == (
        "launching",
        "BACK15",
        14,
    )
    got = call("GET", "/admin/campaigns/{campaignId}", claims=ADMIN, campaignId=made.body["campaignId"])
    assert got.body["counts"]["targeted"] is None
    assert call("GET", "/admin/campaigns/{campaignId}", claims=ADMIN, campaignId="nope").status == 404
