"""The PayPal emulator, driven by PayPal's unmodified SDK (``paypal-server-sdk``) where it has a call, and by plain
HTTP where a browser or PayPal's webhook API is the client (over loopback; no other network).

The SDK is pointed at the emulator as the payment service points it: an instance-level ``environments`` mapping on its
``Configuration``."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from paypalserversdk.configuration import Configuration, Server
from paypalserversdk.exceptions.error_exception import ErrorException
from paypalserversdk.exceptions.o_auth_provider_exception import OAuthProviderException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.money import Money
from paypalserversdk.models.o_auth_token import OAuthToken
from paypalserversdk.models.order_application_context import OrderApplicationContext
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from gears.local import paypal_emulator
from gears.local.paypal_emulator import CERT_PATH, PayPalControl, PayPalServer, PayPalState, start_paypal_emulator

CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID = "unit-client", "unit-secret", "WH-UNIT"
SHOP = "https://shop.test"
POLL_S = 0.02  # how soon a test's servers notice they are shut down (the default half second, per test, adds up)


class Hook:
    """A webhook endpoint that keeps what it was sent, and answers 500 to the first ``failing`` deliveries."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failing = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append(({k.upper(): v for k, v in self.headers.items()}, body))
                failed = hook.failing > 0
                hook.failing -= 1
                self.send_response(500 if failed else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(POLL_S,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments/webhooks/paypal"

    def wait_for(self, count: int) -> list[tuple[dict[str, str], bytes]]:
        """The first ``count`` transmissions, once they have arrived (the sender is a background thread)."""
        until(lambda: len(self.received) >= count)
        return self.received[:count]


def until(ready: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def hook() -> Iterator[Hook]:
    found = Hook()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def emulator(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PayPalServer, str]]:
    monkeypatch.setattr(paypal_emulator, "WEBHOOK_BACKOFF_S", (0.01,))  # retries without the real backoff's wait
    server = PayPalServer(("127.0.0.1", 0), PayPalState(hook.url, CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID))
    threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True).start()
    yield server, server.base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def base(emulator: tuple[PayPalServer, str]) -> str:
    return emulator[1]


@pytest.fixture
def control(base: str) -> PayPalControl:
    return PayPalControl(base)


def sdk(
    base: str, secret: str = CLIENT_SECRET, timeout: float = 5, token: OAuthToken | None = None
) -> PaypalServersdkClient:
    """PayPal's SDK aimed at ``base``: the one setting the payment service's adapter makes too."""
    credentials = ClientCredentialsAuthCredentials(
        o_auth_client_id=CLIENT_ID, o_auth_client_secret=secret, o_auth_token=token
    )
    config = Configuration(client_credentials_auth_credentials=credentials, timeout=timeout)
    config.environments = {config.environment: {Server.DEFAULT: base}}
    return PaypalServersdkClient(config=config)


def order_request(
    order_id: str, value: str = "24.98", currency: str = "GBP", *, legacy: bool = False, intent: str = "CAPTURE"
) -> OrderRequest:
    """The order the payment service asks for: our order id as custom_id and invoice_id, the buyer's way back."""
    return_url = f"{SHOP}/payments/paypal/return?orderId={order_id}"
    cancel_url = f"{SHOP}/payments/paypal/cancel?orderId={order_id}"
    unit = PurchaseUnitRequest(
        amount=AmountWithBreakdown(currency_code=currency, value=value), custom_id=order_id, invoice_id=order_id
    )
    if legacy:
        context = OrderApplicationContext(return_url=return_url, cancel_url=cancel_url, user_action="PAY_NOW")
        return OrderRequest(intent=intent, purchase_units=[unit], application_context=context)
    experience = PaypalWalletExperienceContext(return_url=return_url, cancel_url=cancel_url, user_action="PAY_NOW")
    return OrderRequest(
        intent=intent,
        purchase_units=[unit],
        payment_source=PaymentSource(paypal=PaypalWallet(experience_context=experience)),
    )


def create(client: PaypalServersdkClient, order_id: str, request_id: str | None = None, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"body": order_request(order_id, **kwargs)}
    if request_id:
        options["paypal_request_id"] = request_id
    return client.orders.create_order(options)


def capture(client: PaypalServersdkClient, paypal_order_id: str, request_id: str | None = None) -> Any:
    options: dict[str, Any] = {"id": paypal_order_id}
    if request_id:
        options["paypal_request_id"] = request_id
    return client.orders.capture_order(options)


def refund(client: PaypalServersdkClient, capture_id: str, value: str | None, request_id: str, **kwargs: Any) -> Any:
    body = RefundRequest(amount=Money(currency_code=kwargs.pop("currency", "GBP"), value=value) if value else None)
    for key, given in kwargs.items():
        setattr(body, key, given)
    return client.payments.refund_captured_payment(
        {"capture_id": capture_id, "body": body, "paypal_request_id": request_id}
    )


def refused(call: Callable[[], Any]) -> tuple[int, str | None, str | None]:
    """What PayPal said no with: (HTTP status, error name, the first detail's issue)."""
    with pytest.raises(ErrorException) as caught:
        call()
    error = caught.value
    issue = error.details[0].issue if error.details else None
    return error.response_code, error.name, issue


def link(resource: Any, rel: str) -> str:
    return next(str(x.href) for x in resource.links if x.rel == rel)


def paid(client: PaypalServersdkClient, control: PayPalControl, order_id: str, value: str = "24.98") -> str:
    """An order made, approved and captured; its capture id."""
    made = create(client, order_id, value=value).body
    control.approve(made.id)
    return str(capture(client, made.id).body.purchase_units[0].payments.captures[0].id)


def bearer(base: str) -> dict[str, str]:
    token = requests.post(
        base + "/v1/oauth2/token",
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "client_credentials"},
        timeout=5,
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


class Forms(HTMLParser):
    """The page's forms as a browser sees them: action, the values it would submit, and each control's label."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.labels: list[str] = []
        self.buttons: list[str] = []
        self.lang: str | None = None
        self.title = ""
        self.links: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "form":
            self.forms.append({"action": a["action"], "method": a["method"], "fields": {}})
        elif tag == "input" and (a.get("type") != "radio" or "checked" in a):
            self.forms[-1]["fields"][a["name"]] = a["value"]
        elif tag == "a":
            self.links.append(str(a["href"]))
        if tag in ("title", "label", "button"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "label" and data.strip():
            self.labels.append(data.strip())
        elif self._in == "button":
            self.buttons.append(data.strip())


def page(url: str) -> tuple[requests.Response, Forms]:
    answer = requests.get(url, timeout=5)
    forms = Forms()
    forms.feed(answer.text)
    return answer, forms


# -- OAuth -------------------------------------------------------------------------------------------------------------
def test_the_sdk_gets_a_token_with_the_client_credentials_and_not_with_wrong_ones(base: str) -> None:
    token = sdk(base).oauth_2.fetch_token()
    assert (token.token_type, token.expires_in) == ("Bearer", 32400)
    assert token.access_token
    assert token.scope
    raw = requests.post(
        base + "/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"}, timeout=5
    ).json()
    assert set(raw) == {"scope", "access_token", "token_type", "app_id", "expires_in", "nonce"}  # the SDK keeps fewer
    with pytest.raises(OAuthProviderException) as wrong:
        sdk(base, secret="wrong").oauth_2.fetch_token()
    assert (wrong.value.response_code, wrong.value.error) == (401, "invalid_client")
    assert wrong.value.error_description == "Client Authentication failed"


def test_the_api_wants_a_token_it_issued(base: str) -> None:
    forged = OAuthToken(access_token="A21AAforged", token_type="Bearer", expiry=int(time.time()) + 3600)
    status, _, _ = refused(lambda: sdk(base, token=forged).orders.get_order({"id": "ANY"}))
    assert status == 401
    for headers in ({}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer A21AAforged"}):
        answer = requests.get(base + "/v2/checkout/orders/ANY", headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_token"
        assert answer.json()["error_description"]


# -- orders ------------------------------------------------------------------------------------------------------------
def test_an_order_is_made_for_the_buyer_to_approve_at_its_payer_action_link(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    made = create(client, "o-make")
    assert made.status_code == 200
    order = made.body
    assert (order.intent, order.status) == ("CAPTURE", "PAYER_ACTION_REQUIRED")
    unit = order.purchase_units[0]
    assert (unit.amount.currency_code, unit.amount.value, unit.custom_id, unit.invoice_id) == (
        "GBP",
        "24.98",
        "o-make",
        "o-make",
    )
    assert order.create_time
    assert [(x.rel, x.method) for x in order.links] == [
        ("self", "GET"),
        ("payer-action", "GET"),
        ("update", "PATCH"),
        ("capture", "POST"),
    ]
    assert link(order, "payer-action") == f"{base}/checkoutnow?token={order.id}"
    assert client.orders.get_order({"id": order.id}).body.status == "PAYER_ACTION_REQUIRED"
    assert [o["id"] for o in control.orders("o-make")] == [order.id]
    assert control.orders("o-other") == []


def test_the_older_application_context_gets_an_approve_link(base: str) -> None:
    order = create(sdk(base), "o-legacy", legacy=True).body
    assert order.status == "CREATED"
    assert link(order, "approve") == f"{base}/checkoutnow?token={order.id}"


def test_an_order_that_is_not_well_formed_is_refused_with_the_field(base: str) -> None:
    client = sdk(base)
    for value, currency in (("24.987", "GBP"), ("0.00", "GBP"), ("-1", "GBP"), ("ten", "GBP"), ("10.5", "JPY")):
        status, name, _ = refused(functools.partial(create, client, "o-bad", value=value, currency=currency))
        assert (status, name) == (400, "INVALID_REQUEST"), (value, currency)
    with pytest.raises(ErrorException) as bad_currency:
        create(client, "o-bad", currency="gbp")
    assert bad_currency.value.details[0].field.endswith("currency_code")
    assert create(client, "o-yen", value="1500", currency="JPY").body.purchase_units[0].amount.value == "1500"
    assert refused(lambda: create(client, "o-auth", intent="AUTHORIZE")) == (
        422,
        "UNPROCESSABLE_ENTITY",
        "UNSUPPORTED_INTENT",
    )


def test_an_unknown_order_is_not_found(base: str) -> None:
    client = sdk(base)
    assert refused(lambda: client.orders.get_order({"id": "NOSUCHORDER"})) == (
        404,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
    )
    assert refused(lambda: capture(client, "NOSUCHORDER"))[0] == 404


# -- approval ----------------------------------------------------------------------------------------------------------
def test_approved_through_the_control_api_the_order_has_its_payer(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    order = create(client, "o-ctl").body
    answer = control.approve(order.id)
    assert answer["order"]["status"] == "APPROVED"
    payer_id = answer["order"]["payer"]["payer_id"]
    assert answer["redirect"] == f"{SHOP}/payments/paypal/return?orderId=o-ctl&token={order.id}&PayerID={payer_id}"
    got = client.orders.get_order({"id": order.id}).body
    assert got.status == "APPROVED"
    assert (got.payer.payer_id, got.payer.name.given_name) == (payer_id, "Local")
    assert got.payer.email_address
    assert got.payer.name.surname
    assert got.payment_source.paypal.email_address == got.payer.email_address


def test_the_approval_page_approves_with_plain_http_and_sends_the_buyer_back(base: str) -> None:
    client = sdk(base)
    order = create(client, "o-page").body
    shown, forms = page(link(order, "payer-action"))
    assert shown.status_code == 200
    assert shown.headers["Content-Type"].startswith("text/html")
    assert forms.lang == "en"
    assert "PayPal" in forms.title
    assert "GBP 24.98" in shown.text
    pay, cancel = forms.forms
    assert (pay["action"], pay["method"], pay["fields"]) == (
        "/checkoutnow/approve",
        "post",
        {"token": order.id, "funding": "balance"},
    )
    assert (cancel["action"], cancel["fields"]) == ("/checkoutnow/cancel", {"token": order.id})
    assert forms.buttons == ["Pay with PayPal", "Cancel and return to the shop"]
    assert len(forms.labels) == 2  # each funding choice is labelled

    back = requests.post(base + pay["action"], data=pay["fields"], allow_redirects=False, timeout=5)
    assert back.status_code == 303
    got = client.orders.get_order({"id": order.id}).body
    assert got.status == "APPROVED"
    expected = f"{SHOP}/payments/paypal/return?orderId=o-page&token={order.id}&PayerID={got.payer.payer_id}"
    assert back.headers["Location"] == expected

    again, after = page(link(order, "payer-action"))
    assert again.status_code == 200
    assert after.forms == []  # nothing left to press: the page says where it stands, and the way back
    assert "approved" in again.text
    assert after.links == [expected]
    pressed_again = requests.post(base + pay["action"], data=pay["fields"], allow_redirects=False, timeout=5)
    assert pressed_again.status_code == 409
    assert client.orders.get_order({"id": order.id}).body.payer.payer_id == got.payer.payer_id


def test_cancel_on_the_page_sends_the_buyer_back_and_leaves_the_order(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    order = create(client, "o-cancel").body
    _, forms = page(link(order, "payer-action"))
    cancel = forms.forms[1]
    back = requests.post(base + cancel["action"], data=cancel["fields"], allow_redirects=False, timeout=5)
    assert back.status_code == 303
    assert back.headers["Location"] == f"{SHOP}/payments/paypal/cancel?orderId=o-cancel&token={order.id}"
    assert client.orders.get_order({"id": order.id}).body.status == "PAYER_ACTION_REQUIRED"
    redirect = control.cancel(order.id)["redirect"]
    assert redirect == back.headers["Location"]


def test_an_unknown_token_is_a_404_page(base: str) -> None:
    answer = requests.get(base + "/checkoutnow?token=NOSUCHORDER", timeout=5)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/html")
    posted = requests.post(base + "/checkoutnow/approve", data={"token": "NOSUCHORDER"}, timeout=5)
    assert posted.status_code == 404


# -- capture -----------------------------------------------------------------------------------------------------------
def test_an_approved_order_is_captured_once(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    order = create(client, "o-cap").body
    control.approve(order.id)
    captured = capture(client, order.id)
    assert captured.status_code == 201
    assert captured.body.status == "COMPLETED"
    [taken] = captured.body.purchase_units[0].payments.captures
    assert (taken.status, taken.amount.value, taken.amount.currency_code, taken.final_capture) == (
        "COMPLETED",
        "24.98",
        "GBP",
        True,
    )
    assert (taken.custom_id, taken.invoice_id) == ("o-cap", "o-cap")
    raw = json.loads(captured.text)["purchase_units"][0]["payments"]["captures"][0]  # the SDK's model drops it
    assert raw["supplementary_data"] == {"related_ids": {"order_id": order.id}}
    assert taken.create_time
    assert taken.update_time
    assert [x.rel for x in taken.links] == ["self", "refund", "up"]
    assert link(taken, "up") == f"{base}/v2/checkout/orders/{order.id}"
    assert client.payments.get_captured_payment({"capture_id": taken.id}).body.status == "COMPLETED"
    assert client.orders.get_order({"id": order.id}).body.purchase_units[0].payments.captures[0].id == taken.id

    assert refused(lambda: capture(client, order.id)) == (422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
    assert len(control.orders("o-cap")[0]["purchase_units"][0]["payments"]["captures"]) == 1


def test_an_order_not_approved_is_not_captured(base: str) -> None:
    client = sdk(base)
    order = create(client, "o-unapproved").body
    assert refused(lambda: capture(client, order.id)) == (422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
    assert client.orders.get_order({"id": order.id}).body.status == "PAYER_ACTION_REQUIRED"


def test_declined_funding_fails_the_capture_and_leaves_the_order_approved(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    by_page = create(client, "o-declined-page").body
    page_answer = requests.post(
        base + "/checkoutnow/approve",
        data={"token": by_page.id, "funding": "declined"},
        allow_redirects=False,
        timeout=5,
    )
    assert page_answer.status_code == 303
    by_control = create(client, "o-declined-ctl").body
    control.approve(by_control.id, funding="declined")
    for order in (by_page, by_control):
        declined = refused(functools.partial(capture, client, order.id))
        assert declined == (422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
        after = json.loads(client.orders.get_order({"id": order.id}).text)
        assert after["status"] == "APPROVED"
        assert "payments" not in after["purchase_units"][0]


# -- refunds -----------------------------------------------------------------------------------------------------------
def test_refunds_in_parts_up_to_the_capture(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    capture_id = paid(client, control, "o-refund")
    part = refund(client, capture_id, "10.00", "r-1", note_to_payer="damaged", custom_id="o-refund")
    assert part.status_code == 201
    assert (part.body.status, part.body.amount.value, part.body.note_to_payer, part.body.custom_id) == (
        "COMPLETED",
        "10.00",
        "damaged",
        "o-refund",
    )
    assert part.body.create_time
    assert part.body.update_time
    assert link(part.body, "up") == f"{base}/v2/payments/captures/{capture_id}"
    assert client.payments.get_refund({"refund_id": part.body.id}).body.amount.value == "10.00"
    assert client.payments.get_captured_payment({"capture_id": capture_id}).body.status == "PARTIALLY_REFUNDED"

    assert refused(lambda: refund(client, capture_id, "20.00", "r-2")) == (
        422,
        "UNPROCESSABLE_ENTITY",
        "REFUND_AMOUNT_EXCEEDED",
    )
    assert refused(lambda: refund(client, capture_id, "1.00", "r-3", currency="EUR"))[2] == "REFUND_CURRENCY_MISMATCH"
    rest = refund(client, capture_id, None, "r-4").body  # no amount: what is left
    assert rest.amount.value == "14.98"
    assert client.payments.get_captured_payment({"capture_id": capture_id}).body.status == "REFUNDED"
    assert refused(lambda: refund(client, capture_id, None, "r-5"))[2] == "CAPTURE_FULLY_REFUNDED"
    assert refused(lambda: client.payments.get_refund({"refund_id": "NOSUCHREFUND"}))[0] == 404


def test_a_full_refund_in_one(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    capture_id = paid(client, control, "o-full", value="5.00")
    assert refund(client, capture_id, None, "r-full").body.amount.value == "5.00"
    assert client.payments.get_captured_payment({"capture_id": capture_id}).body.status == "REFUNDED"


# -- PayPal-Request-Id -------------------------------------------------------------------------------------------------
def test_the_same_request_id_answers_the_first_answer_whatever_the_body(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    first = create(client, "o-idem", "order-o-idem-create")
    again = create(client, "o-idem", "order-o-idem-create", value="99.00")
    assert (again.status_code, again.text) == (first.status_code, first.text)
    assert len(control.orders("o-idem")) == 1
    control.approve(first.body.id)
    captured = capture(client, first.body.id, "order-o-idem-capture")
    assert capture(client, first.body.id, "order-o-idem-capture").text == captured.text  # not ORDER_ALREADY_CAPTURED
    capture_id = captured.body.purchase_units[0].payments.captures[0].id
    one = refund(client, capture_id, "1.00", "refund-1")
    assert refund(client, capture_id, "2.00", "refund-1").body.id == one.body.id
    assert client.payments.get_captured_payment({"capture_id": capture_id}).body.status == "PARTIALLY_REFUNDED"
    assert refund(client, capture_id, None, "refund-2").body.amount.value == "23.98"  # only one 1.00 was taken


def test_a_refused_request_keeps_nothing(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    assert refused(lambda: create(client, "o-retry", "order-o-retry-create", value="1.234"))[0] == 400
    made = create(client, "o-retry", "order-o-retry-create")
    assert made.status_code == 200
    assert [o["id"] for o in control.orders("o-retry")] == [made.body.id]
    # a business refusal keeps nothing either (as the emulator's docstring says): asked again once approved, it works
    assert refused(lambda: capture(client, made.body.id, "order-o-retry-capture"))[2] == "ORDER_NOT_APPROVED"
    control.approve(made.body.id)
    assert capture(client, made.body.id, "order-o-retry-capture").status_code == 201


def test_a_duplicate_arriving_while_the_first_runs_waits_for_its_answer(
    emulator: tuple[PayPalServer, str], control: PayPalControl
) -> None:
    server, base = emulator
    state = server.state
    working, go, duplicate_waiting = threading.Event(), threading.Event(), threading.Event()
    real_create = state.create_order

    def slow_create(body: dict[str, Any]) -> dict[str, Any]:
        working.set()
        assert go.wait(5)
        return real_create(body)

    class Watched(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            duplicate_waiting.set()
            return super().wait(timeout)

    state.create_order = slow_create  # type: ignore[method-assign]
    answers: dict[str, Any] = {}

    def send(name: str) -> None:
        answers[name] = create(sdk(base), "o-dup", "order-o-dup-create")

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert working.wait(5)
    [entry] = state.idempotency.values()
    entry.done = Watched()  # tells when the duplicate is parked on the first's answer
    duplicate = threading.Thread(target=send, args=("duplicate",))
    duplicate.start()
    assert duplicate_waiting.wait(5)
    assert "duplicate" not in answers  # it has no answer before the first has one
    go.set()
    first.join(5)
    duplicate.join(5)
    assert answers["duplicate"].text == answers["first"].text
    assert len(control.orders("o-dup")) == 1


def test_many_concurrent_duplicates_make_one_order(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    client.oauth_2.fetch_token()
    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda: answers.append(create(sdk(base), "o-many", "order-o-many-create").body.id))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(answers) == 8
    assert len(set(answers)) == 1
    assert len(control.orders("o-many")) == 1


# -- webhooks ----------------------------------------------------------------------------------------------------------
def verify(base: str, headers: dict[str, str], body: bytes, **changes: Any) -> requests.Response:
    """PayPal's verify-webhook-signature call as a shop makes it, from what it was sent."""
    payload = {
        "auth_algo": headers["PAYPAL-AUTH-ALGO"],
        "cert_url": headers["PAYPAL-CERT-URL"],
        "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": WEBHOOK_ID,
        "webhook_event": json.loads(body),
        **changes,
    }
    return requests.post(
        base + "/v1/notifications/verify-webhook-signature", json=payload, headers=bearer(base), timeout=5
    )


def status_of(answer: requests.Response) -> str:
    assert answer.status_code == 200
    return str(answer.json()["verification_status"])


def test_webhooks_go_out_with_paypals_headers_and_verify_only_as_sent(
    base: str, control: PayPalControl, hook: Hook
) -> None:
    client = sdk(base)
    capture_id = paid(client, control, "o-hook")
    refund(client, capture_id, "4.98", "r-hook")
    sent = hook.wait_for(3)
    events = [json.loads(body) for _, body in sent]
    assert [e["event_type"] for e in events] == [
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
    ]
    assert [e["resource_type"] for e in events] == ["checkout-order", "capture", "refund"]
    approved, completed, refunded = events
    assert approved["resource"]["status"] == "APPROVED"
    assert approved["resource"]["purchase_units"][0]["custom_id"] == "o-hook"
    assert (completed["resource"]["id"], completed["resource"]["custom_id"]) == (capture_id, "o-hook")
    assert refunded["resource"]["amount"] == {"currency_code": "GBP", "value": "4.98"}
    for event in events:
        assert event["id"].startswith("WH-")
        assert (event["event_version"], event["resource_version"], event["links"]) == ("1.0", "2.0", [])
        assert event["create_time"]
        assert event["summary"]

    for headers, body in sent:
        assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()  # the bytes that were signed
        assert headers["CONTENT-TYPE"] == "application/json"
        assert headers["PAYPAL-AUTH-ALGO"] == "SHA256withRSA"
        assert headers["PAYPAL-CERT-URL"] == base + CERT_PATH
        assert len(headers["PAYPAL-TRANSMISSION-ID"]) == 36
        assert time.strptime(headers["PAYPAL-TRANSMISSION-TIME"], "%Y-%m-%dT%H:%M:%SZ")
        assert status_of(verify(base, headers, body)) == "SUCCESS"

    headers, body = sent[1]
    altered = json.loads(body)
    altered["resource"]["amount"]["value"] = "0.01"
    assert status_of(verify(base, headers, body, webhook_event=altered)) == "FAILURE"
    assert status_of(verify(base, headers, body, transmission_sig="Zm9yZ2Vk")) == "FAILURE"
    assert status_of(verify(base, headers, body, webhook_id="WH-SOMEONE-ELSE")) == "FAILURE"
    assert status_of(verify(base, headers, body, transmission_time="2020-01-01T00:00:00Z")) == "FAILURE"
    assert status_of(verify(base, headers, body, cert_url="https://attacker.example/cert")) == "FAILURE"
    other_headers = sent[0][0]
    assert status_of(verify(base, other_headers, body)) == "FAILURE"  # another transmission's signature


def test_verify_wants_every_field_and_a_token(base: str, hook: Hook, control: PayPalControl) -> None:
    control.approve(create(sdk(base), "o-verify").body.id)
    [(headers, body)] = hook.wait_for(1)
    missing = verify(base, headers, body, transmission_sig="")
    assert missing.status_code == 400
    assert missing.json()["name"] == "VALIDATION_ERROR"
    unauthenticated = requests.post(base + "/v1/notifications/verify-webhook-signature", json={}, timeout=5)
    assert unauthenticated.status_code == 401


def test_a_failed_delivery_is_retried_as_a_new_transmission(base: str, control: PayPalControl, hook: Hook) -> None:
    hook.failing = 1
    control.approve(create(sdk(base), "o-retry-hook").body.id)
    (first_headers, first_body), (second_headers, second_body) = hook.wait_for(2)
    assert first_body == second_body
    assert first_headers["PAYPAL-TRANSMISSION-ID"] != second_headers["PAYPAL-TRANSMISSION-ID"]
    assert status_of(verify(base, first_headers, first_body)) == "SUCCESS"
    assert status_of(verify(base, second_headers, second_body)) == "SUCCESS"
    until(lambda: control.events()[0]["delivery"]["delivered"])
    [event] = control.events()
    assert event["delivery"]["attempts"] == 2
    assert event["delivery"]["status"] == 200


def test_a_replay_resends_the_original_transmission(base: str, control: PayPalControl, hook: Hook) -> None:
    control.approve(create(sdk(base), "o-replay").body.id)
    [(headers, body)] = hook.wait_for(1)
    [event] = control.events()
    replayed = control.replay(event["id"])
    assert (replayed["event_id"], replayed["status"]) == (event["id"], 200)
    assert hook.received[1] == (headers, body)  # headers and body as first sent: a replay, not a new transmission
    assert status_of(verify(base, *hook.received[1])) == "SUCCESS"  # so the shop must know the event already


def test_held_webhooks_wait_and_go_out_in_order_when_released(base: str, control: PayPalControl, hook: Hook) -> None:
    client = sdk(base)
    assert control.hold_webhooks(True) == {"hold": True}
    paid(client, control, "o-held")
    events = control.events()
    assert [e["event_type"] for e in events] == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]
    assert all(e["delivery"]["attempts"] == 0 for e in events)
    assert hook.received == []
    assert control.hold_webhooks(False) == {"hold": False}
    sent = hook.wait_for(2)
    assert [json.loads(body)["id"] for _, body in sent] == [e["id"] for e in events]


