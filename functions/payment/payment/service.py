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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from gears_shared.auth import Caller, require_owner
from gears_shared.clock import utc_now
from gears_shared.consumers import Inbox, apply_once
from payment.domain import (
    CHARGEABLE,
    IN_FLIGHT,
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
    capture_key,
    charge_key,
    refund_key,
    refund_of,
    request_refund_key,
    void_key,
)
from payment.errors import (
    ApprovalNotDue,
    ChargeInProgress,
    NothingToRefund,
    PaymentExists,
    PaymentNotFound,
    ProviderRejected,
    ProviderUnavailable,
    RefundExceedsCharge,
    RefundInProgress,
    RefundRecorded,
    StalePayment,
)

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)
WRITE_ATTEMPTS = 8
DEFAULT_APPROVAL_WINDOW = timedelta(minutes=30)


# -- ports -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChargeOutcome:
    """What the provider did with a payment: ``succeeded``, failed with why (``failure``), or neither yet:
    ``waiting`` for its buyer to approve it on the provider's page (``approval_url``), or ``approved`` by them and
    not captured yet."""

    payment_intent_id: str | None
    succeeded: bool
    amount_received: int = 0
    failure: Failure | None = None
    waiting: bool = False
    approved: bool = False
    approval_url: str | None = None
    capture_id: str | None = None


@dataclass(frozen=True)
class ProviderRef:
    """A payment as its provider knows it: its own payment (Stripe's PaymentIntent, PayPal's order) and, once the
    money is taken in a separate step, the capture (PayPal's, which its refunds go through)."""

    payment_id: str
    capture_id: str | None = None
    currency: str = "GBP"  # the payment's, for a provider that wants it with every amount (PayPal)


@dataclass(frozen=True)
class ProviderRefund:
    refund_id: str
    payment_intent_id: str | None
    amount: int
    status: str  # succeeded, pending, failed, canceled
    metadata: dict[str, str]


class EventChange(StrEnum):
    """What a provider's webhook says happened to one of our payments, in the service's words."""

    SUCCEEDED = "succeeded"  # the money was taken
    FAILED = "failed"  # it was refused
    VOIDED = "voided"  # nothing will ever be taken
    APPROVED = "approved"  # the buyer approved: capture it
    REFUNDED = "refunded"  # refunds were made (listed, or to be asked of the provider)
    NONE = "none"  # nothing the service acts on


@dataclass(frozen=True)
class ProviderEvent:
    """A provider's webhook event, verified and translated by its adapter: the service never reads a provider's
    own event shapes. ``type`` is the provider's name for it (for the log); ``amount`` is what the payment asked
    (to rebuild a record a crash never wrote), ``received`` what was taken."""

    provider: str
    event_id: str
    type: str
    change: EventChange
    order_id: str | None = None
    payment_id: str | None = None
    capture_id: str | None = None
    amount: Money | None = None
    received: int = 0
    user_id: str | None = None
    payment_method: str | None = None
    failure: Failure | None = None
    refunds: tuple[ProviderRefund, ...] | None = None  # None: ask the provider for the payment's refunds


