"""The orders consumer (``EcommerceOrdersConsumerFunction``): an order cancelled before it was paid gives back the
use of its discount code.

It reads orders' ``OrderCancelled.v1`` (OrdersTopic, filtered to that type). An unpaid cancellation (stock could
not be reserved, the payment failed, the customer cancelled before paying) decrements the usage shard that counted
the order's use and marks the order record in one transaction; a paid one keeps its use. No inbox: the mark on the
order record makes a duplicate or a redelivery give back nothing more (its condition fails), which is the whole of
what an inbox would add here.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from ecommerce import bootstrap
from ecommerce.discounts.service import GiveBackUse, give_back_use
from ecommerce.events import ORDER_CANCELLED, OrderCancelled
from gears_shared.consumers import EventConsumer, sqs_handler
from gears_shared.events import CloudEvent
from gears_shared.observability import logger, metrics


def on_order_cancelled(event: CloudEvent) -> None:
    data = OrderCancelled.model_validate(event.data)
    given_back = give_back_use(GiveBackUse(data.orderId, data.paid), bootstrap.usage_releases())
    if given_back:
        metrics.add_metric(name="DiscountUseGivenBack", unit=MetricUnit.Count, value=1)
        logger.info("discount use given back", extra={"orderId": data.orderId})


def orders_consumer() -> EventConsumer:
    """The orders consumer, of the ports as they are (see :func:`gears_shared.consumers.sqs_handler`)."""
    return EventConsumer({ORDER_CANCELLED: on_order_cancelled}, inbox=None, logger=logger)


orders_handler = sqs_handler(orders_consumer)