# -- faults and control ------------------------------------------------------------------------------------------------
def test_an_error_fault_answers_500_and_does_nothing(base: str, control: PayPalControl) -> None:
    client = sdk(base)
    assert control.set_fault("error", 2) == {"mode": "error", "count": 2, "delay": 30.0}
    # the SDK's first call fetches its token: not subject to faults, so both faults land on the API calls
    assert refused(lambda: create(client, "o-fault")) == (500, "INTERNAL_SERVER_ERROR", None)
    assert refused(lambda: client.orders.get_order({"id": "ANY"}))[0] == 500
    assert control.orders("o-fault") == []
    assert create(client, "o-fault").status_code == 200


def test_a_timeout_fault_does_the_work_then_hangs(base: str, control: PayPalControl) -> None:
    client = sdk(base, timeout=0.3)
    client.oauth_2.fetch_token()
    control.set_fault("timeout", 1, delay=1.0)
    with pytest.raises(requests.RequestException):
        create(client, "o-slow", "order-o-slow-create")
    [made] = control.orders("o-slow")  # the work was done; only the answer was lost
    assert create(client, "o-slow", "order-o-slow-create").body.id == made["id"]  # the retry gets it


def test_reset_forgets_everything_but_tokens(base: str, control: PayPalControl, hook: Hook) -> None:
    client = sdk(base)
    control.approve(create(client, "o-reset").body.id)
    hook.wait_for(1)
    control.hold_webhooks(True)
    control.approve(create(client, "o-forgotten").body.id)  # its webhook waits, then is forgotten
    control.set_fault("error", 5)
    assert control.control("POST", "reset") == {"reset": True}
    assert (control.orders(), control.events()) == ([], [])
    after = create(client, "o-after").body  # the same token; no fault left, webhooks no longer held
    control.approve(after.id)
    sent = hook.wait_for(2)
    assert json.loads(sent[1][1])["resource"]["id"] == after.id


