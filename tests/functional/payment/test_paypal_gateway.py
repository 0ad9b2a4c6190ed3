"""The PayPal adapter through PayPal's unmodified SDK against the local PayPal-compatible endpoint
(:mod:`gears.local.paypal_emulator`): the order made, approved on PayPal's page (plain HTTP, as a browser), captured
once however often asked, declined, refunded in parts; webhooks delivered with PayPal's headers and confirmed by
its verify API only as they were sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from gears.local.paypal_emulator import PayPalControl, start_paypal_emulator
from payment.domain import Money
from payment.errors import InvalidWebhook, ProviderRejected, ProviderUnavailable
from payment.paypal_gateway import PayPalGateway
from payment.service import NOTHING_LEFT, REFUND_TOO_LARGE, EventChange, ProviderRef

SECRETS = {"/id": "cid", "/secret": "csecret", "/webhook": "WH-TEST"}


class Hook:
    """A webhook endpoint that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def hook() -> Iterator[Hook]:
    found = Hook()
    yield found
    found.server.shutdown()


@pytest.fixture
def paypal(monkeypatch: pytest.MonkeyPatch, hook: Hook) -> Iterator[tuple[PayPalGateway, PayPalControl, str]]:
    server, base = start_paypal_emulator("127.0.0.1", 0, hook.url, "cid", "csecret", "WH-TEST")
    monkeypatch.setenv("PAYPAL_API_BASE", base)
    monkeypatch.setenv("PAYPAL_CLIENT_ID_PARAMETER", "/id")
    monkeypatch.setenv("PAYPAL_CLIENT_SECRET_PARAMETER", "/secret")
    monkeypatch.setenv("PAYPAL_WEBHOOK_ID_PARAMETER", "/webhook")
    monkeypatch.setenv("PAYPAL_TIMEOUT_SECONDS", "2")
    gateway = PayPalGateway(secret=SECRETS.__getitem__, public_url=lambda: "https://shop.test")
    yield gateway, PayPalControl(base), base
    server.shutdown()
    server.server_close()


def start(gateway: PayPalGateway, order_id: str = "o-1", amount: int = 2498) -> Any:
    return gateway.charge(
        order_id=order_id,
        user_id="u1",
        amount=Money(amount, "GBP"),
        payment_method="paypal",
        idempotency_key=f"k-{order_id}",
    )


def approve_in_page(approval_url: str, funding: str = "balance") -> requests.Response:
    page = requests.get(approval_url, timeout=5)
    assert page.status_code == 200
    assert 'action="/checkoutnow/approve"' in page.text
    token = approval_url.split("token=", 1)[1]
    base = approval_url.split("/checkoutnow", 1)[0]
    return requests.post(
        f"{base}/checkoutnow/approve", data={"token": token, "funding": funding}, allow_redirects=False, timeout=5
    )


def test_an_order_is_made_for_its_buyer_to_approve_and_the_same_key_is_the_same_order(paypal) -> None:
    gateway, control, base = paypal
    made = start(gateway)
    assert made.waiting
    assert made.approval_url == f"{base}/checkoutnow?token={made.payment_intent_id}"
    assert start(gateway).payment_intent_id == made.payment_intent_id  # PayPal-Request-Id
    [held] = control.orders("o-1")
    assert held["purchase_units"][0]["amount"] == {"currency_code": "GBP", "value": "24.98"}
    assert (held["purchase_units"][0]["custom_id"], held["status"]) == ("o-1", "PAYER_ACTION_REQUIRED")


def test_approved_on_the_page_it_is_captured_once_however_often_asked(paypal) -> None:
    gateway, control, _ = paypal
    made = start(gateway)
    ref = ProviderRef(str(made.payment_intent_id))
    assert gateway.capture(ref, idempotency_key="cap-o-1").waiting  # not approved yet
    back = approve_in_page(str(made.approval_url))
    assert back.status_code == 303
    assert back.headers["Location"].startswith("https://shop.test/payments/paypal/return?orderId=o-1&token=")
    assert "PayerID=" in back.headers["Location"]
    assert gateway.status(ref).approved
    first = gateway.capture(ref, idempotency_key="cap-o-1")
    again = gateway.capture(ref, idempotency_key="cap-o-1")
    other_key = gateway.capture(ref, idempotency_key="cap-other")  # ORDER_ALREADY_CAPTURED: what PayPal holds
    assert first.succeeded
    assert first.amount_received == 2498
    assert again.capture_id == first.capture_id == other_key.capture_id
    captures = control.orders("o-1")[0]["purchase_units"][0]["payments"]["captures"]
    assert len(captures) == 1


