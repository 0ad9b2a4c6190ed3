"""The saga's events, applied to orders (``OrdersEventsConsumerFunction``, on ``OrdersEventsQueue``).

The queue is subscribed to the e-commerce topic (``OrderPlaced.v1``), the inventory topic (``StockReserved.v1``,
``StockReservationFailed.v1``) and the payment topic (``PaymentSucceeded.v1``, ``PaymentFailed.v1``,
``PaymentRefunded.v1``, ``PaymentVoided.v1``). :class:`gears_shared.consumers.EventConsumer` applies each event
id once (a :class:`DynamoInbox` in the orders table) and reports partial batch failures.

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

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from gears_shared.consumers import DynamoInbox, EventConsumer, PoisonMessage, default_retry_delay
from gears_shared.events import CloudEvent
from gears_shared.observability import setup
from orders import events as ev
from orders import service
from orders.domain import OrderRuleError
from orders.errors import OrderNotReady
from orders.service import EventContext, Outcome
from orders.store import DynamoOrderRepository

logger, tracer, metrics = setup()

TABLE_NAME = os.environ.get("TABLE_NAME", "")
QUEUE_URL = os.environ.get("QUEUE_URL", "")
MAX_BACKOFF_S = 30

# Wired once per container: tests reach these to hand in fakes.
orders = DynamoOrderRepository(TABLE_NAME)
sqs = boto3.client("sqs")

Data = TypeVar("Data", bound=BaseModel)


def _handler(model: type[Data], use_case: Callable[[Data, EventContext, Any], Outcome]) -> Callable[[CloudEvent], None]:
    def handle(event: CloudEvent) -> None:
        data = model.model_validate(event.data)
        outcome = use_case(data, EventContext(event.type, event.id, event.correlationid), orders)
        logger.info(
            "event applied",
            extra={"type": event.type, "eventId": event.id, "orderId": event.subject, "outcome": outcome.result},
        )

    return handle


def retry_delay(error: Exception, receive_count: int) -> int | None:
    """How soon a failed message should come back, or ``None`` for the queue's visibility timeout."""
    if isinstance(error, PoisonMessage | ValidationError | OrderRuleError):
        return 1  # it will never apply: park it in the dead-letter queue quickly, where an operator sees it
    if isinstance(error, OrderNotReady):
        return min(2 ** max(receive_count, 1), MAX_BACKOFF_S)
    return default_retry_delay(error, receive_count)


consumer = EventConsumer(
    {
        ev.ORDER_PLACED: _handler(ev.OrderPlaced, service.place_order),
        ev.STOCK_RESERVED: _handler(ev.StockReserved, service.stock_reserved),
        ev.STOCK_RESERVATION_FAILED: _handler(ev.StockReservationFailed, service.stock_reservation_failed),
        ev.PAYMENT_SUCCEEDED: _handler(ev.PaymentSucceeded, service.payment_succeeded),
        ev.PAYMENT_FAILED: _handler(ev.PaymentFailed, service.payment_failed),
        ev.PAYMENT_REFUNDED: _handler(ev.PaymentRefunded, service.payment_refunded),
        ev.PAYMENT_VOIDED: _handler(ev.PaymentVoided, service.payment_voided),
    },
    inbox=DynamoInbox(TABLE_NAME, consumer="orders"),
    logger=logger,
    on_unknown=lambda e: logger.info("event type not handled", extra={"type": e.type, "eventId": e.id}),
    retry_delay=retry_delay,
    queue_url=QUEUE_URL,
    sqs=sqs,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.handle(event, context)