def test_the_control_api_refuses_what_it_does_not_know(base: str, control: PayPalControl) -> None:
    order = create(sdk(base), "o-control").body
    for path, body in (
        ("faults", {"mode": "slow"}),
        ("faults", {"mode": "error", "count": "many"}),
        ("webhooks/hold", {"hold": "yes"}),
        (f"orders/{order.id}/approve", {"funding": "credit"}),
    ):
        answer = requests.post(f"{base}/_emulator/{path}", json=body, timeout=5)
        assert answer.status_code == 400, path
    assert requests.post(f"{base}/_emulator/webhooks/replay/WH-NONE", timeout=5).status_code == 404
    assert requests.post(f"{base}/_emulator/orders/NOSUCHORDER/approve", timeout=5).status_code == 404


def test_started_on_its_own_it_serves_the_sdk_with_the_credentials_it_was_given() -> None:
    server, base = start_paypal_emulator("127.0.0.1", 0, None, "own-client", "own-secret", "WH-OWN")
    try:
        credentials = ClientCredentialsAuthCredentials(o_auth_client_id="own-client", o_auth_client_secret="own-secret")
        config = Configuration(client_credentials_auth_credentials=credentials, timeout=5)
        config.environments = {config.environment: {Server.DEFAULT: base}}
        order = create(PaypalServersdkClient(config=config), "o-own").body
        assert link(order, "payer-action") == f"{base}/checkoutnow?token={order.id}"
        assert PayPalControl(base).approve(order.id)["order"]["status"] == "APPROVED"  # no webhook URL: kept, not sent
        [event] = PayPalControl(base).events()
        assert event["delivery"]["attempts"] == 0
    finally:
        server.shutdown()
        server.server_close()


