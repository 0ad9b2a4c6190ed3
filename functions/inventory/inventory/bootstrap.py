"""The inventory's wiring, in one place: each client, repository, inbox and publisher its functions use, built once
per container on first use (``functools.cache``) from the environment the template sets.

Routes receive these through Powertools' ``Depends(bootstrap.stock_repository)``, so a test swaps one with
``app.dependency_overrides[bootstrap.stock_repository] = lambda: fake``; the order consumer and the stream publisher
call them directly.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3

from gears_shared.consumers import DynamoInbox, Inbox
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher, stream_publisher_from_env
from inventory.service import StockRepository
from inventory.store import DynamoStockRepository

INBOX_CONSUMER = "inventory-orders"  # the inbox's key prefix: unchanged, so events already applied stay applied


def table_name() -> str:
    """The inventory table (``TABLE_NAME``)."""
    return os.environ.get("TABLE_NAME", "")


@cache
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@cache
def stock_repository() -> StockRepository:
    return DynamoStockRepository(table_name(), dynamodb())


@cache
def inbox() -> Inbox:
    """The consumer's record of the event ids it applied, in the inventory table."""
    return DynamoInbox(table_name(), consumer=INBOX_CONSUMER, client=dynamodb())


@cache
def stream_publisher() -> StreamPublisher:
    """The table stream's publisher, to the inventory topic (``TOPIC_ARN``)."""
    from inventory.publisher import events_for_record  # here: the publisher module's handler calls this one

    return stream_publisher_from_env(events_for_record, logger=logger, metrics=metrics)
