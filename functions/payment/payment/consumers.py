"""``PaymentChargeConsumerFunction``: the orders service's events, from the ``PaymentOrdersQueue``.

- ``OrderConfirmed.v1`` (stock is reserved): charge the order's total with its payment method, once
  (:func:`payment.service.charge_order`). Stripe timing out or failing (5xx) raises, so the message comes back
  after the visibility timeout and the charge is asked again with the same idempotency key.
- ``OrderCancelled.v1``: void the intent of an uncharged order, or refund a charged one in full
  (:func:`payment.service.cancel_order`).

Each event id is applied once (the inbox :func:`payment.bootstrap.orders_inbox`); failures are reported per message.
While Stripe is unavailable a message comes back after 10 s, then twice as long each time up to five minutes (the
queue's ``maxReceiveCount`` of 10 rides out about 25 minutes of outage before parking it in the dead-letter
queue); a charge is only started with time left for both of its Stripe tries, and once Stripe has failed in a
batch the rest of that batch is not sent to it (each message backs off by its own count instead of burning a
receive on a call that would hang as well).
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
from payment.errors import ChargeInProgress, ProviderUnavailable, StalePayment
from payment.events import ORDER_CANCELLED, ORDER_CONFIRMED, OrderCancelledData, OrderConfirmedData
from payment.stripe_gateway import StripeSettings

FIRST_BACKOFF_S, MAX_BACKOFF_S = 10, 300


def _data(model: type[Any], event: CloudEvent) -> Any:
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        # An event that breaks the contract never becomes valid: let the queue park it.
        raise PoisonMessage(f"{event.type} {event.id}: {exc.error_count()} invalid field(s)") from exc


class StripeBreaker:
    """Open for the rest of an invocation once Stripe was unavailable in it (:func:`consumer` closes it as each
    batch starts)."""

    def __init__(self) -> None:
        self.open = False

    def close(self) -> None:
        self.open = False

    def guard(self, handle: Callable[[CloudEvent], None]) -> Callable[[CloudEvent], None]:
        def guarded(event: CloudEvent) -> None:
            if self.open:
                raise ProviderUnavailable("Stripe was unavailable earlier in this batch: not asked again now.")
            try:
                handle(event)
            except ProviderUnavailable:
                self.open = True
                raise

        return guarded


breaker = StripeBreaker()


def on_order_confirmed(event: CloudEvent) -> None:
    data: OrderConfirmedData = _data(OrderConfirmedData, event)
    payment = service.charge_order(
        service.ChargeOrder(
            order_id=data.orderId,
            user_id=data.userId,
            total=Money(data.total.amount, data.total.currency),
            payment_method=data.paymentMethod,
            correlation_id=event.correlationid or event.id,
        ),
        payments=bootstrap.payment_repository(),
        provider=bootstrap.payment_provider(),
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
        provider=bootstrap.payment_provider(),
    )
    logger.info("order cancellation settled", extra={"orderId": data.orderId, "result": type(result).__name__})


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """Stripe unavailable: back off, doubling; a charge another worker holds: soon; else the shared rules."""
    if isinstance(error, ProviderUnavailable):
        return min(FIRST_BACKOFF_S * 2 ** max(receive_count - 1, 0), MAX_BACKOFF_S)
    if isinstance(error, ChargeInProgress | StalePayment):
        return 2
    return default_retry_delay(error, receive_count)


def _record_budget_s() -> float:
    """Time a charge may need: two Stripe tries (the SDK's retry) and a little for DynamoDB."""
    _, _, timeout, retries = StripeSettings.current()
    return timeout * (retries + 1) + 2


def consumer() -> EventConsumer:
    """The orders consumer, of the ports as they are, built for each batch (see
    :func:`gears_shared.consumers.sqs_handler`): so each batch starts with the breaker closed and asks Stripe afresh."""
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


handler = sqs_handler(consumer)
