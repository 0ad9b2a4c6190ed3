"""Consuming CloudEvents from an SQS queue: parse, dispatch by type, apply each event id once, fail partially.

A service's ``consumers.py`` does::

    def consumer() -> EventConsumer:
        return EventConsumer(
            {"OrderPlaced.v1": on_order_placed, "OrderCancelled.v1": on_order_cancelled},
            inbox=bootstrap.inbox(),  # a DynamoInbox in the service's table, built once per container
            logger=logger,
        )

    handler = sqs_handler(consumer)

- Each record's body is a CloudEvent (raw SNS delivery; an SNS-wrapped one is unwrapped). A body that is not one
  fails its record every time, so the queue's redrive policy parks it in the dead-letter queue.
- The inbox makes delivery effectively once per consumer: an event id already applied is acknowledged and skipped;
  one being applied right now by another worker is retried later; a handler that raises releases the id, so the
  retry applies it. The claims of a batch's applied events are marked complete together when the batch is done
  (one ``BatchWriteItem`` per 25, instead of an ``UpdateItem`` per event); if that write fails, every record it
  covered is reported failed, so none is lost (the claims then run out with the invocation's lease, as a crashed
  worker's do, and the retry applies them). A claim is leased until the invocation's own deadline (Lambda's
  context says when): a worker that crashed mid-batch holds nothing once its time is up, so the redelivered batch
  is applied at once. Handlers
  should still write their state with conditions (the inbox closes the window between deliveries, the condition
  closes the window inside a crash).
- The batch is Powertools' ``BatchProcessor`` (``process_partial_response``): the answer is Lambda's partial batch
  response (``ReportBatchItemFailures``), only failed records come back, and its failure hook (as Powertools'
  ``extending_failure.py`` shows) reschedules each failed record. A batch whose every record failed is answered
  the same way, not raised: each record's own retry delay must hold.
- Why the inbox is ours and not Powertools' idempotency utility (which also keys by event id, leases an
  in-progress record until the invocation's deadline and keeps its records in a DynamoDB table): when another worker
  holds an event, Powertools raises ``IdempotencyAlreadyInProgressError`` without saying until when, and we
  retry exactly when that worker's lease ends (:func:`default_retry_delay`); it stores each handler's return value,
  which ours have none of; and it has no way to release a claim on failure other than deleting its record, which
  is what ``abandon`` does. The inbox items sit in the service's own table beside its data (one table per service).
- ``retry_delay(error, receive_count)`` may bring a failed record back sooner than the queue's visibility timeout
  (``ChangeMessageVisibility`` on ``queue_url``): :func:`default_retry_delay` parks what can never apply within
  seconds and retries an event held by another worker when that worker's lease ends; a service adds its own rules
  (a provider outage backs off, an event that came before its order retries soon).
- ``record_budget_s``: a record is not started when less time than this is left in the invocation; it and the rest
  of the batch come back in a second, instead of the whole batch timing out and waiting the visibility timeout.
- The logger's correlation id is the event's ``correlationid`` while its handler runs.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from gears_shared.events import CloudEvent, parse_event

Handler = Callable[[CloudEvent], None]
RetryDelay = Callable[[Exception, int], "int | None"]

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
LEASE_MARGIN_S = 5  # clocks of two workers may differ a little; a lease outlives its invocation by this much


class PoisonMessage(ValueError):
    """A message that is not a CloudEvent: it will never succeed."""


class NotAttempted(RuntimeError):
    """The invocation had too little time left to start this record: it comes back at once."""


class EventNotReady(RuntimeError):
    """The event came before what it needs (a payment before its order, a sale before its products): it comes back
    after 2, 4, 8 ... seconds, up to ``max_backoff_s``, until it applies or the queue's redrive policy parks it. Each
    service raises its own subclass.

    What it waits for can be late by a whole visibility timeout (its batch crashed and comes back then) or by a
    backlog, so the queue's ``maxReceiveCount`` is set to wait longer than that: :func:`not_ready_span_s` is how
    long the waits of its receives add up to (10 receives: 2 + 4 + 8 + 16 + 32 + 60 + 60 + 60 + 60 = 302 s). A
    service that stops waiting after a while and applies what it has (CRM, analytics, notification) stops before
    that span ends, or the redrive policy would park the event first; ``tests/unit/test_template.py`` holds each
    queue to it."""

    max_backoff_s = 60


class EventInProgress(RuntimeError):
    """Another worker is applying this event right now; try again when its lease is over."""

    title = "Event being applied"
    code = "event-in-progress"

    def __init__(self, event_id: str, lease_until: int | None = None) -> None:
        super().__init__(event_id)
        self.lease_until = lease_until


class Inbox(Protocol):
    def begin(self, event_id: str, lease_until: int | None = None) -> bool:
        """Claim the event until ``lease_until`` (epoch seconds); ``False`` if it was already applied."""
        ...

    def complete(self, event_id: str) -> None: ...

    def complete_many(self, event_ids: list[str]) -> None:
        """Mark every one of ``event_ids`` applied (all, or raise)."""
        ...

    def abandon(self, event_id: str) -> None: ...


class InMemoryInbox:
    """An inbox for tests."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}

    def begin(self, event_id: str, lease_until: int | None = None) -> bool:
        status = self.state.get(event_id)
        if status == COMPLETED:
            return False
        if status == IN_PROGRESS:
            raise EventInProgress(event_id, lease_until)
        self.state[event_id] = IN_PROGRESS
        return True

    def complete(self, event_id: str) -> None:
        self.state[event_id] = COMPLETED

    def complete_many(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self.complete(event_id)

    def abandon(self, event_id: str) -> None:
        self.state.pop(event_id, None)


class DynamoInbox:
    """The inbox in the service's own table: one item per (consumer, event id), spread over partitions, kept
    ``keep_days`` (the table's TTL attribute ``expiresAt``) — longer than SQS keeps a message. A claim is leased
    until the time its caller gives (the invocation's deadline), else for ``lease_s``."""

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

    def begin(self, event_id: str, lease_until: int | None = None) -> bool:
        now = int(time.time())
        until = lease_until if lease_until is not None else now + self.lease_s
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **self._key(event_id),
                    "status": {"S": IN_PROGRESS},
                    "leaseUntil": {"N": str(until)},
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
            held = old.get("leaseUntil", {}).get("N")
            raise EventInProgress(event_id, int(held) if held else None) from exc

    def complete(self, event_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._key(event_id),
            UpdateExpression="SET #status = :done REMOVE leaseUntil",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":done": {"S": COMPLETED}},
        )

    def complete_many(self, event_ids: list[str], attempts: int = 4) -> None:
        """The same as :meth:`complete` for each id (the claim's lease goes, the status is ``COMPLETED``), written
        25 to a ``BatchWriteItem``; what DynamoDB leaves unprocessed is written again, and raises if it stays so."""
        expires = {"N": str(int(time.time()) + self.keep_s)}
        done = {"S": COMPLETED}
        for start in range(0, len(event_ids), 25):
            pending: dict[str, Any] = {
                self.table: [
                    {"PutRequest": {"Item": {**self._key(event_id), "status": done, "expiresAt": expires}}}
                    for event_id in dict.fromkeys(event_ids[start : start + 25])
                ]
            }
            for attempt in range(attempts):
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            if pending:
                raise RuntimeError(f"inbox: {len(pending.get(self.table, []))} completions left unprocessed")

    def abandon(self, event_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key=self._key(event_id))