class PaymentProvider(Protocol):
    """One payment gateway (its adapter: :mod:`payment.stripe_gateway`, :mod:`payment.paypal_gateway`). Every
    call that moves money carries an idempotency key derived from our ids. :class:`ProviderUnavailable` when the
    provider cannot say (retry with the same key), :class:`ProviderRejected` when it refuses the request itself; its
    ``provider_code`` is one of :data:`REFUND_TOO_LARGE`, :data:`NOTHING_LEFT`, :data:`KEY_IN_USE` where the service
    acts on the refusal."""

    name: str

    def charge(
        self, *, order_id: str, user_id: str | None, amount: Money, payment_method: str, idempotency_key: str
    ) -> ChargeOutcome:
        """Create the payment: a card is charged at once; a wallet answers ``waiting`` with its approval link."""
        ...

    def capture(self, ref: ProviderRef, *, idempotency_key: str) -> ChargeOutcome:
        """Take the money of a payment its buyer approved (``waiting`` if they have not)."""
        ...

    def status(self, ref: ProviderRef) -> ChargeOutcome:
        """What the provider holds of the payment now; changes nothing."""
        ...

    def cancel(self, ref: ProviderRef, *, idempotency_key: str) -> str:
        """Void a payment that took nothing; its status afterwards (``canceled``, or ``succeeded`` if it did)."""
        ...

    def refund(
        self, ref: ProviderRef, *, amount: int | None, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund: ...

    def refunds_of(self, ref: ProviderRef) -> list[ProviderRefund]: ...

    def verify_webhook(self, payload: str, headers: Mapping[str, str]) -> ProviderEvent:
        """The webhook's event, once the provider's proof of it holds; :class:`InvalidWebhook` otherwise."""
        ...


REFUND_TOO_LARGE = "amount_too_large"
NOTHING_LEFT = "charge_already_refunded"
KEY_IN_USE = "idempotency_error"


class Providers:
    """The gateways the service holds, by name; a payment goes to the one that made it."""

    def __init__(self, providers: Mapping[str, PaymentProvider]) -> None:
        self._providers = dict(providers)

    def named(self, name: str) -> PaymentProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise ProviderUnavailable(f"No {name} gateway is configured.") from None

    def of(self, payment: Payment) -> PaymentProvider:
        return self.named(payment.provider)


def ref_of(payment: Payment) -> ProviderRef:
    if not payment.payment_intent_id:
        raise NothingToRefund(f"The payment is {payment.status.value}: the provider holds nothing of it.")
    return ProviderRef(payment.payment_intent_id, payment.capture_id, payment.amount.currency)


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
    approval_window: timedelta = DEFAULT_APPROVAL_WINDOW  # how long a buyer has to approve (PayPal)


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
    """A provider's webhook event, verified and translated by its adapter."""

    event: ProviderEvent

    @property
    def event_id(self) -> str:
        """The inbox's key: the provider's own event id (Stripe's ``evt_...`` and PayPal's ``WH-...`` never meet)."""
        return self.event.event_id


@dataclass(frozen=True)
class CaptureApproved:
    """The buyer approved a payment on the provider's page (its redirect back, or its webhook): take the money.
    ``payment_id`` is the provider's id as the redirect or event names it; it must be the payment's."""

    order_id: str
    payment_id: str | None
    correlation_id: str = ""


@dataclass(frozen=True)
class BuyerCancelled:
    """The buyer turned the payment down on the provider's page (its cancel redirect)."""

    order_id: str
    payment_id: str | None
    correlation_id: str = ""


@dataclass(frozen=True)
class ExpireApproval:
    """The buyer's time to approve may be over: capture what they approved, else fail the payment."""

    order_id: str
    correlation_id: str = ""


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
    command: ChargeOrder, *, payments: PaymentRepository, providers: Providers, clock: Clock = utc_now
) -> Payment:
    """Charge a confirmed order once. The payment is recorded PENDING before the provider is asked, then its
    outcome; a retry (a duplicate event, a crash in between, a provider timeout) asks again with the same key and
    the provider answers what it did the first time. An order cancelled first is never charged. A payment its buyer
    must approve first (PayPal) ends this step AWAITING_APPROVAL with the link to approve it, until
    ``approval_window`` is over."""
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
        return payment  # charged, failed, cancelled or waiting for its buyer already: a duplicate or a late event
    method = payment.payment_method or command.payment_method
    try:
        outcome = providers.of(payment).charge(
            order_id=command.order_id,
            user_id=payment.user_id,
            amount=payment.amount,
            payment_method=method,
            idempotency_key=charge_key(command.order_id),
        )
    except ProviderRejected as exc:
        outcome = _refused(exc)
    return _record_outcome(
        payments, command.order_id, outcome, clock, command.correlation_id, approval_window=command.approval_window
    )


def _refused(exc: ProviderRejected) -> ChargeOutcome:
    """The request itself is wrong (an unknown payment method, an amount the provider refuses): it will never
    succeed, so the order must hear that it failed rather than wait."""
    code = "payment_method_invalid" if exc.param == "payment_method" else (exc.provider_code or "invalid_request")
    return ChargeOutcome(None, False, failure=Failure(code, None, exc.detail))


