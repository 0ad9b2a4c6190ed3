"""Wiring, in one place: the ports search's functions use, each built once per container on first use.

The route receives the reader with ``Depends(bootstrap.index_reader)`` (tests swap it through the resolver's
``dependency_overrides``); the consumer and the indexer take the store and the snapshots from here.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from search.service import Indexer, IndexReader
from search.snapshots import S3Snapshots
from search.store import DynamoSearchStore


@cache
def store() -> DynamoSearchStore:
    return DynamoSearchStore(os.environ.get("TABLE_NAME", ""))


@cache
def snapshots() -> S3Snapshots:
    return S3Snapshots(os.environ.get("INDEX_BUCKET", ""))


@cache
def index_reader() -> IndexReader:
    """The query function's copy of the newest snapshot (kept across warm invocations)."""
    return IndexReader(snapshots())


@cache
def indexer() -> Indexer:
    """The writer's index (kept across warm invocations: the next batch starts from it)."""
    return Indexer(store(), snapshots())


@cache
def sqs() -> Any:
    """The SQS client the consumer reschedules failed messages with."""
    import boto3

    return boto3.client("sqs")