# -- gears local's wiring ----------------------------------------------------------------------------------------------
class _Stack:
    """The provisioned stack as `_put_provider_secrets` reads it: each function's environment."""

    def __init__(self, environments: dict[str, dict[str, str]]) -> None:
        self.environments = environments

    def function_environment(self, function: str) -> dict[str, str]:
        return self.environments[function]


class _Template:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def functions(self) -> dict[str, str]:
        return {name: name for name in self.names}


class _Ssm:
    def __init__(self) -> None:
        self.put: dict[str, tuple[str, str]] = {}

    def put_parameter(self, *, Name: str, Value: str, Type: str, Overwrite: bool) -> None:
        assert Overwrite
        self.put[Name] = (Value, Type)


def test_gears_local_runs_the_emulator_with_fresh_credentials_and_puts_them_where_functions_read_them(
    tmp_path: Any,
) -> None:
    from gears.local.runtime import LocalRuntime, Options

    runtime = LocalRuntime(Options(state_dir=tmp_path, quiet=True, parameters={}))
    runtime._start_paypal()
    runtime._start_stripe()
    try:
        base = runtime.o.parameters["PayPalApiBase"]
        secrets = runtime.paypal_secrets
        assert secrets["client_id"].startswith("local-client-")
        assert secrets["client_secret"].startswith("local-secret-")
        assert secrets["webhook_id"].startswith("WH-LOCAL-")
        assert runtime.paypal.state.webhook_url == "http://127.0.0.1:3000/payments/webhooks/paypal"
        credentials = ClientCredentialsAuthCredentials(
            o_auth_client_id=secrets["client_id"], o_auth_client_secret=secrets["client_secret"]
        )
        config = Configuration(client_credentials_auth_credentials=credentials, timeout=5)
        config.environments = {config.environment: {Server.DEFAULT: base}}
        assert PaypalServersdkClient(config=config).oauth_2.fetch_token().access_token

        ssm = _Ssm()
        runtime.template = _Template(["Payment", "Catalog"])  # type: ignore[assignment]
        runtime.stack = _Stack(  # type: ignore[assignment]
            {
                "Payment": {
                    "STRIPE_SECRET_KEY_PARAMETER": "/gears/stripe/secret-key",
                    "PAYPAL_CLIENT_ID_PARAMETER": "/gears/paypal/client-id",
                    "PAYPAL_CLIENT_SECRET_PARAMETER": "/gears/paypal/client-secret",
                    "PAYPAL_WEBHOOK_ID_PARAMETER": "/gears/paypal/webhook-id",
                },
                "Catalog": {},
            }
        )
        runtime.client = lambda name: ssm  # type: ignore[method-assign]
        runtime._put_provider_secrets()
        assert ssm.put == {
            "/gears/stripe/secret-key": (runtime.stripe_secrets["secret_key"], "SecureString"),
            "/gears/paypal/client-id": (secrets["client_id"], "SecureString"),
            "/gears/paypal/client-secret": (secrets["client_secret"], "SecureString"),
            "/gears/paypal/webhook-id": (secrets["webhook_id"], "SecureString"),
        }
    finally:
        runtime._stop_paypal()
        runtime._stop_stripe()
    assert runtime.paypal is None
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/_emulator/events", timeout=2)


def test_gears_local_leaves_a_chosen_paypal_alone(tmp_path: Any) -> None:
    from gears.local.runtime import LocalRuntime, Options

    chosen = "https://api-m.sandbox.paypal.com"
    runtime = LocalRuntime(Options(state_dir=tmp_path, quiet=True, parameters={"PayPalApiBase": chosen}))
    runtime._start_paypal()
    assert (runtime.paypal, runtime.paypal_secrets, runtime.o.parameters["PayPalApiBase"]) == (None, {}, chosen)