def _record_outcome(
    payments: PaymentRepository,
    order_id: str,
    outcome: ChargeOutcome,
    clock: Clock,
    correlation_id: str,
    *,
    approval_window: timedelta = DEFAULT_APPROVAL_WINDOW,
) -> Payment:
    def change(p: Payment | None) -> Payment | None:
        if p is None or p.status not in IN_FLIGHT:
            return None  # a webhook recorded it first, or the buyer's time ran out meanwhile
        now = clock()
        if outcome.succeeded and outcome.payment_intent_id:
            return p.succeeded(outcome.payment_intent_id, outcome.amount_received, now, outcome.capture_id)
        if outcome.waiting or outcome.approved:
            if p.status is PaymentStatus.PENDING and outcome.payment_intent_id and outcome.approval_url:
                return p.awaiting_approval(outcome.payment_intent_id, outcome.approval_url, now + approval_window, now)
            if p.status is PaymentStatus.APPROVED and outcome.waiting:
                return p.still_awaiting_approval(now)
            return None  # approved, capture still to come: left as it is for the next try
        return p.failed(outcome.payment_intent_id, outcome.failure or Failure("unknown"), now)

    result = _update(payments, order_id, change, correlation_id=correlation_id)
    assert result is not None
    return result


# -- approval (PayPal): the buyer comes back, cancels, or never does -------------------------------------------------
def _awaited(payments: PaymentRepository, order_id: str, payment_id: str | None) -> Payment:
    """The order's payment, if ``payment_id`` (as the provider's redirect or event names it) is the payment's."""
    payment = payments.get(order_id)
    if payment is None or (payment_id is not None and payment.payment_intent_id != payment_id):
        raise PaymentNotFound("No such payment for this order.")
    return payment


def capture_approved(
    command: CaptureApproved, *, payments: PaymentRepository, providers: Providers, clock: Clock = utc_now
) -> Payment:
    """Capture a payment its buyer approved, once, whoever tells us first (the buyer's redirect or the provider's
    webhook, in any order, even both at the same moment: the capture's key is the order's, so the provider takes
    the money once and answers both the same). The payment is APPROVED while the capture is under way, so a
    cancellation waits for it. Anyone may call the redirect: if the buyer has not approved, the provider says so
    and the payment waits again."""
    found = _awaited(payments, command.order_id, command.payment_id)
    if found.status not in (PaymentStatus.AWAITING_APPROVAL, PaymentStatus.APPROVED):
        return found  # captured, failed, voided already
    payment = _update(
        payments,
        command.order_id,
        lambda p: p.approved(clock()) if p is not None and p.status is PaymentStatus.AWAITING_APPROVAL else None,
        correlation_id=command.correlation_id,
    )
    assert payment is not None
    if payment.status is not PaymentStatus.APPROVED:
        return payment
    try:
        outcome = providers.of(payment).capture(ref_of(payment), idempotency_key=capture_key(command.order_id))
    except ProviderRejected as exc:
        outcome = _refused(exc)
    return _record_outcome(payments, command.order_id, outcome, clock, command.correlation_id)


def buyer_cancelled(command: BuyerCancelled, *, payments: PaymentRepository, clock: Clock = utc_now) -> Payment:
    """The buyer turned the payment down: it fails (``buyer_cancelled``), so the order is cancelled and its stock
    released. Only a payment still waiting for them; one approved or captured meanwhile stays as it is."""
    payment = _awaited(payments, command.order_id, command.payment_id)
    if payment.status is not PaymentStatus.AWAITING_APPROVAL:
        return payment
    cancelled = Failure("buyer_cancelled", None, "The buyer cancelled the payment on the provider's page.")
    return _fail_waiting(payments, command.order_id, cancelled, clock, command.correlation_id)


def _fail_waiting(
    payments: PaymentRepository, order_id: str, failure: Failure, clock: Clock, correlation_id: str
) -> Payment:
    """The payment fails with ``failure`` if it is still waiting for its buyer; as it is otherwise."""
    result = _update(
        payments,
        order_id,
        lambda p: (
            p.failed(None, failure, clock()) if p is not None and p.status is PaymentStatus.AWAITING_APPROVAL else None
        ),
        correlation_id=correlation_id,
    )
    assert result is not None
    return result


