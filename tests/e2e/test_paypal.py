"""PayPal beside Stripe, end to end through the running shop and its PayPal-compatible endpoint
(:mod:`gears.local.paypal_emulator`), paid the way a browser pays: the checkout's approval link, PayPal's page and
its buttons, PayPal's redirect back to the shop.

Approved ends PAID with one capture; cancelled on PayPal's page and abandoned (the e2e shop gives a buyer
``PayPalApprovalTimeoutSeconds`` = 60) end CANCELLED with the stock back; a refund goes back through the capture; a
forged or replayed webhook changes nothing; a capture whose answer is lost (PayPal hangs after taking the money)
converges to one capture.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from gears.local.faults import CrashFault, FaultBoard
from gears.local.paypal_emulator import PayPalControl
from tests.support.saga import ADDRESS, add_to_cart, new_product, path_of, refund, stock, wait_for, wait_until
from tests.support.shop import Customer, Shop

APPROVAL_TIMEOUT_S = 60  # the e2e shop's PayPalApprovalTimeoutSeconds (tests/support/shop.py)


def paypal(shop: Shop) -> PayPalControl:
    return PayPalControl(shop.state["paypal"])


def paypal_checkout(shop: Shop, customer: Customer) -> dict[str, Any]:
    r = shop.post(
        "/checkout",
        json={"shippingAddress": ADDRESS, "paymentMethod": "paypal"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        token=customer.token,
    )
    assert r.status_code == 202, r.text
    receipt = dict(r.json())
    assert receipt["payment"]["method"] == "paypal", receipt
    assert receipt["payment"]["approvalUrl"].startswith(shop.api + "/payments/paypal/approve?orderId="), receipt
    return receipt


def paypal_page(receipt: dict[str, Any]) -> str:
    """Follow the checkout's approval link as a browser does until it lands on PayPal's page: its URL."""

    def forwarded() -> str | None:
        r = requests.get(receipt["payment"]["approvalUrl"], allow_redirects=False, timeout=10)
        if r.status_code == 303:
            return str(r.headers["Location"])
        assert r.status_code == 202, (r.status_code, r.text)
        assert r.headers.get("Retry-After") == "1", r.headers
        return None

    page = wait_until(forwarded, "the shop to send the buyer to PayPal", deadline_s=60)
    assert "/checkoutnow?token=" in page, page
    return str(page)


def press(page: str, button: str, funding: str = "balance") -> requests.Response:
    """Open PayPal's page and press one of its buttons (``approve`` or ``cancel``), following PayPal's redirect back
    to the shop: the shop's answer."""
    shown = requests.get(page, timeout=10)
    assert shown.status_code == 200, shown.text[:500]
    assert "text/html" in shown.headers["Content-Type"], shown.headers
    assert f"/checkoutnow/{button}" in shown.text, shown.text[:2000]
    token = page.split("token=", 1)[1].split("&", 1)[0]
    base = "{0.scheme}://{0.netloc}".format(urlsplit(page))
    data = {"token": token, "funding": funding} if button == "approve" else {"token": token}
    return requests.post(f"{base}/checkoutnow/{button}", data=data, timeout=30)


def payment_of(shop: Shop, customer: Customer, order_id: str) -> dict[str, Any]:
    r = shop.get(f"/orders/{order_id}/payment", token=customer.token)
    assert r.status_code == 200, r.text
    return dict(r.json())


def one_captured_order(shop: Shop, order_id: str) -> dict[str, Any]:
    """PayPal's one order for ours, with exactly one capture."""
    orders = paypal(shop).orders(order_id)
    assert len(orders) == 1, orders
    captures = orders[0]["purchase_units"][0].get("payments", {}).get("captures", [])
    assert len(captures) == 1, orders[0]
    return dict(orders[0])


def waiting_buyer(shop: Shop, on_hand: int = 5) -> tuple[Customer, dict[str, Any], dict[str, Any], Customer]:
    """A customer who checked out one unit with PayPal: the customer, the product, the receipt, the admin."""
    admin = shop.admin()
    product = new_product(shop, admin, on_hand=on_hand, price=1999)
    customer = shop.new_customer()
    add_to_cart(shop, customer, product["productId"], 1)
    return customer, product, paypal_checkout(shop, customer), admin


