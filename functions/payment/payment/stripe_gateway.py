"""The payment provider port over Stripe (the official ``stripe`` SDK), and the webhook signature check.

Configuration comes from the environment the template sets: ``STRIPE_API_BASE`` (``https://api.stripe.com``; the
local runtime and the tests point it at :mod:`gears.local.stripe_emulator`), ``STRIPE_SECRET_KEY_PARAMETER`` and
``STRIPE_WEBHOOK_SECRET_PARAMETER`` (names of SSM SecureString parameters, read with Powertools parameters and
cached five minutes, so a rotated key is picked up without a deploy), ``STRIPE_TIMEOUT_SECONDS`` (8) and
``STRIPE_MAX_NETWORK_RETRIES`` (1; the SDK retries timeouts, 409s and 5xx with the same idempotency key).

``stripe`` is imported in the functions that use it, never at module load: the read function never pays for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from payment.domain import STRIPE, Failure, Money
from payment.errors import InvalidWebhook, ProviderRejected, ProviderUnavailable
from payment.service import ChargeOutcome, EventChange, ProviderEvent, ProviderRef, ProviderRefund

if TYPE_CHECKING:
    import stripe as stripe_module

DEFAULT_API_BASE = "https://api.stripe.com"
SECRET_MAX_AGE_S = 300
WEBHOOK_TOLERANCE_S = 300


def read_secret(name: str) -> str:
    """A SecureString from SSM Parameter Store, decrypted, cached for five minutes."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(name, decrypt=True, max_age=SECRET_MAX_AGE_S)
    return str(value)


class StripeSettings:
    """Where Stripe is and how long to wait for it, read from the environment at each use (cheap), so that a
    client is rebuilt only when something changed (a rotated key, a test pointing elsewhere)."""

    @staticmethod
    def current() -> tuple[str, str, float, int]:
        return (
            os.environ.get("STRIPE_API_BASE") or DEFAULT_API_BASE,
            os.environ.get("STRIPE_SECRET_KEY_PARAMETER", ""),
            float(os.environ.get("STRIPE_TIMEOUT_SECONDS") or 8),
            int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES") or 1),
        )


def _unavailable(exc: Exception) -> ProviderUnavailable:
    return ProviderUnavailable(f"Stripe did not answer usefully ({type(exc).__name__}): try again.")


