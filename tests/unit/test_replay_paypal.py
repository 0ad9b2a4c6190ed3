"""``gears replay --paypal``: which invoices pay with PayPal (a stable share), and paying as a browser does, with
plain HTTP, through the checkout's link, PayPal's page and PayPal's redirect back to the shop.

The shop and PayPal here are small fakes on loopback (a real PayPal-compatible endpoint is not needed): each answers
only what the browser's steps ask, the way the payment service and PayPal's page answer it."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from gears.dataset import Invoice, Line
from gears.replay import MAX_RETRY_AFTER_S, Shop, pay_with_paypal, pays_with_paypal, read_page, replay

Route = Callable[["Request"], tuple[int, dict[str, str], bytes]]


# -- which invoices ----------------------------------------------------------------------------------------------------
def test_the_paypal_share_is_stable_and_about_the_share_asked() -> None:
    numbers = [str(536365 + i) for i in range(2000)]
    chosen = [n for n in numbers if pays_with_paypal(n, 0.3)]
    assert 0.25 < len(chosen) / len(numbers) < 0.35
    assert chosen == [n for n in numbers if pays_with_paypal(n, 0.3)]  # a rerun chooses the same invoices
    assert set(chosen) <= {n for n in numbers if pays_with_paypal(n, 0.5)}  # a larger share keeps them
    assert not any(pays_with_paypal(n, 0.0) for n in numbers)
    assert all(pays_with_paypal(n, 1.0) for n in numbers)


# -- reading PayPal's page ---------------------------------------------------------------------------------------------
PAGE = """<!doctype html><html lang="en"><head><title>PayPal: pay GBP 12.50</title></head><body>
<form action="/checkoutnow/approve" method="post">
  <input value="PAYPAL-ORDER-1" type="hidden" name="token">
  <label><input type="radio" name="funding" value="balance" checked> PayPal balance</label>
  <label><input type="radio" name="funding" value="declined"> A card PayPal will decline</label>
  <label>Note <select name="note"><option value="none">none</option><option value="gift" selected>gift</option>
  </select></label>
  <button type="submit">Pay with PayPal</button>
</form>
<form method="POST" action="{base}/checkoutnow/cancel"><input name="token" type="hidden" value="PAYPAL-ORDER-1">
  <button type="submit">Cancel and return to the shop</button></form>
