"""The payment provider port over PayPal: Orders v2 through PayPal's official SDK (``paypal-server-sdk``), and the
webhook check through PayPal's ``verify-webhook-signature`` API.

A PayPal payment is made in two steps the buyer sits between: ``charge`` creates the PayPal order (intent CAPTURE,
the amount from the server's totals, our order id as its ``custom_id`` and ``invoice_id``) and answers *waiting*,
with the link where the buyer approves it; once they have, ``capture`` takes the money. Refunds go through the
capture. Every call that moves money carries ``PayPal-Request-Id`` derived from our ids (the service's keys), so a
retried create, capture or refund is answered with what PayPal did the first time, never done twice.

Configuration comes from the environment the template sets: ``PAYPAL_API_BASE`` (``https://api-m.paypal.com`` live,
``https://api-m.sandbox.paypal.com`` sandbox; the local runtime and the tests point it at
:mod:`gears.local.paypal_emulator`), ``PAYPAL_CLIENT_ID_PARAMETER``, ``PAYPAL_CLIENT_SECRET_PARAMETER`` and
``PAYPAL_WEBHOOK_ID_PARAMETER`` (SSM SecureStrings read with Powertools, cached five minutes, as Stripe's are),
``PAYPAL_TIMEOUT_SECONDS`` (8) and ``PUBLIC_API_URL`` (where PayPal sends the buyer back:
``/payments/paypal/return`` and ``/payments/paypal/cancel``, with our order id).

``paypalserversdk`` is imported where it is used, never at module load.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from payment.domain import PAYPAL, Failure, Money
from payment.errors import InvalidWebhook, ProviderRejected, ProviderUnavailable
from payment.service import (
    KEY_IN_USE,
    NOTHING_LEFT,
    REFUND_TOO_LARGE,
    ChargeOutcome,
    EventChange,
    ProviderEvent,
    ProviderRef,
    ProviderRefund,
)
from payment.stripe_gateway import read_secret

DEFAULT_API_BASE = "https://api-m.sandbox.paypal.com"
WEBHOOK_TOLERANCE_S = 300
ZERO_DECIMAL = frozenset({"JPY", "HUF", "TWD"})  # PayPal's currencies without minor units
RETURN_PATH = "/payments/paypal/return"
CANCEL_PATH = "/payments/paypal/cancel"
# PayPal's refund statuses in the port's words.
REFUND_STATUS = {"COMPLETED": "succeeded", "PENDING": "pending", "FAILED": "failed", "CANCELLED": "canceled"}
# PayPal's refusals the service acts on, in the port's words.
REFUSALS = {
    "REFUND_AMOUNT_EXCEEDED": REFUND_TOO_LARGE,
    "CAPTURE_FULLY_REFUNDED": NOTHING_LEFT,
    "DUPLICATE_REQUEST_ID": KEY_IN_USE,
}


class PayPalSettings:
    """Where PayPal is, whose credentials, how long to wait; read at each use (cheap), so a client is rebuilt only
    when something changed."""

    @staticmethod
    def current() -> tuple[str, str, str, float]:
        return (
            (os.environ.get("PAYPAL_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            os.environ.get("PAYPAL_CLIENT_ID_PARAMETER", ""),
            os.environ.get("PAYPAL_CLIENT_SECRET_PARAMETER", ""),
            float(os.environ.get("PAYPAL_TIMEOUT_SECONDS") or 8),
        )


# -- money in PayPal's words: a decimal string in the currency's units ----------------------------------------------
def to_value(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return str(amount)
    return f"{amount // 100}.{amount % 100:02d}"


def to_minor(value: Any, currency: str) -> int:
    try:
        units = Decimal(str(value))
    except InvalidOperation:
        return 0
    return int(units if currency in ZERO_DECIMAL else units * 100)


# -- our refund metadata in PayPal's one free field (custom_id, 127 characters) -------------------------------------
REQUEST_KEY_MARK = "-refund-req-"


def encode_refund_metadata(metadata: Mapping[str, str]) -> str:
    """``<orderId>|<kind>|<request key's digest>``: what the refund webhook needs to record who asked."""
    key = metadata.get("requestKey", "")
    digest = key.split(REQUEST_KEY_MARK, 1)[1] if REQUEST_KEY_MARK in key else ""
    return "|".join((metadata.get("orderId", ""), metadata.get("kind", ""), digest))[:127]