class StripeGateway:
    """:class:`payment.service.PaymentProvider` over the Stripe API: a card is charged at once (a PaymentIntent
    created and confirmed), so ``capture`` and ``status`` both read the intent."""

    name = STRIPE

    def __init__(self, secret: Any = read_secret) -> None:
        self._secret = secret
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_for: tuple[Any, ...] | None = None
        self._verifier = StripeWebhookVerifier(secret)

    def _stripe(self) -> Any:
        """The Stripe client for the current settings and key."""
        import stripe

        base, parameter, timeout, retries = StripeSettings.current()
        if not parameter:
            raise ProviderUnavailable("STRIPE_SECRET_KEY_PARAMETER is not set.")
        key = self._secret(parameter)
        wanted = (base, key, timeout, retries)
        with self._lock:
            if self._client is None or self._client_for != wanted:
                self._client = stripe.StripeClient(
                    key,
                    base_addresses={"api": base},
                    max_network_retries=retries,
                    http_client=stripe.RequestsClient(timeout=timeout),
                )
                self._client_for = wanted
            return self._client

    def charge(
        self, *, order_id: str, user_id: str | None, amount: Money, payment_method: str, idempotency_key: str
    ) -> ChargeOutcome:
        import stripe

        metadata = {"orderId": order_id}
        if user_id:
            metadata["userId"] = user_id
        params: dict[str, Any] = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            "metadata": metadata,
            # A server-side charge of a saved method: no redirect-based methods, so no return_url is needed.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
        try:
            intent = self._stripe().v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            return _declined(exc)
        except stripe.InvalidRequestError as exc:
            raise _rejected(exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _outcome(intent)

    def capture(self, ref: ProviderRef, *, idempotency_key: str) -> ChargeOutcome:
        """A card's charge is confirmed when it is made: what the intent came to."""
        return self.status(ref)

    def status(self, ref: ProviderRef) -> ChargeOutcome:
        import stripe

        try:
            intent = self._stripe().v1.payment_intents.retrieve(ref.payment_id)
        except stripe.InvalidRequestError as exc:
            raise _rejected(exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _outcome(intent)

    def cancel(self, ref: ProviderRef, *, idempotency_key: str) -> str:
        import stripe

        payment_intent_id = ref.payment_id
        client = self._stripe()
        try:
            intent = client.v1.payment_intents.cancel(payment_intent_id, options={"idempotency_key": idempotency_key})
            return str(intent.status)
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise _rejected(exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        try:  # already canceled, or succeeded meanwhile: say which
            return str(client.v1.payment_intents.retrieve(payment_intent_id).status)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    def refund(
        self, ref: ProviderRef, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        import stripe

        params: dict[str, Any] = {"payment_intent": ref.payment_id, "metadata": metadata}
        if amount is not None:
            params["amount"] = amount
        try:
            refund = self._stripe().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.IdempotencyError as exc:
            raise ProviderRejected(str(exc.user_message or exc), provider_code="idempotency_error") from exc
        except stripe.InvalidRequestError as exc:
            raise _rejected(exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _refund(refund)

    def refunds_of(self, ref: ProviderRef) -> list[ProviderRefund]:
        import stripe

        try:
            page = self._stripe().v1.refunds.list(params={"payment_intent": ref.payment_id, "limit": 100})
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return [_refund(r) for r in page.data]

    def verify_webhook(self, payload: str, headers: Mapping[str, str]) -> ProviderEvent:
        """Stripe's event, once its ``Stripe-Signature`` verifies, in the service's words."""
        return translate(self._verifier.verify(payload, headers.get("stripe-signature")))


def _outcome(intent: Any) -> ChargeOutcome:
    if intent.status == "succeeded":
        return ChargeOutcome(intent.id, True, int(intent.amount_received or intent.amount))
    # requires_action (3-D Secure) cannot be completed server-side; anything else is not a charge either.
    reason = "authentication_required" if intent.status == "requires_action" else f"intent_{intent.status}"
    return ChargeOutcome(intent.id, False, failure=Failure(reason, None, f"The payment is {intent.status}."))


def _declined(exc: stripe_module.CardError) -> ChargeOutcome:
    body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error") or {}
    intent = error.get("payment_intent") or {}
    return ChargeOutcome(
        intent.get("id"),
        False,
        failure=Failure(str(exc.code or "card_declined"), error.get("decline_code"), error.get("message")),
    )


def _rejected(exc: stripe_module.InvalidRequestError) -> ProviderRejected:
    return ProviderRejected(str(exc.user_message or exc), provider_code=exc.code, param=exc.param)


def _refund(refund: Any) -> ProviderRefund:
    raw = refund.to_dict()
    return ProviderRefund(
        refund_id=str(raw["id"]),
        payment_intent_id=raw.get("payment_intent"),
        amount=int(raw["amount"]),
        status=str(raw.get("status") or ""),
        metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()},
    )


# -- webhooks --------------------------------------------------------------------------------------------------------
class StripeWebhookVerifier:
    """Checks ``Stripe-Signature`` (``t=<ts>,v1=<HMAC-SHA256 of "<ts>.<body>">``) with the endpoint's secret, and
    refuses a signature older than :data:`WEBHOOK_TOLERANCE_S` (a replayed capture)."""

    def __init__(self, secret: Any = read_secret, tolerance: int = WEBHOOK_TOLERANCE_S) -> None:
        self._secret = secret
        self.tolerance = tolerance

    def verify(self, payload: str, signature: str | None) -> dict[str, Any]:
        import stripe

        parameter = os.environ.get("STRIPE_WEBHOOK_SECRET_PARAMETER", "")
        if not parameter:
            raise ProviderUnavailable("STRIPE_WEBHOOK_SECRET_PARAMETER is not set.")
        secret = self._secret(parameter)
        if not signature:
            raise InvalidWebhook("The request has no Stripe-Signature header.")
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=self.tolerance)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook("The Stripe signature does not verify, or is too old.") from exc
        except (ValueError, KeyError, IndexError) as exc:
            raise InvalidWebhook("The webhook body is not a Stripe event.") from exc
        body: dict[str, Any] = event.to_dict()
        if not body.get("id") or not body.get("type"):
            raise InvalidWebhook("The webhook body is not a Stripe event.")
        return body


# -- Stripe's events in the service's words ---------------------------------------------------------------------------
def translate(event: dict[str, Any]) -> ProviderEvent:
    """A verified Stripe event as a :class:`payment.service.ProviderEvent`: ``payment_intent.succeeded``,
    ``.payment_failed`` and ``.canceled`` change the payment of the intent's ``orderId`` metadata;
    ``charge.refunded`` (its refunds, listed or asked for) and ``refund.created``/``.updated`` record refunds."""
    type_ = str(event.get("type") or "")
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}

    def made(change: EventChange, **fields: Any) -> ProviderEvent:
        return ProviderEvent(STRIPE, str(event["id"]), type_, change, order_id=metadata.get("orderId"), **fields)

    if type_.startswith("payment_intent.") and obj.get("id"):
        intent = {"payment_id": str(obj["id"]), "user_id": metadata.get("userId")}
        if type_ == "payment_intent.succeeded":
            received = int(obj.get("amount_received") or obj.get("amount") or 0)
            asked = Money(int(obj.get("amount") or received), str(obj.get("currency") or "gbp").upper())
            method = obj.get("payment_method")
            return made(EventChange.SUCCEEDED, **intent, amount=asked, received=received, payment_method=method)
        if type_ == "payment_intent.payment_failed":
            error = obj.get("last_payment_error") or {}
            failure = Failure(
                str(error.get("code") or "payment_failed"), error.get("decline_code"), error.get("message")
            )
            return made(EventChange.FAILED, **intent, failure=failure)
        if type_ == "payment_intent.canceled":
            return made(EventChange.VOIDED, **intent)
    if type_ == "charge.refunded" and obj.get("payment_intent"):
        listed = (obj.get("refunds") or {}).get("data")
        refunds = tuple(_provider_refund(r) for r in listed) if isinstance(listed, list) else None
        return made(EventChange.REFUNDED, payment_id=str(obj["payment_intent"]), refunds=refunds)
    if type_ in ("refund.created", "refund.updated"):
        return made(EventChange.REFUNDED, payment_id=obj.get("payment_intent"), refunds=(_provider_refund(obj),))
    return made(EventChange.NONE)


def _provider_refund(obj: dict[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        refund_id=str(obj.get("id")),
        payment_intent_id=obj.get("payment_intent"),
        amount=int(obj.get("amount") or 0),
        status=str(obj.get("status") or ""),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )
