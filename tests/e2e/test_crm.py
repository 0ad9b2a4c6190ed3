"""The CRM through the running shop: a customer's record filled from the order's events, support tickets private
to their customer with every staff reply reaching the customer, and a campaign that reaches exactly the consenting
members of its segment and counts what it brought in."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import pytest

from tests.conftest import ROOT, TEMPLATE
from tests.support.saga import ADDRESS, add_to_cart, checkout, new_product, wait_for, wait_until
from tests.support.shop import Customer, Shop

pytestmark = pytest.mark.usefixtures("shop")


def user_id(shop: Shop, customer: Customer) -> str:
    return str(shop.get("/me", token=customer.token).json()["userId"])


def customer_record(shop: Shop, staff: Customer, uid: str) -> dict[str, Any] | None:
    r = shop.get(f"/admin/customers/{uid}", token=staff.token)
    return dict(r.json()) if r.status_code == 200 else None


def recompute_segments(shop: Shop) -> None:
    """What the hourly schedule does, now (`gears invoke` against the running shop)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gears.cli",
            "--template",
            str(TEMPLATE),
            "--state-dir",
            str(shop.state_dir),
            "invoke",
            "CrmSegmentsFunction",
            "--event",
            str(ROOT / "events" / "CrmSegmentsFunction" / "scheduled.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def emails_to(shop: Shop, email: str, text: str) -> list[dict[str, Any]]:
    return [m for m in shop.mail_for(email) if m.get("via") != "cognito" and text in m["subject"] + m["body"]]


def test_a_customers_record_is_built_from_the_orders_events(shop: Shop) -> None:
    admin = shop.admin()
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    r = shop.post("/auth/signup", json={"email": email, "password": "Sup3rSecret!x", "name": "Grace Hopper"})
    assert r.status_code in (200, 201, 202), r.text
    assert shop.post("/auth/confirm", json={"email": email, "code": shop.code_for(email)}).status_code in (200, 204)
    customer = Customer(email, "Sup3rSecret!x", shop.login(email, "Sup3rSecret!x"))
    uid = user_id(shop, customer)
    product = new_product(shop, admin, on_hand=2, price=2500)
    add_to_cart(shop, customer, product["productId"], 1)
    order_id = checkout(shop, customer)
    order = wait_for(shop, customer.token, order_id, "PAID")

    def paid_record() -> dict[str, Any] | None:
        found = customer_record(shop, admin, uid)
        return found if found and found["orders"]["paid"] == 1 else None

    record = wait_until(paid_record, "the CRM to count the paid order")
    assert (record["email"], record["name"]) == (email, "Grace Hopper")
    assert record["orders"]["spent"] == order["total"]
    assert record["lifetimeValue"] == order["total"]
    assert record["orders"]["firstOrderAt"]
    assert record["orders"]["lastOrderAt"]
    kinds = [t["kind"] for t in record["timeline"]]
    assert {"registered", "order-placed", "order-paid"} <= set(kinds), kinds
    # A customer cannot read the CRM.
    assert shop.get(f"/admin/customers/{uid}", token=customer.token).status_code == 403


def test_a_ticket_is_private_and_every_staff_reply_reaches_the_customer(shop: Shop) -> None:
    admin = shop.admin()
    customer, stranger = shop.new_customer(), shop.new_customer()
    r = shop.post(
        "/support/tickets",
        json={"subject": "Where is my teapot?", "message": "It has been a week."},
        token=customer.token,
    )
    assert r.status_code == 201, r.text
    ticket = r.json()["ticketId"]
    assert shop.get(f"/support/tickets/{ticket}", token=stranger.token).status_code == 404
    r = shop.post(f"/support/tickets/{ticket}/messages", json={"text": "Hello?"}, token=stranger.token)
    assert r.status_code == 404
    assert ticket not in [t["ticketId"] for t in shop.get("/support/tickets", token=stranger.token).json()["items"]]

    reply = f"It left our warehouse today ({uuid.uuid4().hex[:6]})."
    r = shop.post(f"/admin/tickets/{ticket}/messages", json={"text": reply}, token=admin.token)
    assert r.status_code in (200, 201), r.text
    mail = wait_until(lambda: emails_to(shop, customer.email, reply), "the reply to reach the customer by email")
    assert len(mail) == 1
    assert "Where is my teapot?" in mail[0]["subject"]
    seen = shop.get(f"/support/tickets/{ticket}", token=customer.token).json()
    assert [m["by"] for m in seen["messages"]] == ["customer", "staff"]
    assert seen["status"] == "pending"
    r = shop.put(f"/admin/tickets/{ticket}", json={"status": "closed"}, token=admin.token)
    assert r.status_code == 200, r.text
    assert shop.get(f"/support/tickets/{ticket}", token=customer.token).json()["status"] == "closed"
    # A customer cannot answer as staff.
    assert shop.post(f"/admin/tickets/{ticket}/messages", json={"text": "x"}, token=customer.token).status_code == 403


def test_a_campaign_reaches_exactly_the_consenting_members_and_counts_what_it_brought(shop: Shop) -> None:
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=20, price=3000)
    members = [shop.new_customer() for _ in range(4)]
    consenting, refusing = members[:2], members[2:]
    for customer in consenting:
        r = shop.put(
            "/me/notification-preferences",
            json={"marketing": {"consent": True, "source": "e2e-checkbox"}},
            token=customer.token,
        )
        assert r.status_code == 200, r.text
    ids = {c.email: user_id(shop, c) for c in members}
    for customer in members:
        add_to_cart(shop, customer, product["productId"], 1)
        wait_for(shop, customer.token, checkout(shop, customer), "PAID")
    wait_until(
        lambda: all((customer_record(shop, admin, u) or {}).get("orders", {}).get("paid") == 1 for u in ids.values()),
        "the CRM to count every member's order",
    )
    recompute_segments(shop)
    # Where each member lands depends on everyone else's orders in this shop (quintiles); the campaign targets the
    # first consenting member's segment, and who of the four is in it decides who must hear of it.
    segment_of = {u: customer_record(shop, admin, u)["rfm"]["segment"] for u in ids.values()}  # type: ignore[index]
    segment = segment_of[ids[consenting[0].email]]
    in_segment = {c.email for c in members if segment_of[ids[c.email]] == segment}
    sizes = {s["segment"]: s for s in shop.get("/admin/segments", token=admin.token).json()["segments"]}
    assert sizes[segment]["customers"] >= len(in_segment)

    code = f"CAMP{uuid.uuid4().hex[:6].upper()}"
    r = shop.post("/admin/discounts", json={"code": code, "percentOff": 10, "usageLimit": 100}, token=admin.token)
    assert r.status_code == 201, r.text
    marker = uuid.uuid4().hex[:8]
    campaign = {
        "name": f"Spring {marker}",
        "segment": segment,
        "subject": "A spring gift for {{ first_name or 'you' }}",
        "body": f"Use {{{{ discount_code }}}} for 10% off ({marker}).",
        "channels": ["email"],
        "discountCode": code,
        "attributionWindowDays": 7,
    }
    r = shop.post("/admin/campaigns", json=campaign, token=admin.token)
    assert r.status_code == 202, r.text
    campaign_id = r.json()["campaignId"]

    def settled() -> dict[str, Any] | None:
        c = shop.get(f"/admin/campaigns/{campaign_id}", token=admin.token).json()
        counts = c["counts"]
        done = c["targeted"] is not None and counts["sent"] + counts["suppressed"] + counts["failed"] == c["targeted"]
        return dict(c) if done else None

    report = wait_until(settled, "every member's outcome counted")
    assert report["targeted"] >= len(in_segment)
    hearing = [c for c in consenting if c.email in in_segment]
    for customer in hearing:
        got = wait_until(lambda c=customer: emails_to(shop, c.email, marker), f"the campaign mail to {customer.email}")
        assert len(got) == 1
        assert code in got[0]["body"]
    for customer in members:
        if customer not in hearing:  # refused marketing, or in another segment
            assert emails_to(shop, customer.email, marker) == []
    assert report["counts"]["sent"] >= len(hearing)
    assert report["counts"]["suppressed"] >= len([c for c in refusing if c.email in in_segment])

    # A recipient buys with the campaign's code: the campaign is credited with the order.
    buyer = consenting[0]
    add_to_cart(shop, buyer, product["productId"], 1)
    r = shop.post(
        "/checkout",
        json={"shippingAddress": ADDRESS, "paymentMethod": "pm_card_visa", "discountCode": code},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        token=buyer.token,
    )
    assert r.status_code == 202, r.text
    paid = wait_for(shop, buyer.token, r.json()["orderId"], "PAID")
    credited = wait_until(
        lambda: (
            (c := shop.get(f"/admin/campaigns/{campaign_id}", token=admin.token).json())["attribution"]["orders"] >= 1
            and c
        ),
        "the order attributed to the campaign",
    )
    assert credited["attribution"]["revenue"]["amount"] >= paid["total"]["amount"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"segment": "big-spenders"}, 400),
        ({"body": ""}, 400),
        ({"body": "x" * 1_000_000}, 413),
        ({"body": "Hello {{ name "}, 400),
        ({"body": "{{ ''.__class__.__mro__ }}"}, 400),
        ({"channels": []}, 400),
    ],
)
def test_a_bad_campaign_is_a_clear_4xx_and_sends_nothing(shop: Shop, change: dict[str, Any], status: int) -> None:
    admin = shop.admin()
    campaign = {"name": "Bad", "segment": "champions", "subject": "Hi", "body": "Hello", "channels": ["email"]}
    r = shop.post("/admin/campaigns", json={**campaign, **change}, token=admin.token)
    assert r.status_code in (status, 400, 413, 422), r.text
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")