def decode_refund_metadata(custom_id: str | None, note: str | None) -> dict[str, str]:
    order_id, kind, digest = ([*(custom_id or "").split("|"), "", ""])[:3]
    metadata = {"orderId": order_id} if order_id else {}
    if kind:
        metadata["kind"] = kind
    if digest and order_id:
        metadata["requestKey"] = f"order-{order_id}{REQUEST_KEY_MARK}{digest}"
    if note:
        metadata["reason"] = note
    return metadata


def _issue(exc: Any) -> str:
    """The first ``details[].issue`` of a PayPal error (``ORDER_NOT_APPROVED``), else its ``name``."""
    for detail in getattr(exc, "details", None) or []:
        issue = getattr(detail, "issue", None)
        if issue:
            return str(issue)
    return str(getattr(exc, "name", None) or "")


def _message(exc: Any) -> str:
    for detail in getattr(exc, "details", None) or []:
        if getattr(detail, "description", None):
            return str(detail.description)
    return str(getattr(exc, "message", None) or exc)


def _link(resource: Mapping[str, Any], *rels: str) -> str | None:
    for link in resource.get("links") or []:
        if link.get("rel") in rels:
            return str(link.get("href"))
    return None


class PayPalGateway:
    """:class:`payment.service.PaymentProvider` over PayPal's Orders v2 and Payments v2 APIs."""

    name = PAYPAL

    def __init__(
        self,
        secret: Callable[[str], str] = read_secret,
        public_url: Callable[[], str] = lambda: os.environ.get("PUBLIC_API_URL", ""),
        tolerance: int = WEBHOOK_TOLERANCE_S,
    ) -> None:
        self._secret = secret
        self._public_url = public_url
        self.tolerance = tolerance
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_for: tuple[Any, ...] | None = None
        self._token: tuple[str, float] | None = None  # the SDK's access token and when it stops being good

    # -- the SDK's client ----------------------------------------------------------------------------------------
    def _paypal(self) -> Any:
        from paypalserversdk.configuration import Configuration, Server
        from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
        from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

        base, id_parameter, secret_parameter, timeout = PayPalSettings.current()
        if not id_parameter or not secret_parameter:
            raise ProviderUnavailable("PAYPAL_CLIENT_ID_PARAMETER and PAYPAL_CLIENT_SECRET_PARAMETER must be set.")
        wanted = (base, self._secret(id_parameter), self._secret(secret_parameter), timeout)
        with self._lock:
            if self._client is None or self._client_for != wanted:
                credentials = ClientCredentialsAuthCredentials(
                    o_auth_client_id=wanted[1],
                    o_auth_client_secret=wanted[2],
                    o_auth_on_token_update=self._remember_token,
                )
                config = Configuration(client_credentials_auth_credentials=credentials, timeout=timeout)
                # The SDK knows PayPal's two addresses by environment; this one is the configured base.
                config.environments = {config.environment: {Server.DEFAULT: base}}
                self._client = PaypalServersdkClient(config=config)
                self._client_for = wanted
                self._token = None
            return self._client

    def _remember_token(self, token: Any) -> None:
        expires_in = float(getattr(token, "expires_in", 0) or 0)
        self._token = (str(token.access_token), time.monotonic() + max(0.0, expires_in - 60))

    def _access_token(self) -> str:
        client = self._paypal()
        if self._token is None or time.monotonic() >= self._token[1]:
            self._call(client.oauth_2.is_valid)  # fetches a token when it has none: _remember_token keeps it
            if self._token is None:
                self._remember_token(self._call(client.oauth_2.fetch_token))
        assert self._token is not None
        return self._token[0]

    def _call(self, call: Callable[..., Any], *args: Any) -> Any:
        """One SDK call; PayPal's 5xx, 429, 401 and the network are :class:`ProviderUnavailable`."""
        from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
        from paypalserversdk.exceptions.api_exception import ApiException
        from requests import RequestException

        try:
            return call(*args)
        except AuthValidationException as exc:  # no token: PayPal refused our credentials, or could not be asked
            raise ProviderUnavailable("PayPal gave no access token (its credentials, or PayPal): try again.") from exc
        except ApiException as exc:
            if exc.response_code >= 500 or exc.response_code in (401, 403, 408, 429):
                raise ProviderUnavailable(f"PayPal did not answer usefully ({exc.response_code}): try again.") from exc
            raise
        except (RequestException, OSError) as exc:
            raise ProviderUnavailable(f"PayPal did not answer ({type(exc).__name__}): try again.") from exc

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(response.text or "{}")
        return body

    # -- the port ------------------------------------------------------------------------------------------------
    def charge(
        self, *, order_id: str, user_id: str | None, amount: Money, payment_method: str, idempotency_key: str
    ) -> ChargeOutcome:
        """Create the PayPal order; the buyer approves it at the link this answers."""
        from paypalserversdk.exceptions.api_exception import ApiException
        from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
        from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
        from paypalserversdk.models.order_request import OrderRequest
        from paypalserversdk.models.payment_source import PaymentSource
        from paypalserversdk.models.paypal_experience_user_action import PaypalExperienceUserAction
        from paypalserversdk.models.paypal_wallet import PaypalWallet
        from paypalserversdk.models.paypal_wallet_context_shipping_preference import (
            PaypalWalletContextShippingPreference,
        )
        from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
        from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest

        public = self._public_url().rstrip("/")
        if not public:
            raise ProviderUnavailable("PUBLIC_API_URL is not set: PayPal would have nowhere to send the buyer back.")
        back = f"?orderId={quote(order_id, safe='')}"
        request = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[
                PurchaseUnitRequest(
                    reference_id=order_id,
                    custom_id=order_id,
                    invoice_id=order_id,
                    amount=AmountWithBreakdown(
                        currency_code=amount.currency, value=to_value(amount.amount, amount.currency)
                    ),
                )
            ],
            payment_source=PaymentSource(
                paypal=PaypalWallet(
                    experience_context=PaypalWalletExperienceContext(
                        return_url=public + RETURN_PATH + back,
                        cancel_url=public + CANCEL_PATH + back,
                        user_action=PaypalExperienceUserAction.PAY_NOW,
                        shipping_preference=PaypalWalletContextShippingPreference.NO_SHIPPING,
                    )
                )
            ),
        )
        client = self._paypal()
        try:
            response = self._call(
                client.orders.create_order,
                {"body": request, "paypal_request_id": idempotency_key, "prefer": "return=representation"},
            )
        except ApiException as exc:
            raise ProviderRejected(_message(exc), provider_code=_issue(exc)) from exc
        order = self._json(response)
        link = _link(order, "payer-action", "approve")
        if not order.get("id") or not link:
            raise ProviderUnavailable("PayPal answered an order without an approval link: try again.")
        if order.get("status") == "COMPLETED":
            return _order_outcome(order)
        return ChargeOutcome(str(order["id"]), False, waiting=True, approval_url=link)

    def capture(self, ref: ProviderRef, *, idempotency_key: str) -> ChargeOutcome:
        """Capture once the buyer approved. The order is read first: a capture asked before approval (a forged or
        early return) is never sent, so its ``PayPal-Request-Id`` is not spent on a refusal PayPal might keep."""
        from paypalserversdk.exceptions.api_exception import ApiException

        seen = self.status(ref)
        if not seen.approved:
            return seen  # waiting, captured already (what PayPal holds), or voided
        client = self._paypal()
        try:
            response = self._call(
                client.orders.capture_order,
                {"id": ref.payment_id, "paypal_request_id": idempotency_key, "prefer": "return=representation"},
            )
        except ApiException as exc:
            issue = _issue(exc)
            if issue == "ORDER_NOT_APPROVED":
                return ChargeOutcome(ref.payment_id, False, waiting=True)
            if issue == "ORDER_ALREADY_CAPTURED":
                return self.status(ref)
            if exc.response_code == 422:  # INSTRUMENT_DECLINED, PAYER_CANNOT_PAY, ...: this payment will not go
                return ChargeOutcome(ref.payment_id, False, failure=Failure(issue.lower(), None, _message(exc)))
            raise ProviderRejected(_message(exc), provider_code=issue) from exc
        return _order_outcome(self._json(response))

    def status(self, ref: ProviderRef) -> ChargeOutcome:
        from paypalserversdk.exceptions.api_exception import ApiException

        client = self._paypal()
        try:
            response = self._call(client.orders.get_order, {"id": ref.payment_id})
        except ApiException as exc:
            raise ProviderRejected(_message(exc), provider_code=_issue(exc)) from exc
        return _order_outcome(self._json(response))

    def cancel(self, ref: ProviderRef, *, idempotency_key: str) -> str:
        """An uncaptured PayPal order takes nothing unless we capture it, and PayPal has no void for it (it lapses
        on its own): once our record says VOIDED we never will. What PayPal holds decides the answer."""
        return "succeeded" if self.status(ref).succeeded else "canceled"

    def refund(
        self, ref: ProviderRef, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        from paypalserversdk.exceptions.api_exception import ApiException
        from paypalserversdk.models.money import Money as PayPalMoney
        from paypalserversdk.models.refund_request import RefundRequest

        if not ref.capture_id:
            raise ProviderRejected("This PayPal payment was never captured: there is nothing to refund.")
        fields: dict[str, Any] = {"custom_id": encode_refund_metadata(metadata)}
        if amount is not None:
            fields["amount"] = PayPalMoney(currency_code=ref.currency, value=to_value(amount, ref.currency))
        if metadata.get("reason"):
            fields["note_to_payer"] = metadata["reason"][:255]
        client = self._paypal()
        try:
            response = self._call(
                client.payments.refund_captured_payment,
                {
                    "capture_id": ref.capture_id,
                    "paypal_request_id": idempotency_key,
                    "prefer": "return=representation",
                    "body": RefundRequest(**fields),
                },
            )
        except ApiException as exc:
            issue = _issue(exc)
            raise ProviderRejected(_message(exc), provider_code=REFUSALS.get(issue, issue)) from exc
        return _refund(self._json(response), ref.capture_id)

    def refunds_of(self, ref: ProviderRef) -> list[ProviderRefund]:
        """PayPal lists no refunds of a capture (only its transaction search does, hours late); each of its refund
        webhooks carries the refund itself, so the service never needs to ask."""
        return []

    # -- webhooks ------------------------------------------------------------------------------------------------
    def verify_webhook(self, payload: str, headers: Mapping[str, str]) -> ProviderEvent:
        """PayPal's event, once PayPal confirms it sent it (``verify-webhook-signature`` with our webhook id) and
        its transmission is recent (a replayed capture of an old one is refused here; the inbox refuses a second
        delivery of the same event)."""
        import requests

        wanted = ("paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url")
        found = {name: headers.get(name) for name in (*wanted, "paypal-auth-algo")}
        if not all(found[name] for name in wanted):
            raise InvalidWebhook("The request lacks PayPal's transmission headers.")
        try:
            sent = datetime.fromisoformat(str(found["paypal-transmission-time"]).replace("Z", "+00:00"))
            event = json.loads(payload)
        except ValueError as exc:
            raise InvalidWebhook("The webhook is not a PayPal event.") from exc
        if sent.tzinfo is None or abs((datetime.now(UTC) - sent).total_seconds()) > self.tolerance:
            raise InvalidWebhook("The PayPal transmission is too old (or from the future).")
        if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
            raise InvalidWebhook("The webhook is not a PayPal event.")
        webhook_parameter = os.environ.get("PAYPAL_WEBHOOK_ID_PARAMETER", "")
        if not webhook_parameter:
            raise ProviderUnavailable("PAYPAL_WEBHOOK_ID_PARAMETER is not set.")
        check = {
            "auth_algo": found["paypal-auth-algo"] or "SHA256withRSA",
            "cert_url": found["paypal-cert-url"],
            "transmission_id": found["paypal-transmission-id"],
            "transmission_sig": found["paypal-transmission-sig"],
            "transmission_time": found["paypal-transmission-time"],
            "webhook_id": self._secret(webhook_parameter),
            "webhook_event": event,
        }
        base, _, _, timeout = PayPalSettings.current()
        try:
            answer = requests.post(
                base + "/v1/notifications/verify-webhook-signature",
                json=check,
                headers={"Authorization": f"Bearer {self._access_token()}"},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"PayPal did not answer ({type(exc).__name__}): try again.") from exc
        if answer.status_code == 401:
            self._token = None
        if answer.status_code >= 500 or answer.status_code in (401, 429):
            raise ProviderUnavailable(f"PayPal could not verify the webhook now ({answer.status_code}).")
        if answer.status_code != 200 or (answer.json() or {}).get("verification_status") != "SUCCESS":
            raise InvalidWebhook("PayPal does not confirm this webhook.")
        return translate(event)


def _order_outcome(order: Mapping[str, Any]) -> ChargeOutcome:
    """A PayPal order as the port's outcome: captured, declined, approved (capture still to come) or waiting."""
    order_id = str(order.get("id") or "")
    status = order.get("status")
    units = order.get("purchase_units") or [{}]
    captures = ((units[0].get("payments") or {}).get("captures")) or []
    if status == "COMPLETED" and captures:
        capture = captures[0]
        amount = capture.get("amount") or {}
        if capture.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
            received = to_minor(amount.get("value"), str(amount.get("currency_code") or ""))
            return ChargeOutcome(order_id, True, received, capture_id=str(capture["id"]))
        if capture.get("status") in ("DECLINED", "FAILED"):
            reason = (capture.get("status_details") or {}).get("reason") or "capture_declined"
            message = "PayPal declined the capture."
            return ChargeOutcome(order_id, False, failure=Failure(str(reason).lower(), None, message))
        return ChargeOutcome(order_id, False, approved=True, capture_id=str(capture["id"]))  # PENDING: its webhook
    if status == "APPROVED":
        return ChargeOutcome(order_id, False, approved=True)
    if status == "VOIDED":
        return ChargeOutcome(order_id, False, failure=Failure("voided", None, "The PayPal order was voided."))
    return ChargeOutcome(order_id, False, waiting=True, approval_url=_link(order, "payer-action", "approve"))


def _refund(refund: Mapping[str, Any], capture_id: str | None) -> ProviderRefund:
    amount = refund.get("amount") or {}
    return ProviderRefund(
        refund_id=str(refund.get("id")),
        payment_intent_id=capture_id or _capture_of(refund),
        amount=to_minor(amount.get("value"), str(amount.get("currency_code") or "")),
        status=REFUND_STATUS.get(str(refund.get("status")), str(refund.get("status") or "").lower()),
        metadata=decode_refund_metadata(refund.get("custom_id"), refund.get("note_to_payer")),
    )


def _capture_of(refund: Mapping[str, Any]) -> str | None:
    """The capture a refund belongs to: its ``up`` link (PayPal's refund carries no capture id of its own)."""
    up = _link(refund, "up")
    return up.rstrip("/").rsplit("/", 1)[-1] if up else None


# -- PayPal's events in the service's words --------------------------------------------------------------------------
def translate(event: Mapping[str, Any]) -> ProviderEvent:
    """A verified PayPal event as a :class:`payment.service.ProviderEvent`: ``CHECKOUT.ORDER.APPROVED`` (capture
    it), ``PAYMENT.CAPTURE.COMPLETED`` (the money was taken), ``PAYMENT.CAPTURE.DENIED`` / ``.DECLINED`` (it was
    not), ``PAYMENT.CAPTURE.REFUNDED`` (one refund, recorded as it comes). The order is ours by the ``custom_id``
    we gave it; anything else is passed over."""
    type_ = str(event.get("event_type") or "")
    resource: Mapping[str, Any] = event.get("resource") or {}

    def made(change: EventChange, order_id: str | None, **fields: Any) -> ProviderEvent:
        return ProviderEvent(PAYPAL, str(event["id"]), type_, change, order_id=order_id or None, **fields)

    if type_ == "CHECKOUT.ORDER.APPROVED":
        units = resource.get("purchase_units") or [{}]
        return made(EventChange.APPROVED, units[0].get("custom_id"), payment_id=resource.get("id"))
    if type_.startswith("PAYMENT.CAPTURE."):
        amount = resource.get("amount") or {}
        currency = str(amount.get("currency_code") or "")
        related = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id")
        if type_ == "PAYMENT.CAPTURE.COMPLETED" and currency:
            received = to_minor(amount.get("value"), currency)
            return made(
                EventChange.SUCCEEDED,
                resource.get("custom_id"),
                payment_id=related,
                capture_id=resource.get("id"),
                amount=Money(received, currency),
                received=received,
                payment_method=PAYPAL,
            )
        if type_ in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            failure = Failure("capture_declined", None, "PayPal declined the capture.")
            return made(EventChange.FAILED, resource.get("custom_id"), payment_id=related, failure=failure)
        if type_ == "PAYMENT.CAPTURE.REFUNDED":
            made_refund = _refund(resource, None)
            return made(EventChange.REFUNDED, made_refund.metadata.get("orderId"), refunds=(made_refund,))
    return made(EventChange.NONE, None)
