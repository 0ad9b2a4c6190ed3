"""Publishing a table's changes from its DynamoDB stream: the half of "a state change and its event never part"
that runs after the write.

A service's stream function maps each stream record to the CloudEvents it means (``events_for_record``) and
hands the batch to :class:`StreamPublisher`, which publishes them in stream order, ten to an SNS request, and
reports as failed the first record whose events did not all reach the topic *and every record after it*: Lambda
restarts the shard from the lowest failed sequence number, so a later change is never published before an earlier
one. Event ids are derived from the stream record by the service, so a retried record publishes the same ids and
consumers drop the duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gears_shared.events import CloudEvent, Publisher, PublishError, SnsPublisher

EventsForRecord = Callable[[dict[str, Any]], Sequence[CloudEvent]]


def _sequence_number(record: dict[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


class StreamPublisher:
    def __init__(
        self,
        events_for_record: EventsForRecord,
        publisher: Publisher,
        *,
        on_published: Callable[[Sequence[CloudEvent]], None] | None = None,
        on_error: Callable[[str, Exception], None] | None = None,
        chunk: int = 10,
    ) -> None:
        self.events_for_record = events_for_record
        self.publisher = publisher
        self.on_published = on_published or (lambda _events: None)
        self.on_error = on_error or (lambda _msg, _exc: None)
        self.chunk = chunk

    def handle(self, event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Publish a stream batch; the partial batch response Lambda expects (``ReportBatchItemFailures``)."""
        records: list[dict[str, Any]] = list(event.get("Records") or [])
        failed_from = len(records)
        owners: list[int] = []  # owners[k]: the index of the record that event k came from
        events: list[CloudEvent] = []
        for i, record in enumerate(records):
            try:
                mapped = list(self.events_for_record(record))
            except Exception as exc:  # noqa: BLE001 - a record we cannot map is retried, then parked by Lambda
                self.on_error(f"record {_sequence_number(record)} could not be mapped to events", exc)
                failed_from = i
                break
            events += mapped
            owners += [i] * len(mapped)
        for start in range(0, len(events), self.chunk):
            chunk = events[start : start + self.chunk]
            try:
                self.publisher.publish(chunk)
            except Exception as exc:  # noqa: BLE001 - reported as failed records, retried by Lambda
                first = exc.first_failed if isinstance(exc, PublishError) and exc.first_failed is not None else 0
                self.on_error("publishing failed", exc)
                self.on_published(chunk[:first])
                failed_from = min(failed_from, owners[start + first])
                break
            self.on_published(chunk)
        return {"batchItemFailures": [{"itemIdentifier": _sequence_number(r)} for r in records[failed_from:]]}


def stream_publisher_from_env(events_for_record: EventsForRecord, *, logger: Any, metrics: Any) -> StreamPublisher:
    """A service's stream publisher as its Lambda runs it: to the topic in ``TOPIC_ARN``, each published event
    counted as a metric named after it, each failure logged. Build it once per container (module level), so the
    SNS client survives warm invocations."""
    import os

    import boto3
    from aws_lambda_powertools.metrics import MetricUnit

    def count(events: Sequence[CloudEvent]) -> None:
        for event in events:
            metrics.add_metric(name=event.name, unit=MetricUnit.Count, value=1)

    def log_error(message: str, error: Exception) -> None:
        logger.warning(message, extra={"error": repr(error)})

    return StreamPublisher(
        events_for_record,
        SnsPublisher(os.environ.get("TOPIC_ARN", ""), boto3.client("sns")),
        on_published=count,
        on_error=log_error,
    )


def stream_handler(publisher: Callable[[], StreamPublisher]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of a stream function: ``handler = stream_handler(bootstrap.stream_publisher)``, the
    service's wiring function that builds its publisher once per container; logging, tracing and metrics are
    installed once, here."""
    from gears_shared.observability import logger, metrics, tracer

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return publisher().handle(event)

    return handler