def test_a_paypal_checkout_approved_on_paypals_page_ends_paid_with_one_capture(shop: Shop) -> None:
    customer, product, receipt, admin = waiting_buyer(shop)
    order_id = receipt["orderId"]
    page = paypal_page(receipt)
    waiting = wait_for(shop, customer.token, order_id, "AWAITING_PAYMENT")
    assert stock(shop, admin, product["sku"])["reserved"] == 1, waiting

    back = press(page, "approve")
    assert back.status_code == 200, back.text
    assert back.url.startswith(shop.api + "/payments/paypal/return"), back.url
    paid = wait_for(shop, customer.token, order_id, "PAID", "CANCELLED")
    assert paid["status"] == "PAID", paid
    assert path_of(paid) == ["PENDING", "CONFIRMED", "AWAITING_PAYMENT", "PAID"]
    payment = payment_of(shop, customer, order_id)
    assert (payment["status"], payment["provider"], payment["charged"]["amount"]) == ("SUCCEEDED", "paypal", 1999 + 499)
    held = one_captured_order(shop, order_id)
    assert held["id"] == payment["paymentIntentId"]
    assert held["purchase_units"][0]["payments"]["captures"][0]["id"] == payment["captureId"]
    assert held["purchase_units"][0]["amount"] == {"currency_code": "GBP", "value": "24.98"}  # the server's total
    wait_until(lambda: stock(shop, admin, product["sku"])["onHand"] == 4, "the reservation committed")


def test_a_buyer_who_cancels_on_paypals_page_ends_cancelled_with_the_stock_back(shop: Shop) -> None:
    customer, product, receipt, admin = waiting_buyer(shop)
    order_id = receipt["orderId"]
    back = press(paypal_page(receipt), "cancel")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "FAILED", back.text
    cancelled = wait_for(shop, customer.token, order_id, "CANCELLED", "PAID")
    assert cancelled["status"] == "CANCELLED", cancelled
    assert payment_of(shop, customer, order_id)["failure"]["reason"] == "buyer_cancelled"
    level = wait_until(lambda: (s := stock(shop, admin, product["sku"]))["reserved"] == 0 and s, "the stock released")
    assert (level["onHand"], level["available"]) == (5, 5)
    orders = paypal(shop).orders(order_id)
    assert len(orders) == 1, orders
    assert not orders[0]["purchase_units"][0].get("payments"), orders  # nothing captured


def test_a_buyer_who_never_approves_ends_cancelled_after_the_wait(shop: Shop) -> None:
    customer, product, receipt, admin = waiting_buyer(shop)
    order_id = receipt["orderId"]
    paypal_page(receipt)  # the buyer is sent to PayPal, and never comes back
    payment = wait_until(
        lambda: (p := payment_of(shop, customer, order_id))["status"] == "AWAITING_APPROVAL" and p,
        "the PayPal order made",
    )
    assert payment["approvalExpiresAt"], payment
    cancelled = wait_for(shop, customer.token, order_id, "CANCELLED", "PAID", deadline_s=APPROVAL_TIMEOUT_S + 60)
    assert cancelled["status"] == "CANCELLED", cancelled
    failed = payment_of(shop, customer, order_id)
    assert failed["failure"]["reason"] == "approval_expired", failed
    expired_at = datetime.fromisoformat(failed["updatedAt"].replace("Z", "+00:00"))
    assert expired_at >= datetime.fromisoformat(payment["approvalExpiresAt"].replace("Z", "+00:00"))
    wait_until(lambda: stock(shop, admin, product["sku"])["reserved"] == 0, "the stock released")
    assert stock(shop, admin, product["sku"])["available"] == 5


def test_a_refund_through_paypal_moves_the_order_to_refunded(shop: Shop) -> None:
    customer, _, receipt, admin = waiting_buyer(shop)
    order_id = receipt["orderId"]
    press(paypal_page(receipt), "approve")
    wait_for(shop, customer.token, order_id, "PAID")
    refund(shop, admin, order_id, 500)
    refund(shop, admin, order_id)  # the rest
    refunded = wait_for(shop, customer.token, order_id, "REFUNDED")
    assert refunded["status"] == "REFUNDED"
    payment = payment_of(shop, customer, order_id)
    assert (payment["status"], payment["refunded"]["amount"]) == ("REFUNDED", 2498)
    assert sorted(r["amount"]["amount"] for r in payment["refunds"]) == [500, 1998]
    capture = one_captured_order(shop, order_id)["purchase_units"][0]["payments"]["captures"][0]
    assert capture["status"] == "REFUNDED", capture


