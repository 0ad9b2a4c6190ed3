"""``PaymentChargeConsumerFunction``: the orders service's events, from the ``PaymentOrdersQueue``; and
``PaymentApprovalsFunction``: the payment service's own ``PaymentApprovalRequested.v1``, from the
``PaymentApprovalsQueue``.

- ``OrderConfirmed.v1`` (stock is reserved): charge the order's total with its payment method, once
  (:func:`payment.service.charge_order`): a card at Stripe at once; PayPal's order made, to wait for its buyer.
  The provider timing out or failing (5xx) raises, so the message comes back after the visibility timeout and the
  charge is asked again with the same idempotency key.
- ``OrderCancelled.v1``: void the intent of an uncharged order, or refund a charged one in full
  (:func:`payment.service.cancel_order`).

Each event id is applied once (the inbox :func:`payment.bootstrap.orders_inbox`); failures are reported per message.
While the provider is unavailable a message comes back after 10 s, then twice as long each time up to five minutes (the
queue's ``maxReceiveCount`` of 10 rides out about 25 minutes of outage before parking it in the dead-letter
queue); a charge is only started with time left for both of its provider tries, and once a provider has failed
in a batch the rest of that batch is not sent to any (each message backs off by its own count instead of burning a
receive on a call that would hang as well).

- ``PaymentApprovalRequested.v1`` (a buyer was sent to PayPal): comes back when their time is up
  (:class:`payment.errors.ApprovalNotDue` sets the message's visibility to then, up to SQS's 12 hours a time), and
  :func:`payment.service.expire_approval` captures what they approved or fails the payment, so the order is
  cancelled and its stock released.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger
from payment import bootstrap, service
from payment.domain import Money
from payment.errors import ApprovalNotDue, ChargeInProgress, ProviderUnavailable, StalePayment
from payment.events import (
    ORDER_CANCELLED,
    ORDER_CONFIRMED,
    PAYMENT_APPROVAL_REQUESTED,
    ApprovalRequestedData,
    OrderCancelledData,
    OrderConfirmedData,
)
from payment.paypal_gateway import PayPalSettings
from payment.stripe_gateway import StripeSettings

FIRST_BACKOFF_S, MAX_BACKOFF_S = 10, 300


def _data(model: type[Any], event: CloudEvent) -> Any:
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        # An event that breaks the contract never becomes valid: let the queue park it.
        raise PoisonMessage(f"{event.type} {event.id}: {exc.error_count()} invalid field(s)") from exc


class ProviderBreaker:
    """Open for the rest of an invocation once a provider was unavailable in it (:func:`consumer` closes it as each
    batch starts)."""

    def __init__(self) -> None:
        self.open = False

    def close(self) -> None:
        self.open = False

    def guard(self, handle: Callable[[CloudEvent], None]) -> Callable[[CloudEvent], None]:
        def guarded(event: CloudEvent) -> None:
            if self.open:
                raise ProviderUnavailable("A provider was unavailable earlier in this batch: not asked again now.")
            try:
                handle(event)
            except ProviderUnavailable:
                self.open = True
                raise

        return guarded


breaker = ProviderBreaker()


def on_order_confirmed(event: CloudEvent) -> None:
    data: OrderConfirmedData = _data(OrderConfirmedData, event)
    payment = service.charge_order(
        service.ChargeOrder(
            order_id=data.orderId,
            user_id=data.userId,
            total=Money(data.total.amount, data.total.currency),
            payment_method=data.paymentMethod,
            correlation_id=event.correlationid or event.id,
            approval_window=bootstrap.approval_window(),
        ),
        payments=bootstrap.payment_repository(),
        providers=bootstrap.payment_providers(),
    )
    logger.info("order charged", extra={"orderId": data.orderId, "status": payment.status.value})


def on_order_cancelled(event: CloudEvent) -> None:
    data: OrderCancelledData = _data(OrderCancelledData, event)
    amount, currency = data.amount()
    result = service.cancel_order(
        service.CancelOrder(
            order_id=data.orderId,
            user_id=data.userId,
            amount=Money(amount, currency),
            correlation_id=event.correlationid or event.id,
        ),
        payments=bootstrap.payment_repository(),
        providers=bootstrap.payment_providers(),
    )
    logger.info("order cancellation settled", extra={"orderId": data.orderId, "result": type(result).__name__})


def on_approval_requested(event: CloudEvent) -> None:
    data: ApprovalRequestedData = _data(ApprovalRequestedData, event)
    payment = service.expire_approval(
        service.ExpireApproval(data.orderId, correlation_id=event.correlationid or event.id),
        payments=bootstrap.payment_repository(),
        providers=bootstrap.payment_providers(),
    )
    status = payment.status.value if payment is not None else None
    logger.info("approval wait settled", extra={"orderId": data.orderId, "status": status})


MAX_VISIBILITY_S = 43_200  # SQS's longest visibility timeout: a longer wait takes more than one return


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """A provider unavailable: back off, doubling; a charge another worker holds: soon; a buyer with time left:
    when it is up; else the shared rules."""
    if isinstance(error, ApprovalNotDue):
        return max(1, min(int(error.seconds) + 1, MAX_VISIBILITY_S))
    if isinstance(error, ProviderUnavailable):
        return min(FIRST_BACKOFF_S * 2 ** max(receive_count - 1, 0), MAX_BACKOFF_S)
    if isinstance(error, ChargeInProgress | StalePayment):
        return 2
    return default_retry_delay(error, receive_count)


def _record_budget_s() -> float:
    """Time a charge may need: two Stripe tries (the SDK's retry), or one PayPal call after its token's, and a
    little for DynamoDB."""
    _, _, timeout, retries = StripeSettings.current()
    paypal_timeout = PayPalSettings.current()[3]
    return max(timeout * (retries + 1), paypal_timeout * 2) + 2


def consumer() -> EventConsumer:
    """The orders consumer, of the ports as they are, built for each batch (see
    :func:`gears_shared.consumers.sqs_handler`): so each batch starts with the breaker closed and asks afresh."""
    breaker.close()
    return EventConsumer(
        {ORDER_CONFIRMED: breaker.guard(on_order_confirmed), ORDER_CANCELLED: breaker.guard(on_order_cancelled)},
        inbox=bootstrap.orders_inbox(),
        logger=logger,
        retry_delay=retry_delay,
        queue_url=bootstrap.orders_queue_url(),
        sqs=bootstrap.sqs(),
        record_budget_s=_record_budget_s(),
    )


def approvals_consumer() -> EventConsumer:
    """The approvals consumer (its own queue and inbox), built for each batch."""
    breaker.close()
    return EventConsumer(
        {PAYMENT_APPROVAL_REQUESTED: breaker.guard(on_approval_requested)},
        inbox=bootstrap.approvals_inbox(),
        logger=logger,
        retry_delay=retry_delay,
        queue_url=bootstrap.orders_queue_url(),
        sqs=bootstrap.sqs(),
        record_budget_s=_record_budget_s(),
    )


handler = sqs_handler(consumer)
approvals_handler = sqs_handler(approvals_consumer)
