"""The saga's events, applied to orders (``OrdersEventsConsumerFunction``, on ``OrdersEventsQueue``).

The queue is subscribed to the e-commerce topic (``OrderPlaced.v1``), the inventory topic (``StockReserved.v1``,
``StockReservationFailed.v1``) and the payment topic (``PaymentApprovalRequested.v1``, ``PaymentSucceeded.v1``,
``PaymentFailed.v1``, ``PaymentRefunded.v1``, ``PaymentVoided.v1``). Each event's data is validated and becomes
the command of its use case (:mod:`orders.service`). :class:`gears_shared.consumers.EventConsumer` applies each event
id once (the inbox in the orders table) and reports partial batch failures.

Failures come back sooner than the queue's visibility timeout when waiting longer would only slow the saga down:
an event that arrived before the change it follows (:class:`OrderNotReady`) is retried after a short, growing
delay; a message that can never be applied (not a CloudEvent, or a change the order's rules refuse) after one
second, so that it reaches the dead-letter queue in seconds rather than minutes. Everything else follows
:func:`gears_shared.consumers.default_retry_delay`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gears_shared.consumers import EventConsumer, PoisonMessage, default_retry_delay, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger
from orders import bootstrap, service
from orders import events as ev
from orders.domain import OrderRuleError
from orders.service import EventCommand, EventContext, OrderRepository, Outcome

Data = TypeVar("Data", bound=BaseModel)
Command = TypeVar("Command", bound=EventCommand[Any])


def _apply(
    model: type[Data],
    command: Callable[[Data, EventContext], Command],
    use_case: Callable[[Command, OrderRepository], Outcome],
) -> Callable[[CloudEvent], None]:
    """The consumer's handler of one event type: its data as ``model``, made ``command``, applied by ``use_case``."""

    def handle(event: CloudEvent) -> None:
        cmd = command(model.model_validate(event.data), EventContext(event.type, event.id, event.correlationid))
        outcome = use_case(cmd, bootstrap.order_repository())
        logger.info(
            "event applied",
            extra={"type": event.type, "eventId": event.id, "orderId": event.subject, "outcome": outcome.result},
        )

    return handle


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """How soon a failed message should come back, or ``None`` for the queue's visibility timeout."""
    if isinstance(error, PoisonMessage | ValidationError | OrderRuleError):
        return 1  # it will never apply: park it in the dead-letter queue quickly, where an operator sees it
    return default_retry_delay(error, receive_count)


def consumer() -> EventConsumer:
    """The events consumer, of the ports as they are (see :func:`gears_shared.consumers.sqs_handler`)."""
    return EventConsumer(
        {
            ev.ORDER_PLACED: _apply(ev.OrderPlaced, service.PlaceOrder, service.place_order),
            ev.STOCK_RESERVED: _apply(ev.StockReserved, service.ConfirmOrder, service.confirm_order),
            ev.STOCK_RESERVATION_FAILED: _apply(
                ev.StockReservationFailed, service.CancelOutOfStock, service.cancel_out_of_stock
            ),
            ev.PAYMENT_APPROVAL_REQUESTED: _apply(
                ev.PaymentApprovalRequested, service.AwaitPayment, service.await_payment
            ),
            ev.PAYMENT_SUCCEEDED: _apply(ev.PaymentSucceeded, service.RecordPayment, service.record_payment),
            ev.PAYMENT_FAILED: _apply(ev.PaymentFailed, service.CancelUnpaid, service.cancel_unpaid),
            ev.PAYMENT_REFUNDED: _apply(ev.PaymentRefunded, service.RecordRefund, service.record_refund),
            ev.PAYMENT_VOIDED: _apply(ev.PaymentVoided, service.RecordVoid, service.record_void),
        },
        inbox=bootstrap.inbox(),
        logger=logger,
        on_unknown=lambda e: logger.info("event type not handled", extra={"type": e.type, "eventId": e.id}),
        retry_delay=retry_delay,
        queue_url=os.environ.get("QUEUE_URL", ""),
        sqs=bootstrap.sqs(),
    )


handler = sqs_handler(consumer)