</body></html>"""

DONE_PAGE = """<!doctype html><html lang="en"><head><title>PayPal: payment</title></head><body>
<p>This payment is approved.</p><p><a href="{back}">Return to the shop</a></p></body></html>"""


def test_a_page_s_forms_are_read_as_a_browser_would_send_them() -> None:
    forms, links = read_page(PAGE.format(base="http://paypal.test"))
    approve, cancel = forms
    assert (approve.method, approve.action) == ("POST", "/checkoutnow/approve")
    # the checked radio only, the selected option, no button
    assert approve.fields == {"token": "PAYPAL-ORDER-1", "funding": "balance", "note": "gift"}
    assert (cancel.action, cancel.fields) == ("http://paypal.test/checkoutnow/cancel", {"token": "PAYPAL-ORDER-1"})
    assert links == []
    _, links = read_page(DONE_PAGE.format(back="http://shop.test/payments/paypal/return?orderId=o-1&amp;token=T"))
    assert links == ["http://shop.test/payments/paypal/return?orderId=o-1&token=T"]


def test_a_select_without_a_selected_option_sends_its_first() -> None:
    [form] = read_page('<form action="/x"><select name="s"><option value="a">A<option value="b">B</select></form>')[0]
    assert (form.method, form.fields) == ("GET", {"s": "a"})


# -- the fakes ---------------------------------------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


class FakeServer:
    """One loopback HTTP server answering through ``routes`` (``"GET /path"`` -> function); it keeps every request."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def do_PUT(self) -> None:
                self._answer("PUT")

            def do_DELETE(self) -> None:
                self._answer("DELETE")

            def _answer(self, method: str) -> None:
                url = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                is_form = "form" in (self.headers["Content-Type"] or "")
                form = {k: v[0] for k, v in parse_qs(raw).items()} if is_form else {"json": raw} if raw else {}
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                request = Request(method, url.path, query, form, dict(self.headers))
                server.requests.append(request)
                route = server.route(f"{method} {url.path}")
                status, headers, body = route(request) if route else (404, {}, b"")
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, asked: str) -> Route | None:
        """The route for ``"METHOD /path"``: its own, else the first ending in ``*`` that it starts with."""
        prefixed = (r for k, r in self.routes.items() if k.endswith("*") and asked.startswith(k[:-1]))
        return self.routes.get(asked) or next(prefixed, None)

    def asked(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def html_answer(status: int, page: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


def see_other(location: str) -> tuple[int, dict[str, str], bytes]:
    return 303, {"Location": location}, b""


@dataclass
class PayPal:
    """PayPal's page for its orders: the approval page, its approve and cancel forms, each 303 back to the shop."""

    shop: Callable[[], str]
    orders: dict[str, str] = field(default_factory=dict)  # PayPal's order id -> our order id
    approved: dict[str, str] = field(default_factory=dict)  # PayPal's order id -> funding
    server: FakeServer = field(init=False)

    def __post_init__(self) -> None:
        self.server = FakeServer(
            {
                "GET /checkoutnow": self.page,
                "POST /checkoutnow/approve": self.approve,
                "POST /checkoutnow/cancel": self.cancel,
            }
        )

    def new_order(self, order_id: str) -> str:
        token = f"PAYPAL-{len(self.orders) + 1}"
        self.orders[token] = order_id
        return f"{self.server.url}/checkoutnow?token={token}"

    def _return(self, token: str) -> str:
        return f"{self.shop()}/payments/paypal/return?orderId={self.orders[token]}&token={token}&PayerID=PAYER-1"

    def page(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        token = request.query.get("token", "")
        if token not in self.orders:
            return html_answer(404, "<p>There is no such payment.</p>")
        if token in self.approved:
            return html_answer(200, DONE_PAGE.format(back=self._return(token).replace("&", "&amp;")))
        return html_answer(200, PAGE.replace("PAYPAL-ORDER-1", token).format(base=self.server.url))

    def approve(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        token = request.form["token"]
        self.approved[token] = request.form["funding"]
        return see_other(self._return(token))

    def cancel(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        return see_other(f"{self.shop()}/payments/paypal/cancel?orderId={self.orders[request.form['token']]}")


@dataclass
class PaymentRoutes:
    """The payment service's two routes a PayPal buyer meets: the approval link (202 with ``Retry-After`` while the
    PayPal order is being made, then 303 to PayPal's page) and the return (captures; answers the payment's state)."""

    paypal: PayPal
    preparing: int = 2  # how many times the link says "being prepared" before PayPal's order exists
    retry_after: str = "1"
    payments: dict[str, str] = field(default_factory=dict)  # our order id -> payment status
    links: dict[str, str] = field(default_factory=dict)  # our order id -> PayPal's page

    def routes(self) -> dict[str, Route]:
        return {"GET /payments/paypal/approve": self.approve_link, "GET /payments/paypal/return": self.returned}

    def approve_link(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        order_id = request.query["orderId"]
        status = self.payments.get(order_id)
        if status is None and self.preparing > 0:
            self.preparing -= 1
            headers = {"Retry-After": self.retry_after, "Refresh": "1"}
            return json_answer(202, {"orderId": order_id, "status": "PREPARING"}, headers)
        if status is None:
            status = self.payments[order_id] = "AWAITING_APPROVAL"
            self.links[order_id] = self.paypal.new_order(order_id)
        if status == "AWAITING_APPROVAL":
            return see_other(self.links[order_id])
        return json_answer(200, {"orderId": order_id, "status": status})

    def returned(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        order_id, token = request.query["orderId"], request.query["token"]
        if self.paypal.orders.get(token) != order_id:
            return json_answer(404, {"title": "Not found"})
        funding = self.paypal.approved.get(token)
        if funding is not None and self.payments.get(order_id) == "AWAITING_APPROVAL":
            self.payments[order_id] = "SUCCEEDED" if funding == "balance" else "FAILED"
        return json_answer(200, {"orderId": order_id, "status": self.payments[order_id]})


@dataclass
class Browser:
    shop: FakeServer
    paypal: PayPal
    payment: PaymentRoutes
    sleeps: list[float]

    def pay(self, order_id: str, **kwargs: Any) -> Any:
        link = f"{self.shop.url}/payments/paypal/approve?orderId={order_id}"
        return pay_with_paypal(requests.Session(), link, sleep=self.sleeps.append, **kwargs)


@pytest.fixture
def browser() -> Iterator[Browser]:
    shop_url: list[str] = []
    paypal = PayPal(shop=lambda: shop_url[0])
    payment = PaymentRoutes(paypal)
    shop = FakeServer(payment.routes())
    shop_url.append(shop.url)
    yield Browser(shop, paypal, payment, [])
    shop.close()
    paypal.server.close()


# -- paying as a browser -----------------------------------------------------------------------------------------------
def test_a_buyer_waits_for_paypal_s_page_pays_there_and_is_sent_back_to_the_shop(browser: Browser) -> None:
    paid = browser.pay("o-1")
    assert (paid.status, paid.problem) == ("SUCCEEDED", None)
    assert len(browser.shop.asked("GET", "/payments/paypal/approve")) == 3  # twice "being prepared", then PayPal
    assert browser.sleeps == [1.0, 1.0]  # as Retry-After said
    [posted] = browser.paypal.server.asked("POST", "/checkoutnow/approve")
    assert posted.form == {"token": "PAYPAL-1", "funding": "balance", "note": "gift"}  # the page's own fields
    [back] = browser.shop.asked("GET", "/payments/paypal/return")
    assert back.query == {"orderId": "o-1", "token": "PAYPAL-1", "PayerID": "PAYER-1"}
    assert browser.paypal.server.asked("POST", "/checkoutnow/cancel") == []


def test_a_buyer_may_choose_the_funding_paypal_declines(browser: Browser) -> None:
    paid = browser.pay("o-1", funding="declined")
    assert paid.status == "FAILED"
    assert browser.paypal.approved == {"PAYPAL-1": "declined"}


def test_the_wait_for_paypal_s_page_is_bounded(browser: Browser) -> None:
    browser.payment.preparing, browser.payment.retry_after = 10**6, "3600"
    ticks = itertools.count(0.0, 7.0)  # each look at the clock is 7 s later
    paid = browser.pay("o-1", wait_s=30.0, clock=lambda: next(ticks))
    assert paid.problem == "PayPal's page not ready after 30 s"
    assert paid.status is None
    asked = len(browser.shop.asked("GET", "/payments/paypal/approve"))
    assert 2 <= asked <= 6
    assert browser.sleeps
    assert all(0 < s <= MAX_RETRY_AFTER_S for s in browser.sleeps)  # not the hour asked for
    assert browser.paypal.orders == {}


def test_a_retry_after_that_is_no_number_waits_a_second(browser: Browser) -> None:
    browser.payment.preparing, browser.payment.retry_after = 1, "Wed, 21 Oct 2026 07:28:00 GMT"
    assert browser.pay("o-1").status == "SUCCEEDED"
    assert browser.sleeps == [1.0]


def test_a_buyer_gives_up_waiting_when_the_order_went_nowhere(browser: Browser) -> None:
    browser.payment.preparing = 10**6
    paid = browser.pay("o-1", gave_up=lambda: "order CANCELLED before PayPal")
    assert (paid.status, paid.problem) == (None, "order CANCELLED before PayPal")
    assert len(browser.shop.asked("GET", "/payments/paypal/approve")) == 1
    assert browser.sleeps == []


def test_a_second_visit_lands_on_the_shop_or_goes_back_through_paypal_s_link(browser: Browser) -> None:
    assert browser.pay("o-1").status == "SUCCEEDED"
    # paid: the link answers the payment's state at once
    assert browser.pay("o-1").status == "SUCCEEDED"
    # approved at PayPal but the shop not told yet (the buyer closed the tab): PayPal's page links back
    browser.payment.payments["o-1"] = "AWAITING_APPROVAL"
    assert browser.pay("o-1").status == "SUCCEEDED"
    assert len(browser.paypal.server.asked("POST", "/checkoutnow/approve")) == 1  # never approved twice
    assert len(browser.shop.asked("GET", "/payments/paypal/return")) == 2


def test_a_link_that_answers_an_error_is_reported_not_followed(browser: Browser) -> None:
    link = f"{browser.shop.url}/payments/paypal/nowhere?orderId=o-1"
    paid = pay_with_paypal(requests.Session(), link, sleep=browser.sleeps.append)
    assert (paid.status, paid.problem) == (None, "the approval link answered 404")


# -- the replay ----------------------------------------------------------------------------------------------------
@dataclass
class FakeShop:
    """The shop's routes the replay uses, as far as it uses them: sign-in, catalog, cart, checkout, the order (PAID
    once charged: a card at once, PayPal once its buyer came back) and PayPal's two routes above."""

    payment: PaymentRoutes
    url: str = ""
    checkouts: list[dict[str, Any]] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # order id -> paymentMethod

    def routes(self) -> dict[str, Route]:
        return {
            **self.payment.routes(),
            "POST /auth/login": lambda r: json_answer(200, {"accessToken": "token"}),
            "GET /products": lambda r: json_answer(200, {"items": [{"sku": "MUG", "productId": "p-mug"}]}),
            "DELETE /cart": lambda r: (204, {}, b""),
            "PUT /cart/items/*": lambda r: json_answer(200, {}),
            "POST /checkout": self.checkout,
            "GET /orders/*": self.order,
        }

    def checkout(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        body = json.loads(request.form["json"])
        order_id = "o-" + request.headers["Idempotency-Key"]
        self.checkouts.append(body)
        self.methods[order_id] = body["paymentMethod"]
        paypal = body["paymentMethod"] == "paypal"
        link = f"{self.url}/payments/paypal/approve?orderId={order_id}" if paypal else None
        payment = {"method": "paypal" if paypal else "card", "approvalUrl": link}
        return json_answer(202, {"orderId": order_id, "status": "PENDING", "payment": payment})

    def order(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        order_id = request.path.rsplit("/", 1)[1]
        card = self.methods[order_id] != "paypal"
        paid = card or self.payment.payments.get(order_id) == "SUCCEEDED"
        return json_answer(200, {"orderId": order_id, "status": "PAID" if paid else "AWAITING_PAYMENT"})


def test_a_replay_pays_the_chosen_share_with_paypal_and_reports_each_method(browser: Browser) -> None:
    browser.payment.preparing = 0
    fake = FakeShop(browser.payment)
    server = FakeServer(fake.routes())
    fake.url = server.url
    browser.paypal.shop = lambda: server.url
    when = datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    invoices = [
        Invoice(str(536365 + i), f"{17850 + i}", "United Kingdom", when, [Line("MUG", "Mug", 2, 250)])
        for i in range(12)
    ]
    try:
        report = replay(Shop(server.url, Path("/nowhere"), ("admin", "pw")), invoices, workers=3, paypal_share=0.5)
    finally:
        server.close()
    chosen = {i.number for i in invoices if pays_with_paypal(i.number, 0.5)}
    assert 0 < len(chosen) < len(invoices)  # both methods are exercised by these numbers
    assert {o: m for o, m in fake.methods.items() if m == "paypal"} == {f"o-replay-{n}-1": "paypal" for n in chosen}
    assert report.errors == Counter()
    assert report.by_method == Counter({"paypal PAID": len(chosen), "card PAID": len(invoices) - len(chosen)})
    assert report.paypal_returns == Counter({"SUCCEEDED": len(chosen)})
    assert "outcomes by payment method: {'card PAID': " in report.text()
    assert len(browser.paypal.approved) == len(chosen)


def test_the_local_paypal_page_is_read_as_the_fake_is() -> None:
    """The local PayPal endpoint's own page (when it is there) holds the same approve form the fake's does."""
    emulator = pytest.importorskip("gears.local.paypal_emulator")
    order = {
        "id": "PAYPAL-9",
        "status": "PAYER_ACTION_REQUIRED",
        "purchase_units": [{"amount": {"currency_code": "GBP", "value": "12.50"}}],
    }
    forms, _ = read_page(emulator.approval_page(order))
    [approve] = [f for f in forms if f.action.endswith("/checkoutnow/approve")]
    assert (approve.method, approve.fields) == ("POST", {"token": "PAYPAL-9", "funding": "balance"})
