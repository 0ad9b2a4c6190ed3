"""The Stripe emulator, driven by the unmodified stripe SDK (over loopback HTTP; no other network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from gears.local.stripe_emulator import EmulatorControl, decode_form, sign, start_stripe_emulator

SECRET = "whsec_unit_test"


@pytest.fixture
def hooks() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    got: list[tuple[str, str]] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(
                (self.rfile.read(int(self.headers["Content-Length"])).decode(), self.headers["Stripe-Signature"])
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


@pytest.fixture
def base(hooks: tuple[str, list[tuple[str, str]]]) -> Iterator[str]:
    server, url = start_stripe_emulator("127.0.0.1", 0, hooks[0], SECRET)
    yield url
    server.shutdown()
    server.server_close()


def client(base: str, key: str = "sk_test_unit", timeout: float = 5) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": base}, max_network_retries=0, http_client=stripe.RequestsClient(timeout=timeout)
    )


def pay(c: stripe.StripeClient, method: str = "pm_card_visa", key: str | None = None, amount: int = 1000) -> Any:
    params: dict[str, Any] = {
        "amount": amount,
        "currency": "gbp",
        "confirm": True,
        "payment_method": method,
        "metadata": {"orderId": "o1"},
    }
    return c.v1.payment_intents.create(params=params, options={"idempotency_key": key} if key else {})


def test_forms_decode_nested_keys_and_lists() -> None:
    assert decode_form("metadata[orderId]=o1&expand[0]=a&expand[1]=b&amount=5") == {
        "metadata": {"orderId": "o1"},
        "expand": ["a", "b"],
        "amount": "5",
    }


def test_visa_succeeds_and_can_be_retrieved(base: str) -> None:
    c = client(base)
    intent = pay(c)
    assert (intent.status, intent.amount_received, intent.metadata["orderId"]) == ("succeeded", 1000, "o1")
    assert c.v1.payment_intents.retrieve(intent.id).status == "succeeded"


@pytest.mark.parametrize(
    ("method", "decline"),
    [("pm_card_chargeDeclined", "generic_decline"), ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds")],
)
def test_declines_are_402_card_errors_with_the_intent(base: str, method: str, decline: str) -> None:
    with pytest.raises(stripe.CardError) as caught:
        pay(client(base), method)
    error = caught.value.json_body["error"]  # type: ignore[index]
    assert (caught.value.http_status, caught.value.code, error["decline_code"]) == (402, "card_declined", decline)
    assert error["payment_intent"]["status"] == "requires_payment_method"


def test_a_declined_intent_can_be_confirmed_again_or_cancelled(base: str) -> None:
    c = client(base)
    with pytest.raises(stripe.CardError) as caught:
        pay(c, "pm_card_chargeDeclined")
    intent_id = caught.value.json_body["error"]["payment_intent"]["id"]  # type: ignore[index]
    assert c.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"}).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError):
        c.v1.payment_intents.cancel(intent_id)  # succeeded: too late to cancel
    with pytest.raises(stripe.CardError) as again:
        pay(c, "pm_card_chargeDeclined")
    other = again.value.json_body["error"]["payment_intent"]["id"]  # type: ignore[index]
    assert c.v1.payment_intents.cancel(other).status == "canceled"


def test_a_bad_key_is_401(base: str) -> None:
    with pytest.raises(stripe.AuthenticationError):
        pay(client(base, key="sk_live_nope"))


def test_idempotency_replays_and_refuses_other_parameters(base: str) -> None:
    c = client(base)
    first = pay(c, key="k-1")
    assert pay(c, key="k-1").id == first.id
    with pytest.raises(stripe.IdempotencyError):
        pay(c, key="k-1", amount=999)
    with pytest.raises(stripe.CardError) as declined:
        pay(c, "pm_card_chargeDeclined", key="k-2")
    with pytest.raises(stripe.CardError) as replayed:
        pay(c, "pm_card_chargeDeclined", key="k-2")
    assert replayed.value.json_body == declined.value.json_body  # the same decline, not a second attempt


def test_refunds_full_partial_and_never_more_than_charged(base: str) -> None:
    c = client(base)
    intent = pay(c, amount=1000)
    part = c.v1.refunds.create(params={"payment_intent": intent.id, "amount": 400})
    with pytest.raises(stripe.InvalidRequestError) as over:
        c.v1.refunds.create(params={"payment_intent": intent.id, "amount": 601})
    rest = c.v1.refunds.create(params={"payment_intent": intent.id})
    assert (part.amount, rest.amount, over.value.code, over.value.http_status) == (400, 600, "amount_too_large", 400)
    assert c.v1.refunds.retrieve(rest.id).status == "succeeded"
    assert {r.id for r in c.v1.refunds.list(params={"payment_intent": intent.id}).data} == {part.id, rest.id}


def test_faults_error_then_timeout_then_recover(base: str) -> None:
    c = client(base, timeout=0.5)
    EmulatorControl(base).set_fault("error", 1)
    with pytest.raises(stripe.APIError):
        pay(c, key="k-f")
    EmulatorControl(base).set_fault("timeout", 1, delay=2)
    with pytest.raises(stripe.APIConnectionError):
        pay(c, key="k-f")
    assert pay(c, key="k-f").status == "succeeded"
    assert len(EmulatorControl(base).intents("o1")) == 1  # the timed-out call charged; the retry replayed it


def test_webhooks_are_signed_and_verify_with_the_sdk(base: str, hooks: tuple[str, list[tuple[str, str]]]) -> None:
    pay(client(base))
    deadline = time.monotonic() + 5
    while not hooks[1] and time.monotonic() < deadline:
        time.sleep(0.02)
    body, signature = hooks[1][0]
    event = stripe.Webhook.construct_event(body, signature, SECRET)
    assert event.type == "payment_intent.succeeded"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sign(body, "whsec_other"), SECRET)
    replay = EmulatorControl(base).control("POST", f"webhooks/replay/{event.id}")
    assert replay["delivered"] is True
    assert len([b for b, _ in hooks[1] if json.loads(b)["id"] == event.id]) == 2


def test_held_webhooks_wait_for_the_endpoint_and_then_all_go_out_in_order(
    base: str, hooks: tuple[str, list[tuple[str, str]]]
) -> None:
    control = EmulatorControl(base)
    assert control.hold_webhooks(True) == {"hold": True}
    first, second = pay(client(base)), pay(client(base), amount=2000)
    time.sleep(1.0)
    assert hooks[1] == []  # the endpoint is down: nothing went out

    assert control.hold_webhooks(False) == {"hold": False}
    deadline = time.monotonic() + 5
    while len(hooks[1]) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    told = [json.loads(body)["data"]["object"]["id"] for body, _ in hooks[1]]
    assert told == [first.id, second.id]
    with pytest.raises(Exception, match="400"):
        control.control("POST", "webhooks/hold", {"hold": "yes"})


def test_a_client_that_resets_its_connection_is_not_reported_as_an_error(
    base: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import struct
    from urllib.parse import urlsplit

    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port)) as conn:
        conn.sendall(b"POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\n")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    time.sleep(0.3)
    assert "Traceback" not in capsys.readouterr().err
    assert pay(client(base)).status == "succeeded"  # and it goes on serving
