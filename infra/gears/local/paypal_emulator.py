"""A small PayPal-compatible endpoint for the local shop and the tests: the unmodified ``paypal-server-sdk`` talks to
it when its base URL points here, so the payment service runs its production code path with no PayPal account.

What it speaks (PayPal's REST API: JSON bodies, ``Authorization: Bearer <token>`` from the client-credentials grant,
401 otherwise; errors as PayPal's ``{name, message, debug_id, details: [{issue, description}]}``):

- ``POST /v1/oauth2/token`` (HTTP Basic client id and secret, ``grant_type=client_credentials``);
- Orders v2: ``POST /v2/checkout/orders`` (intent CAPTURE, one purchase unit; return and cancel URLs from
  ``payment_source.paypal.experience_context``, answered with a ``payer-action`` link, or from the older
  ``application_context``, with an ``approve`` link), ``GET /v2/checkout/orders/{id}``, ``POST
  /v2/checkout/orders/{id}/capture`` (``ORDER_NOT_APPROVED``, ``ORDER_ALREADY_CAPTURED``, ``INSTRUMENT_DECLINED`` as
  PayPal answers them);
- Payments v2: ``GET /v2/payments/captures/{id}``, ``POST /v2/payments/captures/{id}/refund`` (full when no amount,
  or partial; ``REFUND_AMOUNT_EXCEEDED``, ``CAPTURE_FULLY_REFUNDED``), ``GET /v2/payments/refunds/{id}``;
- ``PayPal-Request-Id`` as PayPal honours it: the same id on the same call answers the first answer again, whatever
  the body, once that made something (a refusal keeps nothing); a duplicate arriving while the first is still being
  worked on waits for it;
- the buyer's approval page, ``GET /checkoutnow?token=<order id>``: plain HTML with two forms, "Pay with PayPal"
  (``POST /checkoutnow/approve``, with the funding to use: ``balance``, or ``declined``, which PayPal declines at
  capture) and "Cancel and return to the shop" (``POST /checkoutnow/cancel``); each answers 303 to the order's
  return URL (``token`` and ``PayerID`` appended) or cancel URL (``token``), as PayPal redirects the buyer;
- webhooks (``CHECKOUT.ORDER.APPROVED``, ``PAYMENT.CAPTURE.COMPLETED``, ``PAYMENT.CAPTURE.REFUNDED``) POSTed to the
  configured URL from a background thread with PayPal's transmission headers (``PAYPAL-TRANSMISSION-ID``, ``-TIME``,
  ``-SIG``, ``PAYPAL-CERT-URL``, ``PAYPAL-AUTH-ALGO``), retried with backoff, each retry a new transmission;
- ``POST /v1/notifications/verify-webhook-signature``: ``SUCCESS`` only for a transmission this endpoint made, of
  exactly that event, to the configured webhook id. The signature is an HMAC under a key only this process holds
  (PayPal's is an RSA signature with its certificate): the shop never checks it itself, it asks, as with PayPal.

A control API for tests and operators (no auth; it only ever listens on loopback):

- ``POST /_emulator/faults {"mode": "error"|"timeout", "count": N, "delay": s}``: the next N API calls (not the token
  call) answer 500 without doing anything, or do their work and then hang ``delay`` seconds before answering;
- ``GET /_emulator/orders`` (``?customId=`` filters on the purchase unit's ``custom_id``, the shop's order id);
- ``POST /_emulator/orders/{id}/approve {"funding": "balance"|"declined"}`` and ``.../cancel``: what the page's
  buttons do, answered with the redirect instead of following it;
- ``GET /_emulator/events``, ``POST /_emulator/webhooks/replay/{eventId}`` (its last transmission sent again as it
  was, headers and all: a replay, as an attacker would send it; answers the status the shop gave), ``POST
  /_emulator/webhooks/hold {"hold": true|false}``, ``POST /_emulator/reset``.

``start_paypal_emulator(host, port, webhook_url, client_id, client_secret, webhook_id)`` runs it in a thread and
returns the server and its base URL; ``python -m gears.local.paypal_emulator --port 12112`` runs it on its own.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from gears.local.emulators import (
    ControlClient,
    Delivery,
    EmulatorHandler,
    EmulatorServer,
    Faults,
    Idempotent,
    WebhookOutbox,
    serve,
)

TOKEN_LIFETIME_S = 32400
WEBHOOK_ATTEMPTS = 6
WEBHOOK_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
WEBHOOK_TIMEOUT_S = 10.0
CERT_PATH = "/v1/notifications/certs/CERT-LOCAL"
ZERO_DECIMAL = frozenset({"JPY", "HUF", "TWD"})
CAPTURED = frozenset({"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"})


class PayPalFailure(Exception):
    """An API error answered as PayPal does, with its HTTP status."""

    def __init__(self, status: int, name: str, message: str, issue: str | None = None, description: str = "") -> None:
        super().__init__(message)
        self.status = status
        details = [{"issue": issue, "description": description or message}] if issue else []
        self.body: dict[str, Any] = {
            "name": name,
            "message": message,
            "debug_id": secrets.token_hex(7),
            "details": details,
            "links": [],
        }


def invalid(issue: str, description: str, field_: str | None = None) -> PayPalFailure:
    failure = PayPalFailure(400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect.", issue)
    if field_:
        failure.body["details"][0]["field"] = field_
    failure.body["details"][0]["description"] = description
    return failure


def unprocessable(issue: str, description: str) -> PayPalFailure:
    return PayPalFailure(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
        issue,
        description,
    )


def not_found(what: str) -> PayPalFailure:
    return PayPalFailure(
        404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID", f"No such {what}."
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id() -> str:
    """PayPal's ids: 17 upper-case letters and digits."""
    return secrets.token_hex(9).upper()[:17]


