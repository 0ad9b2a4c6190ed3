"""Consuming CloudEvents from an SQS queue: parse, dispatch by type, apply each event id once, fail partially.

A service's ``consumers.py`` does::

    consumer = EventConsumer(
        {"OrderPlaced.v1": on_order_placed, "OrderCancelled.v1": on_order_cancelled},
        inbox=DynamoInbox(TABLE_NAME, consumer="inventory"),
        logger=logger,
    )

    @logger.inject_lambda_context
    def handler(event, context):
        return consumer.handle(event)

- Each record's body is a CloudEvent (raw SNS delivery; an SNS-wrapped one is unwrapped). A body that is not one
  fails its record every time, so the queue's redrive policy parks it in the dead-letter queue.
- The inbox makes delivery effectively once per consumer: an event id already applied is acknowledged and skipped;
  one being applied right now by another worker is retried later; a handler that raises releases the id, so the
  retry applies it. Handlers should still write their state with conditions (the inbox closes the window between
  deliveries, the condition closes the window inside a crash).
- The answer is Lambda's partial batch response (``ReportBatchItemFailures``): only failed records come back.
- The logger's correlation id is the event's ``correlationid`` while its handler runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from gears_shared.events import CloudEvent, parse_event

Handler = Callable[[CloudEvent], None]

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


class PoisonMessage(ValueError):
    """A message that is not a CloudEvent: it will never succeed."""


class EventInProgress(RuntimeError):
    """Another worker is applying this event right now; try again after the visibility timeout."""


class Inbox(Protocol):
    def begin(self, event_id: str) -> bool:
        """Claim the event; ``False`` if it was already applied (a duplicate delivery)."""
        ...

    def complete(self, event_id: str) -> None: ...

    def abandon(self, event_id: str) -> None: ...


class InMemoryInbox:
    """An inbox for tests."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}

    def begin(self, event_id: str) -> bool:
        status = self.state.get(event_id)
        if status == COMPLETED:
            return False
        if status == IN_PROGRESS:
            raise EventInProgress(event_id)
        self.state[event_id] = IN_PROGRESS
        return True

    def complete(self, event_id: str) -> None:
        self.state[event_id] = COMPLETED

    def abandon(self, event_id: str) -> None:
        self.state.pop(event_id, None)


class DynamoInbox:
    """The inbox in the service's own table: one item per (consumer, event id), spread over partitions, kept
    ``keep_days`` (the table's TTL attribute ``expiresAt``) — longer than SQS keeps a message."""

    def __init__(
        self,
        table_name: str,
        consumer: str,
        *,
        client: Any = None,
        lease_s: int = 120,
        keep_days: int = 15,
        pk: str = "pk",
        sk: str = "sk",
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.client = client
        self.table = table_name
        self.consumer = consumer
        self.lease_s = lease_s
        self.keep_s = keep_days * 86400
        self.pk, self.sk = pk, sk

    def _key(self, event_id: str) -> dict[str, Any]:
        return {self.pk: {"S": f"INBOX#{self.consumer}#{event_id}"}, self.sk: {"S": "INBOX"}}

    def begin(self, event_id: str) -> bool:
        now = int(time.time())
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **self._key(event_id),
                    "status": {"S": IN_PROGRESS},
                    "leaseUntil": {"N": str(now + self.lease_s)},
                    "expiresAt": {"N": str(now + self.keep_s)},
                },
                ConditionExpression="attribute_not_exists(#pk) OR (#status = :in_progress AND leaseUntil < :now)",
                ExpressionAttributeNames={"#pk": self.pk, "#status": "status"},
                ExpressionAttributeValues={":in_progress": {"S": IN_PROGRESS}, ":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return True
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item") or {}
            if old.get("status", {}).get("S") == COMPLETED:
                return False
            raise EventInProgress(event_id) from exc

    def complete(self, event_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._key(event_id),
            UpdateExpression="SET #status = :done REMOVE leaseUntil",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":done": {"S": COMPLETED}},
        )

    def abandon(self, event_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key=self._key(event_id))


class EventConsumer:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        inbox: Inbox | None = None,
        logger: Any = None,
        on_unknown: Callable[[CloudEvent], None] | None = None,
    ) -> None:
        self.handlers = dict(handlers)
        self.inbox = inbox
        self.logger = logger
        self.on_unknown = on_unknown

    def handle(self, event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Apply an SQS batch; Lambda's partial batch response with the records that failed."""
        failures = []
        for record in event.get("Records") or []:
            try:
                self.apply(record.get("body", ""))
            except Exception as exc:  # noqa: BLE001 - reported as failed; SQS retries it, then parks it
                failures.append({"itemIdentifier": record.get("messageId", "")})
                if self.logger:
                    self.logger.warning(
                        "event not applied",
                        extra={"messageId": record.get("messageId"), "error": repr(exc)[:500]},
                    )
        return {"batchItemFailures": failures}

    def apply(self, body: str | bytes | dict[str, Any]) -> bool:
        """Apply one message; ``False`` when there was nothing to do (a duplicate, or a type nobody handles)."""
        try:
            envelope = parse_event(body)
        except (ValueError, ValidationError, TypeError) as exc:
            raise PoisonMessage(f"not a CloudEvent: {exc}") from exc
        handler = self.handlers.get(envelope.type)
        if handler is None:
            if self.on_unknown:
                self.on_unknown(envelope)
            return False
        if self.logger:
            self.logger.set_correlation_id(envelope.correlationid or envelope.id)
        if self.inbox is not None and not self.inbox.begin(envelope.id):
            return False
        try:
            handler(envelope)
        except BaseException:
            if self.inbox is not None:
                self.inbox.abandon(envelope.id)
            raise
        if self.inbox is not None:
            self.inbox.complete(envelope.id)
        return True
