"""The payment use cases: plain functions taking one command each and their ports (the payment repository, the
payment provider, the webhook's inbox, a clock).

One command a use case: :class:`ChargeOrder`, :class:`CancelOrder` (the consumer), :class:`RefundPayment` (the
admin API; a cancellation too), :class:`RecordProviderEvent` (the Stripe webhook), :class:`GetPayment` (the read
API). The functions turn their inputs into these commands and take their ports from :mod:`payment.bootstrap`; tests
hand in the in-memory fakes of ``tests/unit/payment``. Every call to the provider carries an idempotency key derived
from the order (:mod:`payment.domain`), so whatever is retried, the provider charges and refunds once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gears_shared.auth import Caller, require_owner
from gears_shared.clock import utc_now
from gears_shared.consumers import Inbox, apply_once
from payment.domain import (
    REFUNDABLE,
    VOIDABLE,
    Failure,
    Money,
    Payment,
    PaymentRuleError,
    PaymentStatus,
    Refund,
    RefundKind,
    RefundTooLarge,
    cancel_refund_key,
    charge_key,
    refund_key,
    refund_of,
    request_refund_key,
    void_key,
)
from payment.errors import (
    ChargeInProgress,
    NothingToRefund,
    PaymentExists,
    PaymentNotFound,
    ProviderRejected,
    RefundExceedsCharge,
    RefundInProgress,
    RefundRecorded,
    StalePayment,
)

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)
WRITE_ATTEMPTS = 8


# -- ports -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChargeOutcome:
    """What the provider did with a charge: ``succeeded``, or ``failed`` with why."""

    payment_intent_id: str | None
    succeeded: bool
    amount_received: int = 0
    failure: Failure | None = None


@dataclass(frozen=True)
class ProviderRefund:
    refund_id: str
    payment_intent_id: str | None
    amount: int
    status: str  # succeeded, pending, failed, canceled
    metadata: dict[str, str]


class PaymentProvider(Protocol):
    def charge(
        self, *, order_id: str, user_id: str | None, amount: Money, payment_method: str, idempotency_key: str
    ) -> ChargeOutcome:
        """Create and confirm a payment; :class:`ProviderUnavailable` when the provider cannot say (retry with
        the same key), :class:`ProviderRejected` when it refuses the request itself."""
        ...

    def cancel(self, payment_intent_id: str, *, idempotency_key: str) -> str:
        """Cancel an intent that charged nothing; its status afterwards (``canceled``, or what blocked it)."""
        ...

    def refund(
        self, payment_intent_id: str, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund: ...

    def refunds_of(self, payment_intent_id: str) -> list[ProviderRefund]: ...


class PaymentRepository(Protocol):
    def get(self, order_id: str) -> Payment | None: ...

    def get_with_refunds(self, order_id: str) -> tuple[Payment | None, list[Refund]]: ...

    def add(self, payment: Payment, *, correlation_id: str = "") -> Payment:
        """Store a new payment; :class:`PaymentExists` if the order has one."""
        ...

    def save(self, payment: Payment, *, expected_version: int, correlation_id: str = "") -> Payment:
        """Replace the payment if still at ``expected_version``; :class:`StalePayment` otherwise."""
        ...

    def add_refund(
        self, payment: Payment, refund: Refund, *, expected_version: int, correlation_id: str = ""
    ) -> Payment:
        """Record a refund and the payment it changed, together; :class:`RefundRecorded` if the refund is already
        there, :class:`StalePayment` if the payment moved on."""
        ...

    def has_refund(self, order_id: str, refund_id: str) -> Refund | None: ...


# -- commands --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChargeOrder:
    order_id: str
    user_id: str | None
    total: Money
    payment_method: str
    correlation_id: str = ""


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    user_id: str | None
    amount: Money  # the order's total, for the record when nothing was charged yet
    correlation_id: str = ""


@dataclass(frozen=True)
class RefundPayment:
    order_id: str
    amount: int | None  # minor units; everything left when None
    kind: RefundKind
    reason: str | None = None
    correlation_id: str = ""
    request_key: str | None = None  # the request's Idempotency-Key, if it sent one

    @property
    def keyed(self) -> str | None:
        """The provider key of a refund asked with an Idempotency-Key (a cancellation's never is)."""
        if not self.request_key or self.kind is RefundKind.CANCEL:
            return None
        return request_refund_key(self.order_id, self.request_key)


@dataclass(frozen=True)
class RecordProviderEvent:
    """A Stripe event whose signature verified, as its JSON object (``id``, ``type``, ``data.object``)."""

    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def type(self) -> str:
        return str(self.event.get("type") or "")

    @property
    def object(self) -> dict[str, Any]:
        found: dict[str, Any] = (self.event.get("data") or {}).get("object") or {}
        return found


@dataclass(frozen=True)
class GetPayment:
    order_id: str
    caller: Caller


def _update(
    payments: PaymentRepository,
    order_id: str,
    change: Callable[[Payment | None], Payment | None],
    *,
    correlation_id: str = "",
) -> Payment | None:
    """Read, change, write over the version read; again if someone else wrote meanwhile. ``change`` answers
    ``None`` for "nothing to do"; for a payment not stored yet it may answer a new one."""
    for _ in range(WRITE_ATTEMPTS):
        current = payments.get(order_id)
        changed = change(current)
        if changed is None:
            return current
        try:
            if current is None:
                return payments.add(changed, correlation_id=correlation_id)
            return payments.save(changed, expected_version=current.version, correlation_id=correlation_id)
        except (StalePayment, PaymentExists):
            continue
    raise StalePayment(f"payment {order_id} kept changing")


# -- charging --------------------------------------------------------------------------------------------------------
def charge_order(
    command: ChargeOrder, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock = utc_now
) -> Payment:
    """Charge a confirmed order once. The payment is recorded PENDING before the provider is asked, then its
    outcome; a retry (a duplicate event, a crash in between, a provider timeout) asks again with the same key and
    the provider answers what it did the first time. An order cancelled first is never charged."""
    payment = _update(
        payments,
        command.order_id,
        lambda p: (
            Payment.requested(command.order_id, command.user_id, command.total, command.payment_method, clock())
            if p is None
            else None
        ),
        correlation_id=command.correlation_id,
    )
    assert payment is not None
    if payment.status is not PaymentStatus.PENDING:
        return payment  # charged, failed or cancelled already: a duplicate or a late event
    method = payment.payment_method or command.payment_method
    try:
        outcome = provider.charge(
            order_id=command.order_id,
            user_id=payment.user_id,
            amount=payment.amount,
            payment_method=method,
            idempotency_key=charge_key(command.order_id),
        )
    except ProviderRejected as exc:
        # The request itself is wrong (an unknown payment method, an amount the provider refuses): it will never
        # succeed, so the order must hear that it failed rather than wait.
        code = "payment_method_invalid" if exc.param == "payment_method" else (exc.provider_code or "invalid_request")
        outcome = ChargeOutcome(None, False, failure=Failure(code, None, exc.detail))
    return _record_outcome(payments, command.order_id, outcome, clock, command.correlation_id)


def _record_outcome(
    payments: PaymentRepository, order_id: str, outcome: ChargeOutcome, clock: Clock, correlation_id: str
) -> Payment:
    def change(p: Payment | None) -> Payment | None:
        if p is None or p.status is not PaymentStatus.PENDING:
            return None  # a webhook recorded it first
        if outcome.succeeded and outcome.payment_intent_id:
            return p.succeeded(outcome.payment_intent_id, outcome.amount_received, clock())
        return p.failed(outcome.payment_intent_id, outcome.failure or Failure("unknown"), clock())

    result = _update(payments, order_id, change, correlation_id=correlation_id)
    assert result is not None
    return result


# -- cancellation ----------------------------------------------------------------------------------------------------
def cancel_order(
    command: CancelOrder, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock = utc_now
) -> Payment | Refund | None:
    """An order was cancelled: give back whatever it cost. Not charged yet: nothing will be (the intent is
    voided, or a CANCELLED record stops a late charge). Charged: what is left is refunded in full. A charge still
    under way: :class:`ChargeInProgress`, so the event is retried after it."""
    payment = _update(
        payments,
        command.order_id,
        lambda p: (
            Payment.cancelled_before_charge(command.order_id, command.user_id, command.amount, clock())
            if p is None
            else None
        ),
        correlation_id=command.correlation_id,
    )
    assert payment is not None
    if payment.status is PaymentStatus.PENDING:
        raise ChargeInProgress(f"order {command.order_id}: the charge has not finished; retry the cancellation")
    if payment.status is PaymentStatus.FAILED:
        return void_payment(
            payment, payments=payments, provider=provider, clock=clock, correlation_id=command.correlation_id
        )
    if payment.refundable > 0:
        refund = RefundPayment(
            command.order_id, None, RefundKind.CANCEL, reason="order cancelled", correlation_id=command.correlation_id
        )
        return refund_payment(refund, payments=payments, provider=provider, clock=clock)
    return None  # voided, cancelled or refunded already


def void_payment(
    payment: Payment, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock, correlation_id: str
) -> Payment:
    """Cancel a failed payment's intent at the provider so nothing can ever be charged on it, and record it."""
    if payment.payment_intent_id:
        status = provider.cancel(payment.payment_intent_id, idempotency_key=void_key(payment.order_id))
        if status == "succeeded":  # it went through after all (a later confirmation): the webhook records it
            return payment
    result = _update(
        payments,
        payment.order_id,
        lambda p: p.voided(clock()) if p is not None and p.status in VOIDABLE else None,
        correlation_id=correlation_id,
    )
    assert result is not None
    return result


# -- refunds ---------------------------------------------------------------------------------------------------------
def refund_payment(
    command: RefundPayment, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock = utc_now
) -> Refund:
    """Refund ``amount`` (everything left when ``None``) of an order's payment, once.

    With ``request_key`` (the request's ``Idempotency-Key``) the provider key derives from it instead, so a request
    retried after its refund was made is the same refund again, never a second one. The key travels in the refund's
    metadata and is kept on its record (whether this request or the webhook recorded it): a retry finds its refund
    there first, so it is answered even when that refund left nothing more to refund.

    The provider's idempotency key is numbered by the refunds recorded so far (``order-<id>-refund-<n>``; a
    cancellation's is ``order-<id>-refund-cancel``): a retried request reuses it and gets the same refund back,
    two different refunds at the same moment collide on it and one of them is refused (409), and the provider
    itself never refunds more than was charged. The refund and the payment's new total are written together,
    over the version they were computed from."""
    payment, made_before = _payment_and_refund_made_before(command, payments)
    if made_before is not None:
        return made_before
    if payment is None:
        raise PaymentNotFound("No payment for this order.")
    intent_id, wanted = _what_to_refund(payment, command.amount)
    made = _refund_at_provider(
        provider, intent_id, wanted, key=_refund_provider_key(command, payment), metadata=_refund_metadata(command)
    )
    return record_refund(
        command.order_id,
        made,
        kind=command.kind,
        reason=command.reason,
        payments=payments,
        clock=clock,
        correlation_id=command.correlation_id,
    )


def _payment_and_refund_made_before(
    command: RefundPayment, payments: PaymentRepository
) -> tuple[Payment | None, Refund | None]:
    """The payment, and for a keyed request the refund it already made if one is recorded (one query for both)."""
    if not command.keyed:
        return payments.get(command.order_id), None
    payment, refunds = payments.get_with_refunds(command.order_id)
    return payment, next((r for r in refunds if r.request_key == command.keyed), None)


def _what_to_refund(payment: Payment, amount: int | None) -> tuple[str, int]:
    """The intent to refund and how much of it: all that is left when ``amount`` is ``None``."""
    if not payment.payment_intent_id or payment.status not in REFUNDABLE:
        raise NothingToRefund(f"The payment is {payment.status.value}: there is nothing to refund.")
    wanted = payment.refundable if amount is None else amount
    if wanted > payment.refundable:
        raise RefundExceedsCharge(
            f"{wanted} is more than the {payment.refundable} left to refund.",
            refundable=payment.money(payment.refundable).to_dict(),
        )
    return payment.payment_intent_id, wanted


def _refund_provider_key(command: RefundPayment, payment: Payment) -> str:
    if command.kind is RefundKind.CANCEL:
        return cancel_refund_key(command.order_id)
    return command.keyed or refund_key(command.order_id, payment.refund_count + 1)


def _refund_metadata(command: RefundPayment) -> dict[str, str]:
    """What the refund carries at the provider: whose order, who asked, why, and the request's key if keyed (so
    the webhook's record of it is found by a retried request)."""
    metadata = {"orderId": command.order_id, "kind": command.kind.value}
    if command.reason:
        metadata["reason"] = command.reason[:500]
    if command.keyed:
        metadata["requestKey"] = command.keyed
    return metadata


def _refund_at_provider(
    provider: PaymentProvider, intent_id: str, amount: int, *, key: str, metadata: dict[str, str]
) -> ProviderRefund:
    """Ask the provider for the refund; what its refusals mean for us (too much asked, a refund racing this one)."""
    try:
        return provider.refund(intent_id, amount=amount, idempotency_key=key, metadata=metadata)
    except ProviderRejected as exc:
        if exc.provider_code in ("amount_too_large", "charge_already_refunded"):
            raise RefundExceedsCharge("The provider has less left to refund than that.") from exc
        if exc.provider_code == "idempotency_error":
            raise RefundInProgress("Another refund of this order was made at the same moment; read it again.") from exc
        raise


def record_refund(
    order_id: str,
    made: ProviderRefund,
    *,
    kind: RefundKind,
    reason: str | None,
    payments: PaymentRepository,
    clock: Clock = utc_now,
    correlation_id: str = "",
) -> Refund:
    """Record a refund the provider made (from our request or from its webhook), once."""
    for _ in range(WRITE_ATTEMPTS):
        existing = payments.has_refund(order_id, made.refund_id)
        if existing is not None:
            return existing
        before = payments.get(order_id)
        if before is None:
            raise PaymentNotFound(f"No payment for order {order_id}.")
        try:
            after = before.refunded(made.amount, clock())
        except RefundTooLarge:
            # The provider refunded it, so it is real; our record is behind (a charge it has not heard of).
            log.error("refund %s of %s exceeds the recorded charge", made.refund_id, order_id)
            raise
        refund = refund_of(before, after, made.refund_id, kind, reason, made.metadata.get("requestKey"))
        try:
            payments.add_refund(after, refund, expected_version=before.version, correlation_id=correlation_id)
        except RefundRecorded:
            continue
        except StalePayment:
            continue
        return refund
    raise StalePayment(f"payment {order_id} kept changing")


# -- reads -----------------------------------------------------------------------------------------------------------
def get_payment(command: GetPayment, *, payments: PaymentRepository) -> tuple[Payment, list[Refund]]:
    """An order's payment for its owner or staff; 404 for anyone else, as for an order with no payment."""
    payment, refunds = payments.get_with_refunds(command.order_id)
    if payment is None:
        raise PaymentNotFound("No payment for this order.")
    require_owner(command.caller, payment.user_id, what="payment")
    return payment, refunds


# -- webhooks --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderEventRecorded:
    event_id: str
    duplicate: bool  # applied before: nothing was done this time
    outcome: str | None = None  # what reconciling did, for the log


def record_provider_event(
    command: RecordProviderEvent,
    *,
    inbox: Inbox,
    payments: PaymentRepository,
    provider: PaymentProvider,
    clock: Clock = utc_now,
) -> ProviderEventRecorded:
    """Reconcile our records with a verified provider event, once per event id.

    "Once" is the consumers' own mechanism, not a copy of it (:func:`gears_shared.consumers.apply_once`, the inbox
    keyed by the provider's event id). An event applied before is a duplicate; one another worker is applying right
    now raises :class:`gears_shared.consumers.EventInProgress` (the provider retries it); one whose reconciliation
    fails is released, so the provider's retry applies it."""
    outcomes: list[str] = []

    def reconcile() -> None:
        outcomes.append(apply_provider_event(command, payments=payments, provider=provider, clock=clock))

    applied = apply_once(inbox, command.event_id, reconcile)
    return ProviderEventRecorded(command.event_id, duplicate=not applied, outcome=outcomes[0] if applied else None)


def apply_provider_event(
    command: RecordProviderEvent, *, payments: PaymentRepository, provider: PaymentProvider, clock: Clock = utc_now
) -> str:
    """Reconcile our record with one verified Stripe event (each time it is called: :func:`record_provider_event`
    applies it once); what was done, for the log.

    The consumer records its own outcomes; a webhook catches what it could not (a crash between the charge and the
    write, a refund made in Stripe's dashboard). Events about intents we did not create are ignored."""
    type_, obj = command.type, command.object
    if type_.startswith("payment_intent."):
        return _intent_event(type_, obj, payments, clock)
    if type_ == "charge.refunded":
        return _charge_refunded(obj, payments, provider, clock)
    if type_ in ("refund.created", "refund.updated"):
        order_id = (obj.get("metadata") or {}).get("orderId")
        if not order_id:
            return "ignored: not one of our refunds"
        return _record_refunds(order_id, [_provider_refund(obj)], payments, clock)
    return f"ignored: {type_}"


def _charge_refunded(
    charge: dict[str, Any], payments: PaymentRepository, provider: PaymentProvider, clock: Clock
) -> str:
    """The refunds of one of our charges: those the event lists, else those the provider has."""
    intent_id = charge.get("payment_intent")
    order_id = (charge.get("metadata") or {}).get("orderId")
    if not intent_id or not order_id:
        return "ignored: not one of our charges"
    listed = (charge.get("refunds") or {}).get("data")
    refunds = [_provider_refund(r) for r in listed] if isinstance(listed, list) else provider.refunds_of(intent_id)
    return _record_refunds(order_id, refunds, payments, clock)


def _provider_refund(obj: dict[str, Any]) -> ProviderRefund:
    return ProviderRefund(
        refund_id=str(obj.get("id")),
        payment_intent_id=obj.get("payment_intent"),
        amount=int(obj.get("amount") or 0),
        status=str(obj.get("status") or ""),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )


def _record_refunds(order_id: str, refunds: Sequence[ProviderRefund], payments: PaymentRepository, clock: Clock) -> str:
    recorded = 0
    payment = payments.get(order_id)
    if payment is None:
        return "ignored: no such payment"
    for made in refunds:
        if made.status != "succeeded" or made.amount < 1 or payments.has_refund(order_id, made.refund_id):
            continue
        asked_by = made.metadata.get("kind")
        kind = RefundKind(asked_by) if asked_by in ("admin", "cancel") else RefundKind.PROVIDER
        record_refund(order_id, made, kind=kind, reason=made.metadata.get("reason"), payments=payments, clock=clock)
        recorded += 1
    return f"recorded {recorded} refund(s)"


# What an intent event makes of our record of its payment (``None``: nothing to change).
IntentChange = Callable[[Payment | None, dict[str, Any], datetime], Payment | None]


def _intent_succeeded(p: Payment | None, intent: dict[str, Any], now: datetime) -> Payment | None:
    intent_id = str(intent["id"])
    received = int(intent.get("amount_received") or intent.get("amount") or 0)
    if p is None:
        # Charged, but our record never got written: rebuild it from what the intent carries.
        metadata = intent.get("metadata") or {}
        asked = Money(int(intent.get("amount") or received), str(intent.get("currency") or "gbp").upper())
        fresh = Payment.requested(metadata["orderId"], metadata.get("userId"), asked, intent.get("payment_method"), now)
        return fresh.succeeded(intent_id, received, now)
    if p.status in (PaymentStatus.PENDING, PaymentStatus.FAILED):  # FAILED: a later confirmation went through
        return p.succeeded(intent_id, received, now)
    return None


def _intent_failed(p: Payment | None, intent: dict[str, Any], now: datetime) -> Payment | None:
    if p is None or p.status is not PaymentStatus.PENDING:
        return None
    error = intent.get("last_payment_error") or {}
    failure = Failure(str(error.get("code") or "payment_failed"), error.get("decline_code"), error.get("message"))
    return p.failed(str(intent["id"]), failure, now)


def _intent_canceled(p: Payment | None, intent: dict[str, Any], now: datetime) -> Payment | None:
    if p is None or p.status not in VOIDABLE:
        return None
    return p.voided(now)


INTENT_CHANGES: dict[str, IntentChange] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.canceled": _intent_canceled,
}


def _intent_event(type_: str, intent: dict[str, Any], payments: PaymentRepository, clock: Clock) -> str:
    order_id = (intent.get("metadata") or {}).get("orderId")
    intent_id = str(intent.get("id") or "")
    if not order_id or not intent_id:
        return "ignored: not one of our intents"
    change = INTENT_CHANGES.get(type_)
    if change is None:
        return "nothing to change"
    try:
        before = payments.get(order_id)
        after = _update(payments, order_id, lambda p: change(p, intent, clock()))
    except PaymentRuleError as exc:
        return f"ignored: {exc}"
    if after is None or (before is not None and after.version == before.version):
        return "nothing to change"
    return f"payment {order_id} is {after.status.value}"