def test_a_declined_funding_fails_the_capture(paypal) -> None:
    gateway, _, _ = paypal
    made = start(gateway)
    approve_in_page(str(made.approval_url), funding="declined")
    declined = gateway.capture(ProviderRef(str(made.payment_intent_id)), idempotency_key="cap")
    assert not declined.succeeded
    assert declined.failure is not None
    assert declined.failure.reason == "instrument_declined"


def test_refunds_go_through_the_capture_in_parts_and_never_past_it(paypal) -> None:
    gateway, control, _ = paypal
    made = start(gateway)
    control.approve(str(made.payment_intent_id))
    captured = gateway.capture(ProviderRef(str(made.payment_intent_id)), idempotency_key="cap")
    ref = ProviderRef(str(made.payment_intent_id), captured.capture_id, "GBP")
    meta = {"orderId": "o-1", "kind": "admin", "reason": "damaged"}
    part = gateway.refund(ref, amount=1000, idempotency_key="r1", metadata=meta)
    assert (part.amount, part.status, part.payment_intent_id) == (1000, "succeeded", captured.capture_id)
    assert part.metadata == {"orderId": "o-1", "kind": "admin", "reason": "damaged"}
    assert gateway.refund(ref, amount=1000, idempotency_key="r1", metadata=meta).refund_id == part.refund_id
    with pytest.raises(ProviderRejected) as too_much:
        gateway.refund(ref, amount=5000, idempotency_key="r2", metadata=meta)
    assert too_much.value.provider_code == REFUND_TOO_LARGE
    rest = gateway.refund(ref, amount=None, idempotency_key="r3", metadata=meta)
    assert rest.amount == 1498
    with pytest.raises(ProviderRejected) as nothing:
        gateway.refund(ref, amount=None, idempotency_key="r4", metadata=meta)
    assert nothing.value.provider_code == NOTHING_LEFT
    assert control.orders("o-1")[0]["purchase_units"][0]["payments"]["captures"][0]["status"] == "REFUNDED"


def test_webhooks_are_confirmed_only_as_they_were_sent(paypal, hook: Hook) -> None:
    gateway, control, _ = paypal
    made = start(gateway)
    control.approve(str(made.payment_intent_id))
    gateway.capture(ProviderRef(str(made.payment_intent_id)), idempotency_key="cap")
    for _ in range(100):
        if len(hook.received) >= 2:
            break
        threading.Event().wait(0.05)
    (approved_headers, approved_body), (captured_headers, captured_body) = hook.received[:2]
    approved = gateway.verify_webhook(approved_body.decode(), approved_headers)
    assert (approved.change, approved.order_id, approved.payment_id) == (
        EventChange.APPROVED,
        "o-1",
        made.payment_intent_id,
    )
    captured = gateway.verify_webhook(captured_body.decode(), captured_headers)
    assert (captured.change, captured.order_id, captured.received) == (EventChange.SUCCEEDED, "o-1", 2498)

    altered = json.loads(captured_body)
    altered["resource"]["amount"]["value"] = "0.01"
    with pytest.raises(InvalidWebhook):
        gateway.verify_webhook(json.dumps(altered, separators=(",", ":")), captured_headers)
    with pytest.raises(InvalidWebhook):
        gateway.verify_webhook(captured_body.decode(), {**captured_headers, "paypal-transmission-sig": "Zm9yZ2Vk"})
    with pytest.raises(InvalidWebhook):
        gateway.verify_webhook(
            captured_body.decode(), {**captured_headers, "paypal-transmission-time": "2020-01-01T00:00:00Z"}
        )
    with pytest.raises(InvalidWebhook):
        gateway.verify_webhook(captured_body.decode(), {})


def test_paypal_failing_or_hanging_is_unavailable_and_the_retry_gets_the_first_answer(paypal) -> None:
    gateway, control, _ = paypal
    control.set_fault("error", 1)
    with pytest.raises(ProviderUnavailable):
        start(gateway)
    assert control.orders("o-1") == []  # an error fault does nothing
    control.set_fault("timeout", 1, 3.0)
    with pytest.raises(ProviderUnavailable):
        start(gateway, "o-2")
    made = start(gateway, "o-2")  # the same key: the order made before the hang, not a second one
    assert made.waiting
    assert len(control.orders("o-2")) == 1


def test_the_wrong_credentials_are_unavailable_not_a_refusal(paypal) -> None:
    _, _, _ = paypal
    gateway = PayPalGateway(
        secret={"/id": "cid", "/secret": "wrong"}.__getitem__, public_url=lambda: "https://shop.test"
    )
    with pytest.raises(ProviderUnavailable):
        start(gateway)