def expire_approval(
    command: ExpireApproval, *, payments: PaymentRepository, providers: Providers, clock: Clock = utc_now
) -> Payment | None:
    """The buyer's time is up (:class:`ApprovalNotDue` while it is not). What the provider holds decides: approved
    (a redirect and a webhook both lost) is captured, captured already is recorded, anything else fails
    (``approval_expired``), so the order is cancelled and its stock released."""
    payment = payments.get(command.order_id)
    if payment is None or payment.status not in (PaymentStatus.AWAITING_APPROVAL, PaymentStatus.APPROVED):
        return payment
    now = clock()
    if payment.approval_expires_at is not None and not payment.approval_due(now):
        raise ApprovalNotDue(command.order_id, (payment.approval_expires_at - now).total_seconds())
    seen = providers.of(payment).status(ref_of(payment))
    if seen.succeeded or seen.approved or payment.status is PaymentStatus.APPROVED:
        captured = capture_approved(
            CaptureApproved(command.order_id, payment.payment_intent_id, command.correlation_id),
            payments=payments,
            providers=providers,
            clock=clock,
        )
        if captured.status is not PaymentStatus.AWAITING_APPROVAL:
            return captured
    expired = Failure("approval_expired", None, "The buyer did not approve the payment in time.")
    return _fail_waiting(payments, command.order_id, expired, clock, command.correlation_id)


# -- cancellation ----------------------------------------------------------------------------------------------------
def cancel_order(
    command: CancelOrder, *, payments: PaymentRepository, providers: Providers, clock: Clock = utc_now
) -> Payment | Refund | None:
    """An order was cancelled: give back whatever it cost. Not charged yet: nothing will be (the payment is
    voided, or a CANCELLED record stops a late charge). Charged: what is left is refunded in full. A charge or a
    capture still under way: :class:`ChargeInProgress`, so the event is retried after it."""
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
    if payment.status in IN_FLIGHT:
        raise ChargeInProgress(f"order {command.order_id}: the charge has not finished; retry the cancellation")
    if payment.status in (PaymentStatus.FAILED, PaymentStatus.AWAITING_APPROVAL):
        return void_payment(
            payment, payments=payments, providers=providers, clock=clock, correlation_id=command.correlation_id
        )
    if payment.refundable > 0:
        refund = RefundPayment(
            command.order_id, None, RefundKind.CANCEL, reason="order cancelled", correlation_id=command.correlation_id
        )
        return refund_payment(refund, payments=payments, providers=providers, clock=clock)
    return None  # voided, cancelled or refunded already


def void_payment(
    payment: Payment, *, payments: PaymentRepository, providers: Providers, clock: Clock, correlation_id: str
) -> Payment:
    """Void a payment that took nothing at its provider, so nothing can ever be taken on it, and record it."""
    if payment.payment_intent_id:
        status = providers.of(payment).cancel(ref_of(payment), idempotency_key=void_key(payment.order_id))
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
    command: RefundPayment, *, payments: PaymentRepository, providers: Providers, clock: Clock = utc_now
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
    ref, wanted = _what_to_refund(payment, command.amount)
    made = _refund_at_provider(
        providers.of(payment),
        ref,
        wanted,
        key=_refund_provider_key(command, payment),
        metadata=_refund_metadata(command),
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


def _what_to_refund(payment: Payment, amount: int | None) -> tuple[ProviderRef, int]:
    """The provider's payment to refund and how much of it: all that is left when ``amount`` is ``None``."""
    if not payment.payment_intent_id or payment.status not in REFUNDABLE:
        raise NothingToRefund(f"The payment is {payment.status.value}: there is nothing to refund.")
    wanted = payment.refundable if amount is None else amount
    if wanted > payment.refundable:
        raise RefundExceedsCharge(
            f"{wanted} is more than the {payment.refundable} left to refund.",
            refundable=payment.money(payment.refundable).to_dict(),
        )
    return ref_of(payment), wanted


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
    provider: PaymentProvider, ref: ProviderRef, amount: int, *, key: str, metadata: dict[str, str]
) -> ProviderRefund:
    """Ask the provider for the refund; what its refusals mean for us (too much asked, a refund racing this one)."""
    try:
        return provider.refund(ref, amount=amount, idempotency_key=key, metadata=metadata)
    except ProviderRejected as exc:
        if exc.provider_code in (REFUND_TOO_LARGE, NOTHING_LEFT):
            raise RefundExceedsCharge("The provider has less left to refund than that.") from exc
        if exc.provider_code == KEY_IN_USE:
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
    providers: Providers,
    clock: Clock = utc_now,
) -> ProviderEventRecorded:
    """Reconcile our records with a verified provider event, once per event id.

    "Once" is the consumers' own mechanism, not a copy of it (:func:`gears_shared.consumers.apply_once`, the inbox
    keyed by the provider's event id). An event applied before is a duplicate; one another worker is applying right
    now raises :class:`gears_shared.consumers.EventInProgress` (the provider retries it); one whose reconciliation
    fails is released, so the provider's retry applies it."""
    outcomes: list[str] = []

    def reconcile() -> None:
        outcomes.append(apply_provider_event(command, payments=payments, providers=providers, clock=clock))

    applied = apply_once(inbox, command.event_id, reconcile)
    return ProviderEventRecorded(command.event_id, duplicate=not applied, outcome=outcomes[0] if applied else None)