def _minor(amount: Any, where: str) -> tuple[int, str]:
    """``{currency_code, value}`` as (minor units, currency), validated as PayPal does."""
    if not isinstance(amount, dict):
        raise invalid("MISSING_REQUIRED_PARAMETER", "An amount is required.", where)
    currency = str(amount.get("currency_code") or "")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise invalid("INVALID_PARAMETER_VALUE", "The currency code is not supported.", f"{where}/currency_code")
    decimals = 0 if currency in ZERO_DECIMAL else 2
    value = str(amount.get("value") or "")
    try:
        units = Decimal(value)
    except InvalidOperation:
        units = Decimal(-1)
    whole, _, fraction = value.partition(".")
    if units <= 0 or not whole.isdigit() or len(fraction) > decimals or (fraction and not fraction.isdigit()):
        raise invalid("DECIMAL_PRECISION", f"The value must be positive, with at most {decimals} decimals.", where)
    return int(units * 10**decimals), currency


def _value(minor: int, currency: str) -> dict[str, str]:
    value = str(minor) if currency in ZERO_DECIMAL else f"{minor // 100}.{minor % 100:02d}"
    return {"currency_code": currency, "value": value}


def _with_query(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(f"{k}={v}" for k, v in params.items())


def sign(key: bytes, transmission_id: str, when: str, webhook_id: str, body: bytes) -> str:
    """This endpoint's signature of a webhook transmission (PayPal signs the same fields with its certificate)."""
    message = f"{transmission_id}|{when}|{webhook_id}|{zlib.crc32(body)}".encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


class PayPalState:
    """The merchant account's orders, captures and refunds, tokens, the idempotency cache, faults and the webhook
    outbox; one lock guards them."""

    def __init__(
        self, webhook_url: str | None, client_id: str, client_secret: str, webhook_id: str, base_url: str = ""
    ) -> None:
        self.lock = threading.RLock()
        self.webhook_url = webhook_url
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.base_url = base_url
        self.sign_key = secrets.token_bytes(32)
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.funding: dict[str, str] = {}  # order id -> what the buyer approved with
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.transmissions: dict[str, tuple[dict[str, str], bytes]] = {}  # event id -> its last one
        self.idempotency: dict[str, Idempotent] = {}
        self.faults = Faults()
        self.outbox = WebhookOutbox(self.deliver, "paypal-webhooks", WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_S)

    def reset(self) -> None:
        with self.lock:
            for store in (
                self.orders,
                self.funding,
                self.captures,
                self.refunds,
                self.events,
                self.deliveries,
                self.transmissions,
                self.idempotency,
            ):
                store.clear()
        self.faults.clear()
        self.outbox.hold(False)

    # -- auth and faults -----------------------------------------------------------------------------------------
    def issue_token(self, authorization: str, form: dict[str, str]) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if not hmac.compare_digest(authorization, f"Basic {expected}"):
            raise _OAuthFailure("invalid_client", "Client Authentication failed")
        if form.get("grant_type") != "client_credentials":
            raise _OAuthFailure("unsupported_grant_type", "Grant Type is NULL or not supported", status=400)
        token = "A21AA" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = time.time() + TOKEN_LIFETIME_S
        return {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-LOCAL",
            "expires_in": TOKEN_LIFETIME_S,
            "nonce": _now() + secrets.token_hex(8),
        }

    def authorized(self, authorization: str) -> bool:
        token = authorization[7:].strip() if authorization.startswith("Bearer ") else ""
        with self.lock:
            return self.tokens.get(token, 0) > time.time()

    def faults_from(self, data: dict[str, Any]) -> dict[str, Any]:
        mode = data.get("mode")
        if mode not in ("error", "timeout", None):
            raise invalid("INVALID_PARAMETER_VALUE", 'mode is "error" or "timeout".', "mode")
        try:
            count = int(data.get("count", 1))
            delay = float(data["delay"]) if data.get("delay") is not None else None
        except (TypeError, ValueError):
            raise invalid("INVALID_PARAMETER_VALUE", "count is a whole number, delay a number of seconds.") from None
        return self.faults.arm(mode, count, delay)

    # -- orders --------------------------------------------------------------------------------------------------
    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        intent = body.get("intent")
        if intent == "AUTHORIZE":
            raise unprocessable("UNSUPPORTED_INTENT", "This endpoint takes intent CAPTURE only.")
        if intent != "CAPTURE":
            raise invalid("MISSING_REQUIRED_PARAMETER", "intent is CAPTURE.", "/intent")
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            raise invalid("INVALID_ARRAY_MAX_ITEMS", "Exactly one purchase unit here.", "/purchase_units")
        unit = units[0]
        minor, currency = _minor(unit.get("amount"), "/purchase_units/@reference_id=='default'/amount")
        experience = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
        context = experience if isinstance(experience, dict) else body.get("application_context") or {}
        order_id = _id()
        order: dict[str, Any] = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED" if experience is not None else "CREATED",
            "purchase_units": [
                {
                    "reference_id": unit.get("reference_id") or "default",
                    "amount": _value(minor, currency),
                    "payee": {"merchant_id": "LOCALMERCHANT01", "email_address": "merchant@gears.local"},
                    **{k: unit[k] for k in ("custom_id", "invoice_id", "description") if unit.get(k)},
                }
            ],
            "create_time": _now(),
            "_return_url": context.get("return_url"),
            "_cancel_url": context.get("cancel_url"),
            "_approve_rel": "payer-action" if experience is not None else "approve",
        }
        with self.lock:
            self.orders[order_id] = order
        return self.order_view(order_id)

    def order_view(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise not_found("order")
            view = {k: v for k, v in json.loads(json.dumps(order)).items() if not k.startswith("_")}
        base = self.base_url
        links = [{"href": f"{base}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"}]
        if view["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            href = f"{base}/checkoutnow?token={order_id}"
            links.append({"href": href, "rel": order["_approve_rel"], "method": "GET"})
        if view["status"] != "COMPLETED":
            links.append({"href": f"{base}/v2/checkout/orders/{order_id}", "rel": "update", "method": "PATCH"})
            links.append({"href": f"{base}/v2/checkout/orders/{order_id}/capture", "rel": "capture", "method": "POST"})
        view["links"] = links
        return view

    def approve(self, order_id: str, funding: str = "balance") -> str:
        """The buyer pressed "Pay": the order is APPROVED; where PayPal sends them back."""
        if funding not in ("balance", "declined"):
            raise invalid("INVALID_PARAMETER_VALUE", 'funding is "balance" or "declined".', "funding")
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise not_found("order")
            if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
                raise unprocessable("ORDER_ALREADY_APPROVED", f"The order is {order['status']}.")
            payer_id = "PAYER" + secrets.token_hex(4).upper()
            payer = {
                "payer_id": payer_id,
                "email_address": "buyer@paypal.local",
                "name": {"given_name": "Local", "surname": "Buyer"},
                "address": {"country_code": "GB"},
            }
            order.update(status="APPROVED", payer=payer, update_time=_now())
            order["payment_source"] = {
                "paypal": {"email_address": payer["email_address"], "account_id": payer_id, "name": payer["name"]}
            }
            self.funding[order_id] = funding
            self._emit("CHECKOUT.ORDER.APPROVED", "checkout-order", "An order has been approved by buyer.", order_id)
            return _with_query(str(order.get("_return_url") or self.base_url), token=order_id, PayerID=payer_id)

    def cancel(self, order_id: str) -> str:
        """The buyer pressed "Cancel": nothing changes at PayPal; where they are sent back."""
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise not_found("order")
            return _with_query(str(order.get("_cancel_url") or self.base_url), token=order_id)

    def capture_order(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise not_found("order")
            if order["status"] == "COMPLETED":
                raise unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.")
            if order["status"] != "APPROVED":
                raise unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
            if self.funding.get(order_id) == "declined":
                raise unprocessable(
                    "INSTRUMENT_DECLINED",
                    "The instrument presented was either declined by the processor or bank, or it can't be used for "
                    "this payment.",
                )
            unit = order["purchase_units"][0]
            capture_id = _id()
            capture: dict[str, Any] = {
                "id": capture_id,
                "status": "COMPLETED",
                "amount": dict(unit["amount"]),
                "final_capture": True,
                "seller_protection": {"status": "ELIGIBLE"},
                "create_time": _now(),
                "update_time": _now(),
                "supplementary_data": {"related_ids": {"order_id": order_id}},
                "_refunded": 0,
                **{k: unit[k] for k in ("custom_id", "invoice_id") if unit.get(k)},
            }
            self.captures[capture_id] = capture
            unit["payments"] = {"captures": [self.capture_view(capture_id)]}
            order.update(status="COMPLETED", update_time=_now())
            self._emit("PAYMENT.CAPTURE.COMPLETED", "capture", "Payment completed.", capture_id=capture_id)
            return self.order_view(order_id)

    def capture_view(self, capture_id: str) -> dict[str, Any]:
        with self.lock:
            capture = self.captures.get(capture_id)
            if capture is None:
                raise not_found("capture")
            view = {k: v for k, v in json.loads(json.dumps(capture)).items() if not k.startswith("_")}
        base = self.base_url
        order_id = view["supplementary_data"]["related_ids"]["order_id"]
        view["links"] = [
            {"href": f"{base}/v2/payments/captures/{capture_id}", "rel": "self", "method": "GET"},
            {"href": f"{base}/v2/payments/captures/{capture_id}/refund", "rel": "refund", "method": "POST"},
            {"href": f"{base}/v2/checkout/orders/{order_id}", "rel": "up", "method": "GET"},
        ]
        return view

    def refund_capture(self, capture_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            capture = self.captures.get(capture_id)
            if capture is None:
                raise not_found("capture")
            total, currency = _minor(capture["amount"], "/amount")
            left = total - int(capture["_refunded"])
            if left <= 0:
                raise unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
            if body.get("amount") is not None:
                wanted, asked_currency = _minor(body["amount"], "/amount")
                if asked_currency != currency:
                    raise unprocessable("REFUND_CURRENCY_MISMATCH", "Refund must be in the currency of the capture.")
                if wanted > left:
                    raise unprocessable(
                        "REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount."
                    )
            else:
                wanted = left
            refund_id = _id()
            refund: dict[str, Any] = {
                "id": refund_id,
                "status": "COMPLETED",
                "amount": _value(wanted, currency),
                "create_time": _now(),
                "update_time": _now(),
                "_capture": capture_id,
                **{k: str(body[k]) for k in ("custom_id", "invoice_id", "note_to_payer") if body.get(k)},
            }
            self.refunds[refund_id] = refund
            capture["_refunded"] = int(capture["_refunded"]) + wanted
            capture["status"] = "REFUNDED" if capture["_refunded"] >= total else "PARTIALLY_REFUNDED"
            capture["update_time"] = _now()
            order = self.orders[capture["supplementary_data"]["related_ids"]["order_id"]]
            order["purchase_units"][0]["payments"] = {"captures": [self.capture_view(capture_id)]}
            self._emit("PAYMENT.CAPTURE.REFUNDED", "refund", "A payment capture was refunded.", refund_id=refund_id)
            return self.refund_view(refund_id)

    def refund_view(self, refund_id: str) -> dict[str, Any]:
        with self.lock:
            refund = self.refunds.get(refund_id)
            if refund is None:
                raise not_found("refund")
            view = {k: v for k, v in json.loads(json.dumps(refund)).items() if not k.startswith("_")}
            capture_id = refund["_capture"]
        base = self.base_url
        view["links"] = [
            {"href": f"{base}/v2/payments/refunds/{refund_id}", "rel": "self", "method": "GET"},
            {"href": f"{base}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
        ]
        return view

    # -- webhooks ------------------------------------------------------------------------------------------------
    def _emit(
        self,
        type_: str,
        resource_type: str,
        summary: str,
        order_id: str | None = None,
        *,
        capture_id: str | None = None,
        refund_id: str | None = None,
    ) -> None:
        if order_id is not None:
            resource = self.order_view(order_id)
        elif capture_id is not None:
            resource = self.capture_view(capture_id)
        else:
            resource = self.refund_view(str(refund_id))
        event_id = "WH-" + secrets.token_hex(10).upper()
        self.events[event_id] = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": type_,
            "summary": summary,
            "resource": resource,
            "links": [],
        }
        self.deliveries[event_id] = Delivery(event_id)
        if self.webhook_url:
            self.outbox.put(event_id)

    def transmission(self, event_id: str) -> tuple[dict[str, str], bytes]:
        """A new signed transmission of the event."""
        with self.lock:
            event = self.events[event_id]
        body = body_of(event)
        transmission_id, when = str(uuid.uuid4()), _now()
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": when,
            "PAYPAL-TRANSMISSION-SIG": sign(self.sign_key, transmission_id, when, self.webhook_id, body),
            "PAYPAL-CERT-URL": self.base_url + CERT_PATH,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "User-Agent": "PayPal/AUHD-214.0-58843836",
        }
        with self.lock:
            self.transmissions[event_id] = (headers, body)
        return headers, body

    def post(self, headers: dict[str, str], body: bytes) -> tuple[int | None, str | None]:
        if not self.webhook_url:
            return None, "no webhook URL configured"
        request = urllib.request.Request(self.webhook_url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:  # noqa: S310 - local URL
                return int(response.status), None
        except urllib.error.HTTPError as exc:
            return int(exc.code), None
        except OSError as exc:
            return None, repr(exc)

    def deliver(self, event_id: str) -> Delivery:
        with self.lock:
            forgotten = event_id not in self.events
            delivery = self.deliveries.setdefault(event_id, Delivery(event_id))
        if forgotten:  # a reset came after it was queued: nothing to send (and the sender must live on)
            delivery.error = "the event was reset"
            return delivery
        delivery.attempts += 1
        delivery.status, delivery.error = self.post(*self.transmission(event_id))
        delivery.delivered = delivery.status is not None and 200 <= delivery.status < 300
        return delivery

    def replay(self, event_id: str) -> dict[str, Any]:
        """The event's last transmission again, exactly as it was sent (or a first one, if none was)."""
        with self.lock:
            if event_id not in self.events:
                raise not_found("event")
            sent = self.transmissions.get(event_id)
        headers, body = sent if sent is not None else self.transmission(event_id)
        status, error = self.post(headers, body)
        return {"event_id": event_id, "status": status, "error": error}

    def verify(self, data: dict[str, Any]) -> dict[str, str]:
        wanted = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        missing = [k for k in (*wanted, "webhook_event") if not data.get(k)]
        if missing:
            raise PayPalFailure(
                400, "VALIDATION_ERROR", "Invalid request - see details.", "MISSING_REQUIRED_FIELD", ",".join(missing)
            )
        event = data["webhook_event"]
        expected = sign(
            self.sign_key,
            str(data["transmission_id"]),
            str(data["transmission_time"]),
            str(data["webhook_id"]),
            body_of(event) if isinstance(event, dict) else b"",
        )
        good = (
            hmac.compare_digest(str(data["transmission_sig"]), expected)
            and data["webhook_id"] == self.webhook_id
            and data["cert_url"] == self.base_url + CERT_PATH
        )
        return {"verification_status": "SUCCESS" if good else "FAILURE"}

    def close(self) -> None:
        self.outbox.close()


class _OAuthFailure(Exception):
    def __init__(self, error: str, description: str, status: int = 401) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PayPal (local): {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#111}}
button{{font-size:1rem;padding:.6rem 1rem;margin:.4rem 0;border-radius:.4rem;border:1px solid #003087}}
.pay{{background:#003087;color:#fff}} .cancel{{background:#fff;color:#003087}}
fieldset{{border:1px solid #999;border-radius:.4rem}}</style></head>
<body><main><h1>PayPal (local)</h1>{content}</main></body></html>
"""


def approval_page(order: dict[str, Any]) -> str:
    """The buyer's page: what to pay and the two buttons, or, once the order no longer awaits them, where it stands
    and the way back to the shop (a buyer who pressed Back, or opened the link twice)."""
    token = html.escape(str(order["id"]))
    amount = order["purchase_units"][0]["amount"]
    shown = f"{html.escape(amount['currency_code'])} {html.escape(amount['value'])}"
    if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
        # Back to the shop as the approval redirect went, so its return page can finish what the buyer started.
        payer = (order.get("payer") or {}).get("payer_id")
        back_url = str(order.get("_return_url") or "/")
        back = html.escape(_with_query(back_url, token=order["id"], **({"PayerID": payer} if payer else {})))
        state = html.escape(order["status"].lower())
        content = f'<p>This payment is {state}.</p><p><a href="{back}">Return to the shop</a></p>'
        return PAGE.format(title="payment", content=content)
    content = f"""<p>Gears (local) asks you to pay <strong>{shown}</strong>.</p>
<form method="post" action="/checkoutnow/approve">
<input type="hidden" name="token" value="{token}">
<fieldset><legend>Pay with</legend>
<label><input type="radio" name="funding" value="balance" checked> PayPal balance</label><br>
<label><input type="radio" name="funding" value="declined"> A card PayPal will decline</label>
</fieldset>
<button class="pay" type="submit">Pay with PayPal</button>
</form>
<form method="post" action="/checkoutnow/cancel">
<input type="hidden" name="token" value="{token}">
<button class="cancel" type="submit">Cancel and return to the shop</button>
</form>"""
    return PAGE.format(title=f"pay {shown}", content=content)


class PayPalServer(EmulatorServer):
    state: PayPalState

    def __init__(self, address: tuple[str, int], state: PayPalState) -> None:
        super().__init__(address, PayPalHandler, state)
        state.base_url = self.base_url


class PayPalHandler(EmulatorHandler):
    server: PayPalServer

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- plumbing ------------------------------------------------------------------------------------------------
    def _send_raw(self, status: int, raw: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Paypal-Debug-Id", secrets.token_hex(7))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(raw)

    def _send(self, status: int, body: Any) -> None:
        self._send_raw(status, json.dumps(body, indent=2).encode())

    def _redirect(self, location: str) -> None:
        self._send_raw(303, b"", "text/plain", Location=location)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.") from None
        if not isinstance(data, dict):
            raise invalid("MALFORMED_REQUEST_JSON", "The request body is a JSON object.")
        return data

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        try:
            if url.path.startswith("/_emulator/"):
                self._control(method, url.path, raw, url.query)
            elif url.path.startswith("/checkoutnow"):
                self._page(method, url.path, raw, url.query)
            elif url.path == "/v1/oauth2/token" and method == "POST":
                form = dict(parse_qsl(raw.decode()))
                self._send(200, self.server.state.issue_token(self.headers.get("Authorization") or "", form))
            elif url.path == CERT_PATH:
                self._send_raw(200, b"-----BEGIN CERTIFICATE-----\nLOCAL\n-----END CERTIFICATE-----\n", "text/plain")
            elif url.path.startswith(("/v1/", "/v2/")):
                self._api(method, url.path, raw)
            else:
                raise not_found("route")
        except _OAuthFailure as failure:
            self._send(failure.status, failure.body)
        except PayPalFailure as failure:
            self._send(failure.status, failure.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault); nobody to answer
        except Exception as exc:  # noqa: BLE001 - an emulator bug answers as PayPal's own failures do
            self._send(500, {"name": "INTERNAL_SERVER_ERROR", "message": f"emulator error: {exc!r}", "details": []})

    def _api(self, method: str, path: str, raw: bytes) -> None:
        state = self.server.state
        if not state.authorized(self.headers.get("Authorization") or ""):
            self._send(401, {"error": "invalid_token", "error_description": "Token signature verification failed"})
            return
        fault = state.faults.take()
        if fault == "error":
            self._send(500, PayPalFailure(500, "INTERNAL_SERVER_ERROR", "An internal server error occurred.").body)
            return
        request_id = self.headers.get("PayPal-Request-Id") if method == "POST" else None
        if request_id:
            status, body = self._idempotent(f"{method} {path} {request_id}", lambda: self._execute(method, path, raw))
        else:
            status, body = self._execute(method, path, raw)
        if fault == "timeout":
            state.outbox.closing.wait(state.faults.delay)
        self._send_raw(status, body)

    def _idempotent(self, key: str, run: Any) -> tuple[int, bytes]:
        state = self.server.state
        with state.lock:
            entry = state.idempotency.get(key)
            first = entry is None
            if entry is None:
                entry = state.idempotency[key] = Idempotent()
        if not first:
            entry.done.wait(60)
            if entry.status:
                return entry.status, entry.body
            return run()  # the first broke without an answer (an emulator bug): this one is worked on afresh
        try:
            status, body = run()
        except BaseException:
            with state.lock:
                state.idempotency.pop(key, None)
            entry.done.set()
            raise
        if status >= 400:  # a refused request made nothing: the id may be used again (only what was made is kept)
            with state.lock:
                state.idempotency.pop(key, None)
        entry.status, entry.body = status, body
        entry.done.set()
        return status, body

    def _execute(self, method: str, path: str, raw: bytes) -> tuple[int, bytes]:
        try:
            status, result = self._route(method, path, raw)
        except PayPalFailure as failure:
            return failure.status, json.dumps(failure.body, indent=2).encode()
        return status, json.dumps(result, indent=2).encode()

    def _route(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        state = self.server.state
        parts = path.strip("/").split("/")
        match (method, parts):
            case ("POST", ["v1", "notifications", "verify-webhook-signature"]):
                return 200, state.verify(self._json(raw))
            case ("POST", ["v2", "checkout", "orders"]):
                return 200, state.create_order(self._json(raw))
            case ("GET", ["v2", "checkout", "orders", order_id]):
                return 200, state.order_view(order_id)
            case ("POST", ["v2", "checkout", "orders", order_id, "capture"]):
                return 201, state.capture_order(order_id)
            case ("GET", ["v2", "payments", "captures", capture_id]):
                return 200, state.capture_view(capture_id)
            case ("POST", ["v2", "payments", "captures", capture_id, "refund"]):
                return 201, state.refund_capture(capture_id, self._json(raw))
            case ("GET", ["v2", "payments", "refunds", refund_id]):
                return 200, state.refund_view(refund_id)
        raise not_found("route")

    def _page(self, method: str, path: str, raw: bytes, query: str) -> None:
        """PayPal's approval page and its two buttons, for a browser (or a test with plain HTTP)."""
        state = self.server.state
        form = dict(parse_qsl(raw.decode() if method == "POST" else query))
        token = form.get("token", "")
        with state.lock:
            order = state.orders.get(token)
            order = json.loads(json.dumps(order)) if order is not None else None
        if order is None:
            page = PAGE.format(title="not found", content="<p>There is no such payment.</p>")
            self._send_raw(404, page.encode(), "text/html; charset=utf-8")
            return
        if method == "GET" and path == "/checkoutnow":
            self._send_raw(200, approval_page(order).encode(), "text/html; charset=utf-8")
        elif method == "POST" and path == "/checkoutnow/approve":
            try:
                self._redirect(state.approve(token, form.get("funding") or "balance"))
            except PayPalFailure:
                self._send_raw(409, approval_page(order).encode(), "text/html; charset=utf-8")
        elif method == "POST" and path == "/checkoutnow/cancel":
            self._redirect(state.cancel(token))
        else:
            raise not_found("page")

    def _control(self, method: str, path: str, raw: bytes, query: str) -> None:
        state = self.server.state
        parts = path.strip("/").split("/")[1:]
        data = self._json(raw)
        match (method, parts):
            case ("POST", ["faults"]):
                self._send(200, state.faults_from(data))
            case ("GET", ["orders"]):
                wanted = dict(parse_qsl(query)).get("customId")
                with state.lock:
                    ids = [
                        o["id"]
                        for o in state.orders.values()
                        if wanted is None or o["purchase_units"][0].get("custom_id") == wanted
                    ]
                self._send(200, {"data": [state.order_view(i) for i in ids]})
            case ("POST", ["orders", order_id, "approve"]):
                redirect = state.approve(order_id, str(data.get("funding") or "balance"))
                self._send(200, {"order": state.order_view(order_id), "redirect": redirect})
            case ("POST", ["orders", order_id, "cancel"]):
                self._send(200, {"redirect": state.cancel(order_id)})
            case ("GET", ["events"]):
                with state.lock:
                    events = [{**e, "delivery": vars(state.deliveries[e["id"]]).copy()} for e in state.events.values()]
                self._send(200, {"data": events})
            case ("POST", ["webhooks", "replay", event_id]):
                self._send(200, state.replay(event_id))
            case ("POST", ["webhooks", "hold"]):
                if not isinstance(data.get("hold"), bool):
                    raise invalid("INVALID_PARAMETER_VALUE", "hold is true or false.", "hold")
                self._send(200, state.outbox.hold(data["hold"]))
            case ("POST", ["reset"]):
                state.reset()
                self._send(200, {"reset": True})
            case _:
                raise not_found("control route")


@dataclass(frozen=True)
class PayPalControl(ControlClient):
    """A client of a running emulator's control API (``<base>/_emulator/``)."""

    def orders(self, custom_id: str | None = None) -> list[dict[str, Any]]:
        """PayPal's orders (for one of the shop's orders: its ``custom_id``)."""
        return list(self.control("GET", "orders" + (f"?customId={custom_id}" if custom_id else ""))["data"])

    def approve(self, order_id: str, funding: str = "balance") -> dict[str, Any]:
        return dict(self.control("POST", f"orders/{order_id}/approve", {"funding": funding}))

    def cancel(self, order_id: str) -> dict[str, Any]:
        return dict(self.control("POST", f"orders/{order_id}/cancel", {}))

    def events(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "events")["data"])

    def replay(self, event_id: str) -> dict[str, Any]:
        return dict(self.control("POST", f"webhooks/replay/{event_id}", {}))


def start_paypal_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    webhook_url: str | None = None,
    client_id: str = "local-client",
    client_secret: str = "local-secret",  # noqa: S107 - the local emulator's own
    webhook_id: str = "WH-LOCAL",
) -> tuple[PayPalServer, str]:
    """Serve the emulator on a background thread (``port`` 0: any free port); the server and its base URL.

    Stop it with ``server.shutdown(); server.server_close()``."""
    server = PayPalServer((host, port), PayPalState(webhook_url, client_id, client_secret, webhook_id))
    serve(server, "paypal-emulator")
    return server, server.base_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A PayPal-compatible endpoint for local runs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12112)
    parser.add_argument("--webhook-url")
    parser.add_argument("--client-id", default="local-client")
    parser.add_argument("--client-secret", default="local-secret")
    parser.add_argument("--webhook-id", default="WH-LOCAL")
    args = parser.parse_args(argv)
    server, url = start_paypal_emulator(
        args.host, args.port, args.webhook_url, args.client_id, args.client_secret, args.webhook_id
    )
    print(f"PayPal emulator on {url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
