"""Wiring, in one place: the ports analytics' functions use, each built once per container on first use."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from analytics.store import DynamoAnalytics


@cache
def analytics_store() -> DynamoAnalytics:
    """The analytics table: counters, products, paid orders and cached forecasts (one table per service)."""
    return DynamoAnalytics(os.environ.get("TABLE_NAME", ""))


@cache
def sqs() -> Any:
    """The SQS client the consumer reschedules failed messages with."""
    import boto3

    return boto3.client("sqs")
