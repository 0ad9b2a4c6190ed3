"""Wiring, in one place: the ports order management's functions use, each built once per container on first use.

Routes receive them with ``Depends(bootstrap.order_repository)`` (tests swap them through the resolver's
``dependency_overrides``); the events consumer takes them from here as it is built.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from gears_shared.consumers import DynamoInbox, Inbox
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher, stream_publisher_from_env
from orders.history import HistoryRepository
from orders.service import OrderRepository
from orders.store import DynamoHistoryRepository, DynamoOrderRepository


def _table_name() -> str:
    return os.environ.get("TABLE_NAME", "")


@cache
def order_repository() -> OrderRepository:
    return DynamoOrderRepository(_table_name())


@cache
def history_repository() -> HistoryRepository:
    """Imported order history (its batches and per-order markers) in the orders table."""
    return DynamoHistoryRepository(_table_name())


@cache
def inbox() -> Inbox:
    """The events consumer's record of the event ids it applied (in the orders table)."""
    return DynamoInbox(_table_name(), consumer="orders")


@cache
def sqs() -> Any:
    """The SQS client the events consumer reschedules failed messages with."""
    import boto3

    return boto3.client("sqs")


@cache
def stream_publisher() -> StreamPublisher:
    """The table stream's publisher, to the orders topic (``TOPIC_ARN``)."""
    from orders.publisher import events_for_record  # here: the publisher module's handler calls this one

    return stream_publisher_from_env(events_for_record, logger=logger, metrics=metrics)
