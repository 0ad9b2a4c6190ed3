"""Wiring, in one place: the ports the recommendation functions use, each built once per container on first use.

Routes receive them with ``Depends(bootstrap.store)`` (tests swap them through the resolver's
``dependency_overrides``); the consumer and the job take them from here.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from recommendation.store import DynamoRecommendations, S3Snapshots


@cache
def store() -> DynamoRecommendations:
    """The recommendation table: products, baskets, related and popular lists (one table per service)."""
    return DynamoRecommendations(os.environ.get("TABLE_NAME", ""))


@cache
def snapshots() -> S3Snapshots:
    """The model's snapshot in the service's bucket (``MODEL_BUCKET``); the job's alone."""
    return S3Snapshots(os.environ.get("MODEL_BUCKET", ""))


@cache
def sqs() -> Any:
    """The SQS client the consumer reschedules failed messages with."""
    import boto3

    return boto3.client("sqs")
