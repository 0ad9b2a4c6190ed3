"""CloudEvents 1.0 envelopes and the publisher that puts them on a service's SNS topic.

Every asynchronous message in Gears is one JSON CloudEvent (structured mode) with the extension attribute
``correlationid``. Types are ``<Resource><PastTense>.v<N>`` (``ProductCreated.v1``); the owning service keeps the
schema of ``data`` in its ``events.py``. On SNS the type also travels as the message attribute ``type`` so that
consumers' subscriptions filter on it; with raw message delivery the SQS body is the envelope itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from gears_shared.clock import utc_iso

SPEC_VERSION = "1.0"
SNS_BATCH = 10


def _now() -> str:
    return utc_iso(datetime.now(UTC))


class PublishedData(BaseModel):
    """The base of the ``data`` of an event a service publishes: exactly its schema (an unknown field is a bug)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsumedData(BaseModel):
    """The base of the ``data`` a consumer reads from another service's event: only the fields it uses, the rest
    ignored (a tolerant reader: the publisher may add fields without breaking its consumers)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope (JSON format) with Gears' ``correlationid`` extension."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: str = Field(default_factory=_now)
    subject: str | None = None
    datacontenttype: str = "application/json"
    correlationid: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        """The type without its version (``ProductCreated`` for ``ProductCreated.v1``)."""
        return self.type.split(".v", 1)[0]

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def new_event(
    type: str,  # noqa: A002 - the CloudEvents attribute is called type
    source: str,
    data: dict[str, Any],
    *,
    correlation_id: str = "",
    subject: str | None = None,
    event_id: str | None = None,
    time: str | None = None,
) -> CloudEvent:
    """A new envelope; pass ``event_id`` to make the id deterministic (so a replay dedupes downstream)."""
    fields: dict[str, Any] = {"type": type, "source": source, "data": data, "correlationid": correlation_id}
    if subject:
        fields["subject"] = subject
    if event_id:
        fields["id"] = event_id
    if time:
        fields["time"] = time
    return CloudEvent(**fields)


def parse_event(body: str | bytes | dict[str, Any]) -> CloudEvent:
    """An envelope from an SQS body (raw SNS delivery) or from an SNS notification wrapping one."""
    value = json.loads(body) if isinstance(body, str | bytes) else body
    if isinstance(value, dict) and value.get("Type") == "Notification" and "Message" in value:
        value = json.loads(value["Message"])
    return CloudEvent.model_validate(value)


class Publisher(Protocol):
    def publish(self, events: Sequence[CloudEvent]) -> None: ...


class PublishError(RuntimeError):
    """Some events were not accepted by the topic; the caller's batch must be retried.

    ``first_failed`` is the index, in the list given to ``publish``, of the first event not accepted (the ones
    before it are on the topic), or ``None`` when nothing is known to have been accepted.
    """

    def __init__(self, message: str, first_failed: int | None = None) -> None:
        super().__init__(message)
        self.first_failed = first_failed


class SnsPublisher:
    """Publishes envelopes to one SNS topic, ten to a request, each with a ``type`` message attribute."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        self.topic_arn = topic_arn
        self.client = client

    def publish(self, events: Sequence[CloudEvent]) -> None:
        for start in range(0, len(events), SNS_BATCH):
            chunk = events[start : start + SNS_BATCH]
            entries = [
                {
                    "Id": str(i),
                    "Message": event.to_json(),
                    "MessageAttributes": {
                        "type": {"DataType": "String", "StringValue": event.type},
                        "source": {"DataType": "String", "StringValue": event.source},
                    },
                }
                for i, event in enumerate(chunk)
            ]
            try:
                result = self.client.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
            except Exception as exc:
                raise PublishError(f"events not published: {exc}", first_failed=start) from exc
            if result.get("Failed"):
                first = start + min(int(f["Id"]) for f in result["Failed"])
                failed = result["Failed"]
                raise PublishError(f"{len(failed)} of {len(chunk)} events not published: {failed}", first_failed=first)


class InMemoryPublisher:
    """A publisher for tests: keeps what was published."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    def publish(self, events: Sequence[CloudEvent]) -> None:
        self.events.extend(events)

    def of_type(self, type_: str) -> list[CloudEvent]:
        return [e for e in self.events if type_ in (e.type, e.name)]


def stream_images(record: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """A DynamoDB stream record's event name with its old and new images as plain Python values."""
    from gears_shared.dynamo import plain_item

    ddb = record.get("dynamodb") or {}
    old, new = ddb.get("OldImage"), ddb.get("NewImage")
    return record.get("eventName", ""), plain_item(old) if old else None, plain_item(new) if new else None