def apply_provider_event(
    command: RecordProviderEvent, *, payments: PaymentRepository, providers: Providers, clock: Clock = utc_now
) -> str:
    """Reconcile our record with one verified provider event (each time it is called: :func:`record_provider_event`
    applies it once); what was done, for the log.

    The consumer and the redirects record their own outcomes; a webhook catches what they could not (a crash
    between the charge and the write, a buyer who closed the page after approving, a refund made in the provider's
    dashboard). Events about payments we did not make are ignored."""
    event = command.event
    if not event.order_id or event.change is EventChange.NONE:
        return f"ignored: {event.type}"
    if event.change is EventChange.APPROVED:
        try:
            approved = capture_approved(
                CaptureApproved(event.order_id, event.payment_id), payments=payments, providers=providers, clock=clock
            )
        except PaymentNotFound:
            return "ignored: no such payment"
        return f"payment {event.order_id} is {approved.status.value}"
    if event.change is EventChange.REFUNDED:
        return _refunds_event(event, event.order_id, payments, providers, clock)
    change = PAYMENT_CHANGES[event.change]
    try:
        before = payments.get(event.order_id)
        after = _update(payments, event.order_id, lambda p: change(p, event, clock()))
    except PaymentRuleError as exc:
        return f"ignored: {exc}"
    if after is None or (before is not None and after.version == before.version):
        return "nothing to change"
    return f"payment {event.order_id} is {after.status.value}"


def _refunds_event(
    event: ProviderEvent, order_id: str, payments: PaymentRepository, providers: Providers, clock: Clock
) -> str:
    """The refunds of one of our payments: those the event lists, else those the provider has."""
    refunds: Sequence[ProviderRefund]
    if event.refunds is not None:
        refunds = event.refunds
    else:
        payment = payments.get(order_id)
        if payment is None or not payment.payment_intent_id:
            return "ignored: no such payment"
        refunds = providers.of(payment).refunds_of(ref_of(payment))
    return _record_refunds(order_id, refunds, payments, clock)


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


# What an event makes of our record of its payment (``None``: nothing to change).
PaymentChange = Callable[[Payment | None, ProviderEvent, datetime], Payment | None]


def _event_succeeded(p: Payment | None, event: ProviderEvent, now: datetime) -> Payment | None:
    if not event.payment_id or not event.order_id:
        return None
    received = event.received or (event.amount.amount if event.amount else 0)
    if p is None:
        # Charged, but our record never got written: rebuild it from what the event carries.
        if event.amount is None:
            return None
        fresh = Payment.requested(event.order_id, event.user_id, event.amount, event.payment_method, now)
        return fresh.succeeded(event.payment_id, received, now, event.capture_id)
    if p.status in CHARGEABLE:  # FAILED: a later confirmation went through
        return p.succeeded(event.payment_id, received, now, event.capture_id)
    return None


def _event_failed(p: Payment | None, event: ProviderEvent, now: datetime) -> Payment | None:
    if p is None or p.status not in (PaymentStatus.PENDING, PaymentStatus.APPROVED):
        return None
    return p.failed(event.payment_id, event.failure or Failure("payment_failed"), now)


def _event_voided(p: Payment | None, event: ProviderEvent, now: datetime) -> Payment | None:
    if p is None or p.status not in VOIDABLE:
        return None
    return p.voided(now)


PAYMENT_CHANGES: dict[EventChange, PaymentChange] = {
    EventChange.SUCCEEDED: _event_succeeded,
    EventChange.FAILED: _event_failed,
    EventChange.VOIDED: _event_voided,
}
