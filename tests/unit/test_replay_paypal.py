"""``gears replay --paypal``: which invoices pay with PayPal (a stable share), and paying as a browser does through
the checkout's link, PayPal's page (the local PayPal endpoint's) and PayPal's redirect back to the shop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from gears.local.paypal_emulator import PayPalControl, start_paypal_emulator
from gears.replay import pay_with_paypal, pays_with_paypal


def test_the_paypal_share_is_stable_and_about_the_share_asked() -> None:
    numbers = [str(536365 + i) for i in range(2000)]
    chosen = [n for n in numbers if pays_with_paypal(n, 0.3)]
    assert 0.25 < len(chosen) / len(numbers) < 0.35
    assert chosen == [n for n in numbers if pays_with_paypal(n, 0.3)]
    assert not any(pays_with_paypal(n, 0.0) for n in numbers)
    assert all(pays_with_paypal(n, 1.0) for n in numbers)


class FakeShop:
    """The shop's two PayPal routes: the approval link (202 twice, as while the PayPal order is being made, then
    303 to PayPal's page) and the return (which says what it was sent)."""

    def __init__(self) -> None:
        self.page: str | None = None
        self.asked = 0
        self.returned: list[dict[str, list[str]]] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/payments/paypal/approve":
                    shop.asked += 1
                    if shop.asked < 3 or shop.page is None:
                        self._answer(202, {"status": "PREPARING"}, {"Retry-After": "0"})
                    else:
                        self._answer(303, {}, {"Location": shop.page})
                else:
                    shop.returned.append(parse_qs(url.query))
                    self._answer(200, {"orderId": "o-1", "status": "SUCCEEDED"})

            def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {
                    "Content-Type": "application/json",
                    "Content-Length": str(len(raw)),
                    **(headers or {}),
                }.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    found = FakeShop()
    yield found
    found.server.shutdown()


def test_a_replayed_paypal_order_is_paid_through_the_page_and_back(shop: FakeShop) -> None:
    server, base = start_paypal_emulator()
    try:
        token = requests.post(
            base + "/v1/oauth2/token",
            auth=("local-client", "local-secret"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        ).json()["access_token"]
        order = requests.post(
            base + "/v2/checkout/orders",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "intent": "CAPTURE",
                "purchase_units": [{"custom_id": "o-1", "amount": {"currency_code": "GBP", "value": "9.99"}}],
                "payment_source": {
                    "paypal": {"experience_context": {"return_url": shop.url + "/payments/paypal/return?orderId=o-1"}}
                },
            },
            timeout=5,
        ).json()
        shop.page = next(link["href"] for link in order["links"] if link["rel"] == "payer-action")
        answer = pay_with_paypal(requests.Session(), shop.url + "/payments/paypal/approve?orderId=o-1")
        assert answer == "SUCCEEDED"
        assert shop.asked == 3
        [back] = shop.returned
        assert (back["orderId"], back["token"]) == (["o-1"], [order["id"]])
        assert PayPalControl(base).orders("o-1")[0]["status"] == "APPROVED"
    finally:
        server.shutdown()
        server.server_close()
