"""The payment functions in-process on moto, talking through the real ``stripe`` SDK to the Stripe emulator.

``stripe`` runs :mod:`gears.local.stripe_emulator` on a free port for the test, with its webhooks going to a
capture server (``webhooks``) so a test can hand a signed delivery to the webhook function as API Gateway would.
The Stripe secrets are SSM SecureStrings in moto, under the names the template gives the functions.

The functions' modules are imported once (no reloads), with their environment in place. Each test starts their
wiring cold: :mod:`payment.bootstrap` builds it again on first use (the orders consumer keeps the inbox it was built
with at import; resource names are the same in every test). A test hands a route a fake with the resolver's
``dependency_overrides``, undone by ``monkeypatch``.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import boto3
import pytest

from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.stripe_emulator import EmulatorControl, StripeServer, start_stripe_emulator
from tests.conftest import ROOT

if str(ROOT / "functions" / "payment") not in sys.path:  # until pyproject's pythonpath lists the service
    sys.path.insert(0, str(ROOT / "functions" / "payment"))

SECRET_KEY = "sk_test_functional_0123456789"
WEBHOOK_SECRET = "whsec_functional_0123456789abcdef"
ADMIN = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
SUPPORT = {"sub": "support-1", "cognito:groups": ["support"], "token_use": "access"}
FUNCTIONS = (
    "PaymentChargeConsumerFunction",
    "PaymentWebhookFunction",
    "PaymentReadFunction",
    "PaymentAdminFunction",
    "PaymentPublisherFunction",
)


def customer(user_id: str) -> dict[str, Any]:
    return {"sub": user_id, "cognito:groups": ["customer"], "token_use": "access"}


class Answer:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.status: int = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.body: Any = json.loads(text) if text else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.body}>"


# -- webhook capture -------------------------------------------------------------------------------------------------
@dataclass
class Delivery:
    body: str
    signature: str | None


@dataclass
class Webhooks:
    url: str
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, type_: str, *, timeout: float = 5.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [d for d in self.received if json.loads(d.body)["type"] == type_]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    captured: list[Delivery] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            captured.append(Delivery(body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hooks = Webhooks(f"http://127.0.0.1:{server.server_address[1]}/payments/webhooks/stripe", captured)
    yield hooks
    server.shutdown()
    server.server_close()


# -- the emulator ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stripe(EmulatorControl):
    server: StripeServer


@pytest.fixture
def stripe_emulator(webhooks: Webhooks, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stripe]:
    server, base = start_stripe_emulator("127.0.0.1", 0, webhooks.url, WEBHOOK_SECRET)
    yield Stripe(base, server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def payment_env(
    lambda_env: Callable[[str], dict[str, str]], stripe_emulator: Stripe, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Every payment function's environment (they share it), the emulator as Stripe, the secrets in SSM."""
    from aws_lambda_powertools.utilities import parameters

    env: dict[str, str] = {}
    for name in FUNCTIONS:
        env.update(lambda_env(name))
    monkeypatch.setenv("STRIPE_API_BASE", stripe_emulator.base)
    # A slow Stripe is noticed in a second here, and the SQS redelivery (not the SDK) retries it.
    monkeypatch.setenv("STRIPE_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "0")
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=env["STRIPE_SECRET_KEY_PARAMETER"], Value=SECRET_KEY, Type="SecureString")
    ssm.put_parameter(Name=env["STRIPE_WEBHOOK_SECRET_PARAMETER"], Value=WEBHOOK_SECRET, Type="SecureString")
    parameters.clear_caches()
    return env


def cold_start() -> None:
    """The functions' wiring is built again on first use, from this test's environment (a new container's)."""
    from payment import bootstrap

    for wire in vars(bootstrap).values():
        if callable(getattr(wire, "cache_clear", None)):
            wire.cache_clear()