def test_a_forged_or_replayed_paypal_webhook_changes_nothing(shop: Shop) -> None:
    customer, _, receipt, _ = waiting_buyer(shop)
    order_id = receipt["orderId"]
    page = paypal_page(receipt)
    waiting = wait_until(
        lambda: (p := payment_of(shop, customer, order_id))["status"] == "AWAITING_APPROVAL" and p, "the PayPal order"
    )
    forged_event = {
        "id": "WH-FORGED-" + uuid.uuid4().hex,
        "event_version": "1.0",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource_type": "capture",
        "resource": {
            "id": "FORGEDCAPTURE",
            "status": "COMPLETED",
            "amount": {"currency_code": "GBP", "value": "24.98"},
            "custom_id": order_id,
            "supplementary_data": {"related_ids": {"order_id": waiting["paymentIntentId"]}},
        },
    }
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    forged = requests.post(
        shop.api + "/payments/webhooks/paypal",
        data=json.dumps(forged_event, separators=(",", ":")),
        headers={
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": str(uuid.uuid4()),
            "PAYPAL-TRANSMISSION-TIME": now,
            "PAYPAL-TRANSMISSION-SIG": "Zm9yZ2Vk",
            "PAYPAL-CERT-URL": shop.state["paypal"] + "/v1/notifications/certs/CERT-LOCAL",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        },
        timeout=30,
    )
    assert forged.status_code == 400, forged.text
    assert payment_of(shop, customer, order_id)["status"] == "AWAITING_APPROVAL"

    press(page, "approve")
    wait_for(shop, customer.token, order_id, "PAID")
    approved = wait_until(
        lambda: [
            e
            for e in paypal(shop).events()
            if e["event_type"] == "CHECKOUT.ORDER.APPROVED"
            and e["resource"]["id"] == waiting["paymentIntentId"]
            and e["delivery"]["delivered"]
        ],
        "PayPal's approval webhook delivered",
    )
    replayed = paypal(shop).replay(approved[0]["id"])  # its original transmission, sent again
    assert replayed["status"] == 200, replayed  # accepted as the duplicate it is
    one_captured_order(shop, order_id)
    assert payment_of(shop, customer, order_id)["status"] == "SUCCEEDED"


def test_a_capture_whose_answer_is_lost_converges_to_one_capture(shop: Shop) -> None:
    """PayPal takes the money and then hangs past the shop's timeout: the buyer's return answers 502 and the payment
    stays APPROVED; PayPal's approval webhook then captures again with the same PayPal-Request-Id and gets the same
    capture back (the end of the buyer's wait would too). Webhooks are held until the return has answered, so the
    order of the two is the one under test."""
    customer, _, receipt, _ = waiting_buyer(shop)
    order_id = receipt["orderId"]
    page = paypal_page(receipt)
    control = paypal(shop)
    control.hold_webhooks(True)
    try:
        armed = control.set_fault("timeout", 1, 12.0)
        assert (armed["mode"], armed["count"]) == ("timeout", 1), armed
        back = press(page, "approve")
        assert back.status_code == 502, back.text
        assert payment_of(shop, customer, order_id)["status"] == "APPROVED"
    finally:
        control.set_fault("timeout", 0)
        control.hold_webhooks(False)
    paid = wait_for(shop, customer.token, order_id, "PAID", "CANCELLED", deadline_s=APPROVAL_TIMEOUT_S + 90)
    assert paid["status"] == "PAID", paid
    one_captured_order(shop, order_id)
    payment = payment_of(shop, customer, order_id)
    assert (payment["status"], payment["charged"]["amount"]) == ("SUCCEEDED", 2498)


def test_a_worker_dying_right_after_the_capture_converges_to_one_capture(shop: Shop) -> None:
    """The redirect function's execution environment dies right after PayPal captured (before the capture is
    recorded): the payment stays APPROVED, and PayPal's approval webhook captures again with the same key."""
    customer, _, receipt, _ = waiting_buyer(shop)
    order_id = receipt["orderId"]
    page = paypal_page(receipt)
    control = paypal(shop)
    board = FaultBoard(shop.state_dir / "faults.json")
    control.hold_webhooks(True)
    try:
        fault = board.arm(
            CrashFault("PaymentPayPalRedirectFunction", "http:POST /v2/checkout/orders/*/capture", calls=1)
        )
        back = press(page, "approve")
        assert back.status_code >= 500, back.text
        assert any(f.id == fault.id and f.fired == 1 for f in board.list()), board.list()
        assert payment_of(shop, customer, order_id)["status"] == "APPROVED"
    finally:
        board.clear()
        control.hold_webhooks(False)
    paid = wait_for(shop, customer.token, order_id, "PAID", "CANCELLED")
    assert paid["status"] == "PAID", paid
    one_captured_order(shop, order_id)
