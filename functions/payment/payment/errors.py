"""The payment service's errors. Those a client may see are the shared kinds (their status comes with the kind;
:mod:`gears_shared.http` writes the problem+json body); the rest are signals between the use cases, the store and
the consumer, never answered as such. The domain's rule errors live in :mod:`payment.domain`.
"""

from __future__ import annotations

from gears_shared.consumers import EventNotReady
from gears_shared.errors import BadRequest, BusinessRuleViolation, Conflict, DependencyFailed, NotFound


class PaymentNotFound(NotFound):
    title = "Payment not found"
    code = "payment-not-found"


class NothingToRefund(BusinessRuleViolation):
    title = "Nothing to refund"
    code = "nothing-to-refund"


class RefundExceedsCharge(BusinessRuleViolation):
    title = "Refund exceeds the charge"
    code = "refund-exceeds-charge"


class RefundInProgress(Conflict):
    """Another refund of the same order is being made right now; read the payment and try again."""

    title = "Refund in progress"
    code = "refund-in-progress"


class InvalidWebhook(BadRequest):
    """A webhook whose proof does not hold (forged, altered, signed with another secret) or is too old."""

    title = "Invalid webhook"
    code = "invalid-webhook"


class ProviderUnavailable(DependencyFailed):
    """The provider timed out, failed (5xx), throttled us or could not be reached: try again (same idempotency key)."""

    title = "Payment provider unavailable"
    code = "payment-provider-unavailable"


class ProviderRejected(DependencyFailed):
    """The provider refused a request as invalid: ``provider_code``/``param`` say why."""

    title = "Payment provider refused the request"
    code = "payment-provider-rejected"

    def __init__(self, detail: str, *, provider_code: str | None = None, param: str | None = None) -> None:
        super().__init__(detail)
        self.provider_code = provider_code
        self.param = param


class ChargeInProgress(RuntimeError):
    """A cancellation met a charge that has not finished: the event is retried once it has."""


class StalePayment(RuntimeError):
    """The payment changed between read and write; read it again."""


class PaymentExists(RuntimeError):
    """A payment for this order is already recorded."""


class RefundRecorded(RuntimeError):
    """This refund is already recorded."""


class ApprovalNotDue(EventNotReady):
    """The buyer still has time to approve: look again when it is over (:attr:`seconds` from now)."""

    def __init__(self, order_id: str, seconds: float) -> None:
        super().__init__(f"order {order_id}: the buyer has {seconds:.0f} s left to approve")
        self.seconds = seconds