@dataclass
class Payments:
    """The four functions, cold-started in this test's cloud, and ways to drive them."""

    consumers: ModuleType
    api: ModuleType
    publisher: ModuleType
    table: str
    stripe: Stripe
    webhooks: Webhooks

    def deliver(self, *events: dict[str, Any]) -> dict[str, Any]:
        """One SQS batch of CloudEvents to the charge consumer; its partial batch response."""
        records = [
            {"messageId": f"m-{i}-{e['id']}", "body": json.dumps(e), "eventSource": "aws:sqs"}
            for i, e in enumerate(events)
        ]
        result: dict[str, Any] = self.consumers.handler({"Records": records}, LambdaContext("Charge", timeout_s=30))
        return result

    def get(self, order_id: str, claims: dict[str, Any]) -> Answer:
        event = http_api_event("GET", f"/orders/{order_id}/payment", claims=claims)
        return Answer(self.api.payment_read_handler(event, LambdaContext("PaymentRead", timeout_s=30)))

    def refund(
        self,
        order_id: str,
        body: Any = None,
        claims: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        event = http_api_event(
            "POST",
            f"/admin/orders/{order_id}/refund",
            body=body if body is not None else "",
            claims=claims or ADMIN,
            headers=headers,
        )
        return Answer(self.api.payment_admin_handler(event, LambdaContext("PaymentAdmin", timeout_s=30)))

    def webhook(self, body: str, signature: str | None) -> Answer:
        headers = {"content-type": "application/json"}
        if signature is not None:
            headers["stripe-signature"] = signature
        event = http_api_event("POST", "/payments/webhooks/stripe", headers=headers, body=body)
        return Answer(self.api.stripe_webhook_handler(event, LambdaContext("PaymentWebhook", timeout_s=30)))

    def published(self) -> list[Any]:
        """Every event the table's stream stands for so far, in order (what the publisher would put on the topic)."""
        streams = boto3.client("dynamodbstreams")
        arn = boto3.client("dynamodb").describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        events = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                events += self.publisher.events_for_record(record)
        return events

    def published_types(self, order_id: str) -> list[str]:
        return [e.type for e in self.published() if e.data.get("orderId") == order_id]


@pytest.fixture
def payments(payment_env: dict[str, str], stripe_emulator: Stripe, webhooks: Webhooks) -> Payments:
    cold_start()
    return Payments(
        consumers=importlib.import_module("payment.consumers"),
        api=importlib.import_module("payment.api"),
        publisher=importlib.import_module("payment.publisher"),
        table=payment_env["TABLE_NAME"],
        stripe=stripe_emulator,
        webhooks=webhooks,
    )


def order_confirmed(
    order_id: str | None = None, *, user_id: str = "user-1", amount: int = 2599, method: str = "pm_card_visa"
) -> dict[str, Any]:
    order_id = order_id or f"ord-{uuid.uuid4().hex[:12]}"
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "gears.orders",
        "type": "OrderConfirmed.v1",
        "time": "2026-01-01T00:00:00.000Z",
        "subject": order_id,
        "correlationid": f"corr-{order_id}",
        "data": {
            "orderId": order_id,
            "userId": user_id,
            "total": {"amount": amount, "currency": "GBP"},
            "paymentMethod": method,
        },
    }


def order_cancelled(order_id: str, *, user_id: str = "user-1", paid: bool = False) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "gears.orders",
        "type": "OrderCancelled.v1",
        "time": "2026-01-01T00:00:00.000Z",
        "subject": order_id,
        "correlationid": f"corr-{order_id}",
        "data": {
            "orderId": order_id,
            "userId": user_id,
            "reason": "customer_request",
            "previousStatus": "PAID" if paid else "CONFIRMED",
            "paid": paid,
            "lines": [
                {
                    "productId": "p1",
                    "sku": "SKU1",
                    "title": "Mug",
                    "quantity": 1,
                    "unitPrice": {"amount": 2599, "currency": "GBP"},
                    "lineTotal": {"amount": 2599, "currency": "GBP"},
                }
            ],
        },
    }
