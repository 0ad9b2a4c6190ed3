"""Wiring, in one place: the ports the CRM's functions use, each built once per container on first use.

Routes receive them with ``Depends(bootstrap.crm_store)`` (tests swap them through the resolver's
``dependency_overrides``); the consumers, the launcher and the recompute take them from here as they are built.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from crm.store import DynamoCrm
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher

# Events per SNS request: a campaign batch's event carries the body (up to 20,000 characters, so up to 80 KB of
# UTF-8); two of them stay under SNS's 256 KB for a whole PublishBatch request.
PUBLISH_CHUNK = 2


@cache
def crm_store() -> DynamoCrm:
    """The CRM table: customers, tickets and campaigns alike (one table per service)."""
    return DynamoCrm(os.environ.get("TABLE_NAME", ""))


@cache
def sqs() -> Any:
    """The SQS client the consumers reschedule failed messages with."""
    import boto3

    return boto3.client("sqs")


@cache
def stream_publisher() -> StreamPublisher:
    """The table stream's publisher, to the CRM topic (``TOPIC_ARN``)."""
    import boto3
    from aws_lambda_powertools.metrics import MetricUnit

    from crm.publisher import events_for_record  # here: the publisher module's handler calls this one
    from gears_shared.events import SnsPublisher

    def count(events: Any) -> None:
        for event in events:
            metrics.add_metric(name=event.name, unit=MetricUnit.Count, value=1)

    return StreamPublisher(
        events_for_record,
        SnsPublisher(os.environ.get("TOPIC_ARN", ""), boto3.client("sns")),
        on_published=count,
        on_error=lambda message, error: logger.warning(message, extra={"error": repr(error)}),
        chunk=PUBLISH_CHUNK,
    )