def apply_once(
    inbox: Inbox | None,
    event_id: str,
    apply: Callable[[], None],
    lease_until: int | None = None,
    *,
    completed: list[str] | None = None,
) -> bool:
    """Run ``apply`` once per ``event_id``: ``False`` for an event applied before; :class:`EventInProgress` while
    another worker holds it; a failure releases the claim, so the next delivery applies it. The one mechanism
    behind every consumer and the payment provider's webhook. With ``completed``, the claim is left for the caller
    to mark complete with others (``Inbox.complete_many``): the id is appended to it."""
    if inbox is not None and not inbox.begin(event_id, lease_until):
        return False
    try:
        apply()
    except BaseException:
        if inbox is not None:
            inbox.abandon(event_id)
        raise
    if inbox is not None:
        if completed is None:
            inbox.complete(event_id)
        else:
            completed.append(event_id)
    return True


def not_ready_delay(receive_count: int, max_backoff_s: int) -> int:
    """Seconds until an event that came too early is received again, after its ``receive_count``-th receive."""
    return min(2 ** max(receive_count, 1), max_backoff_s)


def not_ready_span_s(max_receive_count: int, max_backoff_s: int = EventNotReady.max_backoff_s) -> int:
    """How long, at least, an event that keeps coming too early is retried before a queue whose redrive policy has
    ``max_receive_count`` parks it: the waits after each of its receives but the last."""
    return sum(not_ready_delay(n, max_backoff_s) for n in range(1, max_receive_count))


def default_retry_delay(error: Exception, receive_count: int) -> int | None:
    """Seconds until a failed record should come back, or ``None`` for the queue's visibility timeout."""
    if isinstance(error, PoisonMessage):
        return 1  # it will never apply: let the redrive policy park it where an operator sees it, quickly
    if isinstance(error, NotAttempted):
        return 1  # not tried for lack of time: the next invocation takes it at once
    if isinstance(error, EventNotReady):
        return not_ready_delay(receive_count, error.max_backoff_s)
    if isinstance(error, EventInProgress) and error.lease_until is not None:
        return max(1, min(error.lease_until - int(time.time()) + 1, 900))  # when the other worker's claim ends
    return None


