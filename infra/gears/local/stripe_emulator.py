"""A small Stripe-compatible endpoint for the local shop and the tests: the unmodified ``stripe`` SDK talks to it when
its API base points here, so the payment service runs its production code path with no Stripe account.

What it speaks (Stripe's wire format: form-encoded bodies with nested keys such as ``metadata[orderId]``, JSON
answers, ``Authorization: Bearer sk_test_...``, 401 otherwise):

- ``POST /v1/payment_intents`` (``confirm=true`` with a payment method charges at once), ``GET
  /v1/payment_intents/{id}``, ``POST /v1/payment_intents/{id}/confirm``, ``POST /v1/payment_intents/{id}/cancel``;
- ``POST /v1/refunds`` (full when no ``amount``, or partial; more than what is left is a 400), ``GET
  /v1/refunds/{id}``, ``GET /v1/refunds?payment_intent=``;
- Stripe's test payment methods: ``pm_card_visa`` (and the other plain ``pm_card_<brand>``) succeed,
  ``pm_card_chargeDeclined`` is declined (``generic_decline``), ``pm_card_chargeDeclinedInsufficientFunds``
  (``insufficient_funds``), a few more below. A decline is HTTP 402 ``card_error`` with the PaymentIntent, left in
  ``requires_payment_method``, inside the error as Stripe does;
- ``Idempotency-Key`` as Stripe honours it: the same key with the same parameters replays the first answer (with
  ``Idempotent-Replayed: true``), with other parameters it is a 400 ``idempotency_error``, and while the first
  request is still running a 409;
- signed webhooks (``payment_intent.succeeded``, ``payment_intent.payment_failed``, ``payment_intent.canceled``,
  ``charge.refunded``, ``refund.created``) POSTed to the configured URL from a background thread with a
  ``Stripe-Signature`` of ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">``, retried a few times on failure.

A control API for tests and operators (no auth; it only ever listens on loopback):

- ``POST /_emulator/faults {"mode": "error"|"timeout", "count": N, "delay": s}``: the next N API calls answer 500
  (without doing anything), or do their work and then hang ``delay`` seconds before answering (the answer a client
  timed out on is lost, as when Stripe is slow);
- ``GET /_emulator/payment_intents`` (``?orderId=`` filters on ``metadata[orderId]``): what was created and charged;
- ``GET /_emulator/events`` and ``POST /_emulator/webhooks/replay/{eventId}`` (delivers it again, signed afresh,
  synchronously; the answer tells the status the webhook endpoint gave);
- ``POST /_emulator/webhooks/hold {"hold": true|false}``: webhooks wait (the endpoint is down, as after a bad
  deploy: Stripe keeps retrying for days), then all go out, in order, once released;
- ``POST /_emulator/reset``.

``start_stripe_emulator(host, port, webhook_url, webhook_secret)`` runs it in a thread and returns the server and
its base URL; ``python -m gears.local.stripe_emulator --port 12111`` runs it on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
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

API_VERSION = "2025-09-30.clover"
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_S = (0.2, 0.5, 1.0)
WEBHOOK_TIMEOUT_S = 10.0

# The test payment methods (https://docs.stripe.com/testing): what each does on confirmation.
SUCCEEDING_METHODS = frozenset(
    {"pm_card_visa", "pm_card_visa_debit", "pm_card_mastercard", "pm_card_amex", "pm_card_discover", "pm_card_us"}
)
# payment method -> (error code, decline code, message)
DECLINING_METHODS: dict[str, tuple[str, str | None, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedStolenCard": ("card_declined", "stolen_card", "Your card was declined."),
    "pm_card_chargeDeclinedFraudulent": ("card_declined", "fraudulent", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", None, "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": ("incorrect_cvc", None, "Your card's security code is incorrect."),
    "pm_card_chargeDeclinedProcessingError": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
CANCELABLE = frozenset(
    {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}
)
CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


class StripeFailure(Exception):
    """An API error answered as Stripe does: ``{"error": {...}}`` with an HTTP status."""

    def __init__(self, status: int, type_: str, message: str, *, validation: bool = False, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **fields}}
        # A request whose parameters failed validation never started: Stripe saves no idempotent result for it.
        self.validation = validation


def invalid(
    message: str, param: str | None = None, code: str | None = None, status: int = 400, *, validation: bool = False
) -> StripeFailure:
    fields: dict[str, Any] = {}
    if param:
        fields["param"] = param
    if code:
        fields["code"] = code
    return StripeFailure(status, "invalid_request_error", message, validation=validation, **fields)


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back to nested values: ``metadata[orderId]=1`` -> ``{"metadata": {"orderId": "1"}}``;
    ``expand[0]=a`` -> ``{"expand": ["a"]}``."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = [key.split("[", 1)[0], *[p.rstrip("]") for p in key.split("[")[1:]]]
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid hash: {part}", part, validation=True)
            node = child
        node[parts[-1]] = value
    return _lists(out)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return [_lists(value[k]) for k in sorted(value, key=int)]
        return {k: _lists(v) for k, v in value.items()}
    return value


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


class StripeState:
    """The account's objects, the idempotency cache, faults and the webhook queue; one lock guards them."""

    def __init__(self, webhook_url: str | None, webhook_secret: str) -> None:
        self.lock = threading.RLock()
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.idempotency: dict[str, Idempotent] = {}
        self.faults = Faults()
        self.outbox = WebhookOutbox(self.deliver, "stripe-webhooks", WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_S)

    def reset(self) -> None:
        with self.lock:
            for store in (self.intents, self.charges, self.refunds, self.events, self.deliveries, self.idempotency):
                store.clear()
        self.faults.clear()
        self.outbox.hold(False)

    # -- faults ------------------------------------------------------------------------------------------------
    def faults_from(self, data: dict[str, Any]) -> dict[str, Any]:
        """``POST /_emulator/faults``: arm what ``data`` asks; what is armed now."""
        mode = data.get("mode")
        if mode not in ("error", "timeout", None):
            raise invalid('mode is "error" or "timeout".', "mode")
        try:
            count = int(data.get("count", 1))
            delay = float(data["delay"]) if data.get("delay") is not None else None
        except (TypeError, ValueError):
            raise invalid("count is a whole number, delay a number of seconds.", "count") from None
        return self.faults.arm(mode, count, delay)

    def hold_from(self, data: dict[str, Any]) -> dict[str, Any]:
        """``POST /_emulator/webhooks/hold``: hold the webhooks (the endpoint is down) or release them."""
        if not isinstance(data.get("hold"), bool):
            raise invalid("hold is true or false.", "hold")
        return self.outbox.hold(data["hold"])

    # -- objects -----------------------------------------------------------------------------------------------
    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _amount(params.get("amount"), "amount", required=True)
        currency = str(params.get("currency") or "").lower()
        if len(currency) != 3 or not currency.isalpha():
            raise invalid("Invalid currency: " + (currency or "(none)"), "currency", validation=True)
        if amount < 1:
            raise invalid("Amount must be at least 1 in the currency's minor unit.", "amount", "amount_too_small")
        pm = params.get("payment_method")
        if pm is not None:
            _check_method(str(pm))
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise invalid("Invalid metadata: must be a hash.", "metadata")
        now = int(time.time())
        intent: dict[str, Any] = {
            "id": _id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": params.get("capture_method") or "automatic",
            "confirmation_method": "automatic",
            "created": now,
            "currency": currency,
            "customer": params.get("customer"),
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": {str(k): str(v) for k, v in metadata.items()},
            "payment_method": pm,
            "payment_method_types": ["card"],
            "status": "requires_confirmation" if pm else "requires_payment_method",
        }
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
        with self.lock:
            self.intents[intent["id"]] = intent
        if _truthy(params.get("confirm")):
            return self.confirm_intent(intent["id"], {})
        return dict(intent)

    def intent(self, intent_id: str) -> dict[str, Any]:
        with self.lock:
            found = self.intents.get(intent_id)
            if found is None:
                raise invalid(f"No such payment_intent: '{intent_id}'", "intent", "resource_missing", 404)
            return found

    def confirm_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            intent = self.intent(intent_id)
            if params.get("payment_method"):
                _check_method(str(params["payment_method"]))
                intent["payment_method"] = params["payment_method"]
            if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
                raise invalid(
                    f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}.",
                    code="payment_intent_unexpected_state",
                )
            pm = intent.get("payment_method")
            if not pm:
                raise invalid(
                    "You cannot confirm this PaymentIntent because it's missing a payment method.",
                    code="payment_intent_unexpected_state",
                )
            charge = self._charge(intent, pm)
            intent["latest_charge"] = charge["id"]
            if charge["status"] == "succeeded":
                intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
                self._emit("payment_intent.succeeded", intent)
                return dict(intent)
            code, decline_code, message = DECLINING_METHODS[pm]
            error: dict[str, Any] = {
                "charge": charge["id"],
                "code": code,
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                "message": message,
                "payment_method": {"id": pm, "object": "payment_method", "type": "card"},
                "type": "card_error",
            }
            if decline_code:
                error["decline_code"] = decline_code
            intent.update(status="requires_payment_method", last_payment_error=error, payment_method=None)
            self._emit("payment_intent.payment_failed", intent)
            failure = StripeFailure(
                402, "card_error", message, **{k: v for k, v in error.items() if k not in ("type", "message")}
            )
            failure.body["error"]["payment_intent"] = dict(intent)
            raise failure

    def _charge(self, intent: dict[str, Any], pm: str) -> dict[str, Any]:
        declined = DECLINING_METHODS.get(pm)
        charge = {
            "id": _id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0 if declined else intent["amount"],
            "amount_refunded": 0,
            "captured": not declined,
            "created": int(time.time()),
            "currency": intent["currency"],
            "failure_code": declined[0] if declined else None,
            "failure_message": declined[2] if declined else None,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "outcome": {
                "type": "issuer_declined" if declined else "authorized",
                "reason": declined[1] if declined else None,
                "network_status": "declined_by_network" if declined else "approved_by_network",
            },
            "paid": not declined,
            "payment_intent": intent["id"],
            "payment_method": pm,
            "refunded": False,
            "status": "failed" if declined else "succeeded",
        }
        self.charges[charge["id"]] = charge
        return charge

    def cancel_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            intent = self.intent(intent_id)
            if intent["status"] not in CANCELABLE:
                raise invalid(
                    f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
                    "PaymentIntent with one of the following statuses may be canceled: "
                    + ", ".join(sorted(CANCELABLE))
                    + ".",
                    code="payment_intent_unexpected_state",
                )
            reason = params.get("cancellation_reason")
            if reason is not None and reason not in CANCELLATION_REASONS:
                raise invalid(f"Invalid cancellation_reason: {reason}", "cancellation_reason")
            intent.update(status="canceled", canceled_at=int(time.time()), cancellation_reason=reason)
            self._emit("payment_intent.canceled", intent)
            return dict(intent)

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            charge = self._refundable_charge(params)
            left = charge["amount_captured"] - charge["amount_refunded"]
            if left <= 0:
                raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
            amount = _amount(params.get("amount"), "amount") if params.get("amount") is not None else left
            if amount < 1:
                raise invalid("Refund amount must be positive.", "amount")
            if amount > left:
                raise invalid(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                    "amount",
                    "amount_too_large",
                )
            reason = params.get("reason")
            if reason is not None and reason not in REFUND_REASONS:
                raise invalid(f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}", "reason")
            metadata = params.get("metadata") or {}
            refund = {
                "id": _id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "metadata": {str(k): str(v) for k, v in dict(metadata).items()},
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": "succeeded",
            }
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            self._emit("refund.created", refund)
            self._emit("charge.refunded", {**charge, "refunds": self._refund_list(charge["payment_intent"])})
            return dict(refund)

    def _refundable_charge(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("payment_intent"):
            intent = self.intent(str(params["payment_intent"]))
            if intent["status"] != "succeeded" or not intent.get("latest_charge"):
                raise invalid(
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    "payment_intent",
                )
            return self.charges[intent["latest_charge"]]
        if params.get("charge"):
            charge = self.charges.get(str(params["charge"]))
            if charge is None:
                raise invalid(f"No such charge: '{params['charge']}'", "charge", "resource_missing", 404)
            if charge["status"] != "succeeded":
                raise invalid(f"Charge {charge['id']} has not succeeded; nothing to refund.", "charge")
            return charge
        raise invalid("One of the following params should be provided for this request: payment_intent or charge.")

    def refund(self, refund_id: str) -> dict[str, Any]:
        with self.lock:
            found = self.refunds.get(refund_id)
            if found is None:
                raise invalid(f"No such refund: '{refund_id}'", "id", "resource_missing", 404)
            return dict(found)

    def _refund_list(self, intent_id: str | None) -> dict[str, Any]:
        data = [dict(r) for r in self.refunds.values() if intent_id is None or r["payment_intent"] == intent_id]
        data.sort(key=lambda r: r["created"], reverse=True)
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"}

    def list_refunds(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self._refund_list(params.get("payment_intent"))

    # -- webhooks ----------------------------------------------------------------------------------------------
    def _emit(self, type_: str, obj: dict[str, Any]) -> None:
        event_id = _id("evt")
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": _id("req"), "idempotency_key": None},
            "type": type_,
        }
        self.events[event_id] = event
        self.deliveries[event_id] = Delivery(event_id)
        if self.webhook_url:
            self.outbox.put(event_id)

    def deliver(self, event_id: str) -> Delivery:
        """POST one event to the webhook URL, signed now; record how it went."""
        with self.lock:
            event = self.events.get(event_id)
            delivery = self.deliveries.setdefault(event_id, Delivery(event_id))
        if event is None:  # reset since it was queued: nothing to send (the sender thread must live on)
            delivery.error = "the event was reset"
            return delivery
        payload = json.dumps(event, indent=2)
        delivery.attempts += 1
        if not self.webhook_url:
            delivery.error = "no webhook URL configured"
            return delivery
        request = urllib.request.Request(  # noqa: S310 - the configured local URL
            self.webhook_url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(payload, self.webhook_secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:  # noqa: S310
                delivery.status = response.status
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
        except OSError as exc:
            delivery.status, delivery.error = None, repr(exc)
        delivery.delivered = delivery.status is not None and 200 <= delivery.status < 300
        if delivery.delivered:
            delivery.error = None
        return delivery

    def close(self) -> None:
        self.outbox.close()


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def _amount(value: Any, param: str, *, required: bool = False) -> int:
    if value is None:
        if required:
            raise invalid(f"Missing required param: {param}.", param, "parameter_missing", validation=True)
        return 0
    try:
        return int(str(value))
    except ValueError:
        raise invalid(f"Invalid integer: {value}", param, validation=True) from None


def _check_method(pm: str) -> None:
    if pm not in SUCCEEDING_METHODS and pm not in DECLINING_METHODS:
        raise invalid(f"No such PaymentMethod: '{pm}'", "payment_method", "resource_missing")


# -- HTTP ------------------------------------------------------------------------------------------------------------
class StripeServer(EmulatorServer):
    state: StripeState

    def __init__(self, address: tuple[str, int], state: StripeState) -> None:
        super().__init__(address, StripeHandler, state)


class StripeHandler(EmulatorHandler):
    server: StripeServer

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        self._send_raw(status, raw, headers)

    def _send_raw(self, status: int, raw: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Request-Id", _id("req"))
        self.send_header("Stripe-Version", API_VERSION)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body()
        try:
            if url.path.startswith("/_emulator/"):
                self._control(method, url.path, body, url.query)
            elif url.path.startswith("/v1/"):
                self._api(method, url.path, body, url.query)
            else:
                raise invalid(f"Unrecognized request URL ({method}: {url.path}).", status=404)
        except StripeFailure as failure:
            self._send(failure.status, failure.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault); nobody to answer
        except Exception as exc:  # noqa: BLE001 - an emulator bug answers as Stripe's own failures do
            self._send(500, {"error": {"type": "api_error", "message": f"emulator error: {exc!r}"}})

    def _authorize(self) -> None:
        auth = self.headers.get("Authorization") or ""
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not (key.startswith("sk_test_") or key.startswith("rk_test_")):
            shown = (key[:8] + "*" * max(0, len(key) - 12) + key[-4:]) if len(key) > 12 else "(none)"
            raise StripeFailure(401, "invalid_request_error", f"Invalid API Key provided: {shown}")

    def _api(self, method: str, path: str, body: str, query: str) -> None:
        self._authorize()
        state = self.server.state
        fault = state.faults.take()
        if fault == "error":
            self._send(500, {"error": {"type": "api_error", "message": "An unknown error occurred (emulated)."}})
            return
        params = decode_form(body if method == "POST" else query)
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if key:
            status, raw, replayed = self._idempotent(key, f"{method} {path}", params)
            if fault == "timeout":
                state.outbox.closing.wait(state.faults.delay)
            self._send_raw(
                status, raw, {"Idempotency-Key": key, **({"Idempotent-Replayed": "true"} if replayed else {})}
            )
            return
        status, raw = self._execute(method, path, params)
        if fault == "timeout":
            state.outbox.closing.wait(state.faults.delay)
        self._send_raw(status, raw)

    def _idempotent(self, key: str, route: str, params: dict[str, Any]) -> tuple[int, bytes, bool]:
        state = self.server.state
        fingerprint = hashlib.sha256(json.dumps([route, params], sort_keys=True).encode()).hexdigest()
        with state.lock:
            entry = state.idempotency.get(key)
            first = entry is None
            if entry is None:
                entry = state.idempotency[key] = Idempotent(fingerprint)
        if entry.fingerprint != fingerprint:
            raise StripeFailure(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
            )
        if not first:
            if not entry.done.is_set():
                raise StripeFailure(
                    409,
                    "idempotency_error",
                    "There is currently another in-progress request using this Idempotent Key (that probably "
                    "means you submitted twice, and the other request is still going through). Please retry.",
                )
            return entry.status, entry.body, True
        method, path = route.split(" ", 1)
        try:
            status, raw = self._execute(method, path, params)
        except StripeFailure:
            with state.lock:  # not saved: the same key may be used again, with any parameters
                state.idempotency.pop(key, None)
            entry.done.set()
            raise
        entry.status, entry.body = status, raw
        entry.done.set()
        return status, raw, False

    def _execute(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, bytes]:
        try:
            result = self._route(method, path, params)
        except StripeFailure as failure:
            if failure.validation:
                raise
            return failure.status, json.dumps(failure.body, indent=2).encode()
        return 200, json.dumps(result, indent=2).encode()

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        state = self.server.state
        parts = path.strip("/").split("/")[1:]  # without "v1"
        match (method, parts):
            case ("POST", ["payment_intents"]):
                return state.create_intent(params)
            case ("GET", ["payment_intents", intent_id]):
                return dict(state.intent(intent_id))
            case ("POST", ["payment_intents", intent_id, "confirm"]):
                return state.confirm_intent(intent_id, params)
            case ("POST", ["payment_intents", intent_id, "cancel"]):
                return state.cancel_intent(intent_id, params)
            case ("POST", ["refunds"]):
                return state.create_refund(params)
            case ("GET", ["refunds"]):
                return state.list_refunds(params)
            case ("GET", ["refunds", refund_id]):
                return state.refund(refund_id)
        raise invalid(f"Unrecognized request URL ({method}: {path}).", status=404)

    def _control(self, method: str, path: str, body: str, query: str) -> None:
        state = self.server.state
        parts = path.strip("/").split("/")[1:]
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            raise invalid("The control API takes JSON.") from None
        match (method, parts):
            case ("POST", ["faults"]):
                self._send(200, state.faults_from(data))
            case ("GET", ["payment_intents"]):
                wanted = dict(parse_qsl(query)).get("orderId")
                with state.lock:
                    data_ = [
                        dict(i)
                        for i in state.intents.values()
                        if wanted is None or i["metadata"].get("orderId") == wanted
                    ]
                self._send(200, {"object": "list", "data": data_})
            case ("GET", ["refunds"]):
                self._send(200, state.list_refunds(dict(parse_qsl(query))))
            case ("GET", ["events"]):
                with state.lock:
                    events = [{**e, "delivery": vars(state.deliveries[e["id"]]).copy()} for e in state.events.values()]
                self._send(200, {"object": "list", "data": events})
            case ("POST", ["webhooks", "replay", event_id]):
                if event_id not in state.events:
                    raise invalid(f"No such event: '{event_id}'", status=404)
                self._send(200, vars(state.deliver(event_id)).copy())
            case ("POST", ["webhooks", "hold"]):
                self._send(200, state.hold_from(data))
            case ("POST", ["reset"]):
                state.reset()
                self._send(200, {"reset": True})
            case _:
                raise invalid(f"Unrecognized control URL ({method}: {path}).", status=404)


@dataclass(frozen=True)
class EmulatorControl(ControlClient):
    """A client of a running Stripe emulator's control API (``<base>/_emulator/``): what it holds, and its faults."""

    def intents(self, order_id: str) -> list[dict[str, Any]]:
        """The PaymentIntents made for an order (by their ``orderId`` metadata)."""
        return list(self.control("GET", f"payment_intents?orderId={order_id}")["data"])

    def refunds(self, intent_id: str) -> list[dict[str, Any]]:
        return list(self.control("GET", f"refunds?payment_intent={intent_id}")["data"])


def start_stripe_emulator(
    host: str = "127.0.0.1", port: int = 0, webhook_url: str | None = None, webhook_secret: str = ""
) -> tuple[StripeServer, str]:
    """Serve the emulator on a background thread (``port`` 0: any free port); the server and its base URL.

    Stop it with ``server.shutdown(); server.server_close()``."""
    server = StripeServer((host, port), StripeState(webhook_url, webhook_secret or "whsec_local"))
    serve(server, "stripe-emulator")
    return server, server.base_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A Stripe-compatible endpoint for local runs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default="whsec_local")
    args = parser.parse_args(argv)
    server, url = start_stripe_emulator(args.host, args.port, args.webhook_url, args.webhook_secret)
    print(f"Stripe emulator on {url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
