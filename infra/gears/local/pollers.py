"""Event sources, the way Lambda's event source mappings and schedules drive functions.

- :class:`SqsPoller`: long-polls a queue, gathers up to ``BatchSize`` messages within
  ``MaximumBatchingWindowInSeconds``, invokes, and deletes what succeeded: everything on success, all but the
  ``batchItemFailures`` with ``ReportBatchItemFailures``, nothing on a function error. Messages left behind come
  back after the queue's visibility timeout, and the queue's redrive policy moves them to the dead-letter queue
  after ``maxReceiveCount`` receives (the local cloud implements that part, as SQS does).
- :class:`StreamPoller`: reads a DynamoDB stream shard by shard in order, invokes with batches, checkpoints
  (honouring ``batchItemFailures`` by sequence number), retries a failing batch up to ``MaximumRetryAttempts``
  (bisecting when asked), then sends a description of the batch to the ``OnFailure`` destination and moves on.
- :class:`SchedulePoller`: ``rate(...)`` and ``cron(...)`` schedules, with EventBridge's scheduled event.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gears.local.filters import delivered, sqs_view
from gears.local.workers import InvokeResult

Invoke = Callable[[dict[str, Any]], InvokeResult]
Log = Callable[[str], None]
WAIT_HEADER = "X-Gears-Wait-Seconds"  # understood by the local cloud (gears.local.moto_fast)
_waiting = threading.local()  # how long this thread's GetRecords may wait for a record


def _ask_to_wait(request: Any, **_: Any) -> None:
    wait_s = getattr(_waiting, "s", 0.0)
    if wait_s:
        request.headers[WAIT_HEADER] = f"{wait_s:.3f}"


class _Poller:
    name = "poller"
    idle_wait_s = 0.2  # after a poll that found nothing; 0 for a source whose poll itself waits for work

    def __init__(self, log: Log) -> None:
        self.log = log
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_active = time.monotonic()
        self.inflight = 0  # deliveries under way (a long one must not look like quiet)

    def start(self, threads: int = 1) -> None:
        for i in range(threads):
            t = threading.Thread(target=self._loop, name=f"{self.name}-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        for t in self._threads:
            t.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once():
                    self.last_active = time.monotonic()
                elif self.idle_wait_s:
                    self._stop.wait(self.idle_wait_s)
            except Exception as exc:  # noqa: BLE001 - a poller logs and carries on, as the service does
                if self._stop.is_set():
                    return
                self.log(f"{self.name}: {type(exc).__name__}: {exc}")
                self._stop.wait(1.0)

    def poll_once(self) -> bool:
        raise NotImplementedError

    @property
    def idle_for(self) -> float:
        """Seconds since this source last delivered anything; 0 while a delivery is under way."""
        return 0.0 if self.inflight else time.monotonic() - self.last_active

    def _delivering(self) -> _Delivering:
        return _Delivering(self)


class _Delivering:
    def __init__(self, poller: _Poller) -> None:
        self.poller = poller

    def __enter__(self) -> None:
        self.poller.inflight += 1

    def __exit__(self, *exc: object) -> None:
        self.poller.inflight -= 1
        self.poller.last_active = time.monotonic()


def _failed_ids(result: InvokeResult, report_failures: bool, known: set[str]) -> set[str] | None:
    """The item ids the function reported as failed; ``None`` means the whole batch failed."""
    if not result.ok:
        return None
    if not report_failures:
        return set()
    payload = result.payload
    if payload is None:
        return set()
    if not isinstance(payload, dict):
        return None
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in known:
            return None  # Lambda treats a malformed or unknown identifier as a failure of the whole batch
        ids.add(ident)
    return ids


class SqsPoller(_Poller):
    def __init__(
        self,
        function: str,
        invoke: Invoke,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        *,
        batch_size: int = 10,
        window_s: float = 0.0,
        report_failures: bool = False,
        region: str = "us-east-1",
        log: Log = print,
        wait_s: int = 20,  # long polls, as Lambda's poller does: the local cloud answers one as a message arrives
        filters: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(log)
        self.name = f"sqs:{queue_arn.rsplit(':', 1)[-1]}->{function}"
        self.function = function
        self.invoke = invoke
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.window_s = window_s
        self.report_failures = report_failures
        self.region = region
        self.wait_s = wait_s
        self.idle_wait_s = 0.0 if wait_s else 0.2
        self.filters = filters or []
        self.batches = 0

    def _receive(self, n: int, wait: int) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, n),
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])

    def poll_once(self) -> bool:
        messages = self._receive(self.batch_size, self.wait_s)
        if not messages:
            return False
        deadline = time.monotonic() + self.window_s
        while len(messages) < self.batch_size and time.monotonic() < deadline and not self._stop.is_set():
            more = self._receive(self.batch_size - len(messages), 0)
            if not more:
                self._stop.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            messages += more
        self.process(messages)
        return True

    def event_for(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        records = []
        for m in messages:
            attrs = m.get("MessageAttributes") or {}
            records.append(
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {
                        k: {
                            "stringValue": v.get("StringValue"),
                            "binaryValue": v.get("BinaryValue"),
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": v.get("DataType"),
                        }
                        for k, v in attrs.items()
                    },
                    "md5OfBody": m.get("MD5OfBody"),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": self.region,
                }
            )
        return {"Records": records}

    def process(self, messages: list[dict[str, Any]]) -> set[str] | None:
        with self._delivering():
            event = self.event_for(messages)
            if self.filters:
                kept = [r for r in event["Records"] if delivered(self.filters, sqs_view(r))]
                ids = {r["messageId"] for r in kept}
                self._delete([m for m in messages if m["MessageId"] not in ids])  # filtered out: Lambda drops them
                messages, event = [m for m in messages if m["MessageId"] in ids], {"Records": kept}
                if not messages:
                    return set()
            return self._process(messages, event)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    def _process(self, messages: list[dict[str, Any]], event: dict[str, Any]) -> set[str] | None:
        result = self.invoke(event)
        self.batches += 1
        failed = _failed_ids(result, self.report_failures, {m["MessageId"] for m in messages})
        if failed is None:
            reason = (result.error or {}).get("errorType", "bad response")
            self.log(f"{self.name}: batch of {len(messages)} failed ({reason})")
            return None
        self._delete([m for m in messages if m["MessageId"] not in failed])
        if failed:
            self.log(f"{self.name}: {len(failed)} of {len(messages)} messages failed; they will be retried")
        return failed


class StreamPoller(_Poller):
    def __init__(
        self,
        function: str,
        invoke: Invoke,
        streams: Any,
        stream_arn: str,
        *,
        batch_size: int = 100,
        starting_position: str = "TRIM_HORIZON",
        report_failures: bool = False,
        max_retries: int = -1,
        bisect: bool = False,
        on_failure: Callable[[dict[str, Any]], None] | None = None,
        region: str = "us-east-1",
        log: Log = print,
        poll_s: float = 0.2,
        wait_s: float = 5.0,
        window_s: float = 0.0,
        filters: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(log)
        self.name = f"stream:{stream_arn.split('/')[1]}->{function}"
        self.function = function
        self.invoke = invoke
        self.streams = streams
        self.stream_arn = stream_arn
        self.batch_size = min(batch_size, 1000)
        self.starting_position = starting_position
        self.report_failures = report_failures
        self.max_retries = max_retries
        self.bisect = bisect
        self.on_failure = on_failure
        self.region = region
        self.poll_s = poll_s
        self.wait_s = wait_s
        self.window_s = window_s
        self.filters = filters or []
        self.idle_wait_s = 0.0  # poll_once waits for records itself (see _get_records)
        self.iterators: dict[str, str | None] = {}
        self.buffer: dict[str, list[dict[str, Any]]] = {}
        self._shards_seen = 0.0
        if wait_s:
            streams.meta.events.register_first(
                "before-sign.dynamodbstreams.GetRecords", _ask_to_wait, unique_id="gears-wait"
            )

    def _get_records(self, iterator: str, wait_s: float | None = None) -> dict[str, Any]:
        """The shard's next records. The local cloud holds a GetRecords that finds none until one is written or
        ``wait_s`` passes (the ``X-Gears-Wait-Seconds`` header, :mod:`gears.local.moto_fast`); another endpoint
        answers at once, and then the poller waits ``poll_s`` before asking again."""
        wait_s = self.wait_s if wait_s is None else wait_s
        started = time.monotonic()
        _waiting.s = wait_s
        try:
            out: dict[str, Any] = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
        finally:
            _waiting.s = 0.0
        if not out.get("Records") and wait_s and time.monotonic() - started < min(wait_s, self.poll_s) / 2:
            self._stop.wait(self.poll_s)
        return out

    def _shards(self) -> None:
        # A table's stream gets new shards rarely (DynamoDB splits them over hours; moto never does).
        if self.iterators and time.monotonic() - self._shards_seen < 30.0:
            return
        self._shards_seen = time.monotonic()
        desc = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in desc.get("Shards", []):
            sid = shard["ShardId"]
            if sid not in self.iterators:
                self.iterators[sid] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=sid, ShardIteratorType=self.starting_position
                )["ShardIterator"]
                self.buffer[sid] = []

    def poll_once(self) -> bool:
        self._shards()
        worked = False
        for sid, iterator in list(self.iterators.items()):
            if iterator is None and not self.buffer[sid]:
                continue
            if iterator is not None and len(self.buffer[sid]) < self.batch_size:
                self._fill(sid, iterator)
            batch = self.buffer[sid][: self.batch_size]
            if batch:
                self.buffer[sid] = self.buffer[sid][len(batch) :]
                records = [r for r in map(self._record, batch) if delivered(self.filters, r)]  # FilterCriteria
                if records:
                    with self._delivering():
                        self._deliver(sid, records)
                worked = True
        return worked

    def _fill(self, sid: str, iterator: str) -> None:
        """Read the shard into its buffer; with a batching window, go on reading until the batch is full or the
        window since the first record has passed (``MaximumBatchingWindowInSeconds``)."""
        deadline = None
        while True:
            left = 0.0 if deadline is None else max(0.0, deadline - time.monotonic())
            out = self._get_records(iterator, None if deadline is None else left)
            next_iterator = out.get("NextShardIterator")
            self.iterators[sid] = next_iterator
            self.buffer[sid] += out.get("Records", [])
            if not self.buffer[sid] or not self.window_s or next_iterator is None:
                return
            deadline = deadline or time.monotonic() + self.window_s
            if len(self.buffer[sid]) >= self.batch_size or time.monotonic() >= deadline or self._stop.is_set():
                return
            iterator = next_iterator

    def _record(self, r: dict[str, Any]) -> dict[str, Any]:
        ddb = dict(r.get("dynamodb", {}))
        created = ddb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            ddb["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": r.get("eventID"),
            "eventName": r.get("eventName"),
            "eventVersion": r.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": ddb,
            "eventSourceARN": self.stream_arn,
        }

    def _deliver(self, shard: str, records: list[dict[str, Any]]) -> None:
        """Deliver records in order until each is processed or given up on; never skips silently."""
        attempts = 0
        pending = records
        while pending and not self._stop.is_set():
            chunk = pending
            result = self.invoke({"Records": chunk})
            known = {r["dynamodb"].get("SequenceNumber") for r in chunk}
            failed = _failed_ids(result, self.report_failures, {k for k in known if k})
            if failed is not None and not failed:
                pending = pending[len(chunk) :]
                attempts = 0
                continue
            if failed:  # checkpoint just before the first reported failure
                first = min(i for i, r in enumerate(chunk) if r["dynamodb"].get("SequenceNumber") in failed)
                pending = pending[first:]
            attempts += 1
            if self.max_retries >= 0 and attempts > self.max_retries:
                give_up = pending[:1] if self.bisect or failed else pending
                self._give_up(shard, give_up, result)
                pending = pending[len(give_up) :]
                attempts = 0
                continue
            if self.bisect and len(pending) > 1 and failed is None:
                half = pending[: len(pending) // 2]
                self._deliver(shard, half)
                pending = pending[len(half) :]
                continue
            self._stop.wait(min(2.0, 0.1 * 2**attempts))

    def _give_up(self, shard: str, records: list[dict[str, Any]], result: InvokeResult) -> None:
        info = {
            "requestContext": {
                "requestId": result.request_id,
                "functionArn": self.function,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.max_retries + 1,
            },
            "responseContext": {"functionError": (result.error or {}).get("errorType", "PartialFailure")},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": records[0]["dynamodb"].get("SequenceNumber"),
                "endSequenceNumber": records[-1]["dynamodb"].get("SequenceNumber"),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.log(f"{self.name}: gave up on {len(records)} record(s) after {self.max_retries} retries")
        if self.on_failure:
            self.on_failure(info)


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")


def _cron_field(spec: str, lo: int, hi: int) -> set[int]:
    values: set[int] = set()
    for item in spec.split(","):
        part, step = item, 1
        if "/" in item:
            part, step_s = item.split("/")
            step = int(step_s)
        if part in ("*", "?"):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-")
            start, end = int(a), int(b)
        else:
            start = int(part)
            end = start if step == 1 else hi
        values.update(range(start, end + 1, step))
    return values


def next_fire(expression: str, after: datetime) -> datetime:
    """The next time a ``rate(...)`` or ``cron(min hour dom month dow year)`` schedule fires after ``after``."""
    rate = _RATE.match(expression.strip())
    if rate:
        n, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return after + timedelta(**{f"{unit}s": n})
    cron = re.match(r"^cron\((.+)\)$", expression.strip())
    if not cron:
        raise ValueError(f"unsupported schedule {expression!r}")
    minute, hour, dom, month, dow, _year = cron.group(1).split()
    minutes, hours = _cron_field(minute, 0, 59), _cron_field(hour, 0, 23)
    doms, months = _cron_field(dom, 1, 31), _cron_field(month, 1, 12)
    names = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
    for name, num in names.items():
        dow = dow.upper().replace(name, str(num))
    dows = _cron_field(dow, 1, 7)
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        aws_dow = (t.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        if t.minute in minutes and t.hour in hours and t.month in months and t.day in doms and aws_dow in dows:
            return t
        t += timedelta(minutes=1)
    raise ValueError(f"schedule {expression!r} never fires")


class SchedulePoller(_Poller):
    def __init__(
        self, function: str, invoke: Invoke, expression: str, *, payload: Any = None, rule: str = "", log: Log = print
    ) -> None:
        super().__init__(log)
        self.name = f"schedule:{expression}->{function}"
        self.invoke = invoke
        self.expression = expression
        self.payload = payload
        self.rule = rule or function
        self.next = next_fire(expression, datetime.now(UTC))

    idle_wait_s = 0.0  # the poll itself waits for the next firing

    def poll_once(self) -> bool:
        now = datetime.now(UTC)
        if now < self.next:
            # Waiting is not activity: a schedule that has not fired leaves the shop quiet (wait_idle).
            self._stop.wait(min(1.0, (self.next - now).total_seconds()))
            return False
        event = (
            self.payload
            if self.payload is not None
            else {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": "us-east-1",
                "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{self.rule}"],
                "detail": {},
            }
        )
        self.next = next_fire(self.expression, now)
        result = self.invoke(json.loads(json.dumps(event)))
        if not result.ok:
            self.log(f"{self.name}: {result.error}")
        return True