class EventConsumer:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        inbox: Inbox | None = None,
        logger: Any = None,
        on_unknown: Callable[[CloudEvent], None] | None = None,
        retry_delay: RetryDelay | None = default_retry_delay,
        queue_url: str = "",
        sqs: Any = None,
        record_budget_s: float = 0.0,
    ) -> None:
        self.handlers = dict(handlers)
        self.inbox = inbox
        self.logger = logger
        self.on_unknown = on_unknown
        self.retry_delay = retry_delay
        self.queue_url = queue_url
        self._sqs = sqs
        self.record_budget_s = record_budget_s

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
        """Apply an SQS batch; Lambda's partial batch response with the records that failed. With Lambda's
        ``context``, inbox claims last until the invocation's deadline."""
        from aws_lambda_powertools.utilities.batch import process_partial_response

        timed = context is not None and hasattr(context, "get_remaining_time_in_millis")
        lease_until = None
        if timed:
            lease_until = int(time.time() + context.get_remaining_time_in_millis() / 1000) + LEASE_MARGIN_S

        completed: list[str] = []  # event ids applied in this batch, their claims to be marked complete together
        records_of: dict[str, list[str]] = {}  # event id -> the message ids that carried it

        def apply_record(record: Any) -> None:
            if timed and context.get_remaining_time_in_millis() < self.record_budget_s * 1000:
                raise NotAttempted("too little time left in this invocation")
            before = len(completed)
            self.apply(record.body or "", lease_until=lease_until, completed=completed)
            for event_id in completed[before:]:
                records_of.setdefault(event_id, []).append(record.message_id)

        # Not handing ``context`` on: the record handler takes none, and Powertools only passes it to one that does.
        response: dict[str, list[dict[str, str]]] = process_partial_response(  # type: ignore[assignment]
            event=event, record_handler=apply_record, processor=self._processor
        )
        if completed and self.inbox is not None:
            try:
                self.inbox.complete_many(completed)
            except Exception as exc:  # noqa: BLE001 - reported as the records' failure, below
                unmarked = [m for event_id in completed for m in records_of.get(event_id, [])]
                if self.logger:
                    self.logger.warning("applied events not marked complete", extra={"error": repr(exc)[:500]})
                failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
                response["batchItemFailures"] = [
                    *response.get("batchItemFailures", []),
                    *({"itemIdentifier": m} for m in unmarked if m not in failed),
                ]
        return response

    @property
    def _processor(self) -> Any:
        """Powertools' SQS batch processor, whose failure hook reschedules and logs each failed record."""
        return _batch_processor_class()(self)

    def _reschedule(self, record: dict[str, Any], error: Exception) -> int | None:
        """Bring the record back after ``retry_delay`` says, when it says and the queue is known."""
        if self.retry_delay is None:
            return None
        count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        delay = self.retry_delay(error, count)
        if delay is None or not self.queue_url or not record.get("receiptHandle"):
            return None
        if self._sqs is None:
            import boto3

            self._sqs = boto3.client("sqs")
        with contextlib.suppress(Exception):  # best effort: the visibility timeout brings it back anyway
            self._sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=delay
            )
        return delay

    def apply(
        self, body: str | bytes | dict[str, Any], lease_until: int | None = None, completed: list[str] | None = None
    ) -> bool:
        """Apply one message; ``False`` when there was nothing to do (a duplicate, or a type nobody handles). With
        ``completed``, its claim is left for the caller to mark complete (see :func:`apply_once`)."""
        try:
            envelope = parse_event(body)
        except (ValueError, ValidationError, TypeError) as exc:
            raise PoisonMessage(f"not a CloudEvent: {exc}") from exc
        handler = self.handlers.get(envelope.type)
        if handler is None:
            if self.on_unknown:
                self.on_unknown(envelope)
            return False
        if completed is not None and envelope.id in completed:
            return False  # delivered twice in one batch, and applied already
        if self.logger:
            self.logger.set_correlation_id(envelope.correlationid or envelope.id)
        return apply_once(self.inbox, envelope.id, lambda: handler(envelope), lease_until, completed=completed)


@functools.cache
def _batch_processor_class() -> type:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    class Processor(BatchProcessor):
        def __init__(self, consumer: EventConsumer) -> None:
            # A batch that failed whole is still a partial answer: each record's own retry delay must hold.
            super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
            self.consumer = consumer

        def failure_handler(self, record: Any, exception: Any) -> Any:
            delay = self.consumer._reschedule(record.raw_event, exception[1])
            if self.consumer.logger:
                self.consumer.logger.warning(
                    "event not applied",
                    extra={"messageId": record.message_id, "error": repr(exception[1])[:500], "retryInSeconds": delay},
                )
            return super().failure_handler(record, exception)

    return Processor


def sqs_handler(consumer: Callable[[], EventConsumer]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of an SQS function: ``handler = sqs_handler(consumer)``, where ``consumer()`` builds the
    service's :class:`EventConsumer` from its wiring (cheap: the ports it takes are built once per container, in the
    service's bootstrap), so a consumer is always made of the ports as they are now. The logger takes each event's
    correlation id as it is applied; tracing and metrics are installed once, here."""
    from gears_shared.observability import logger, metrics, tracer

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return consumer().handle(event, context)

    return handler
