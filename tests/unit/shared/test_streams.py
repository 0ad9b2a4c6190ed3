"""Stream publishing keeps stream order, batches requests, and fails exactly the records that must be retried."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gears_shared.events import CloudEvent, InMemoryPublisher, PublishError, SnsPublisher, new_event
from gears_shared.streams import StreamPublisher


def records(n: int) -> dict[str, Any]:
    return {"Records": [{"dynamodb": {"SequenceNumber": str(100 + i)}, "n": i} for i in range(n)]}


def two_events(record: dict[str, Any]) -> list[CloudEvent]:
    n = record["n"]
    return [new_event("ThingChanged.v1", "test", {"n": n, "part": p}, event_id=f"{n}-{p}") for p in (0, 1)]


class Recording(InMemoryPublisher):
    def __init__(
        self, refuse_at_call: int | None = None, refuse_index: int | None = 0, exc: Exception | None = None
    ) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.refuse_at_call = refuse_at_call
        self.refuse_index = refuse_index
        self.exc = exc

    def publish(self, events: Sequence[CloudEvent]) -> None:
        self.calls.append(len(events))
        if len(self.calls) - 1 == self.refuse_at_call:
            if self.exc is not None:
                raise self.exc
            super().publish(events[: self.refuse_index or 0])
            raise PublishError("refused", first_failed=self.refuse_index)
        super().publish(events)


def failed(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_events_go_out_in_stream_order_ten_to_a_request() -> None:
    pub = Recording()
    assert failed(StreamPublisher(two_events, pub).handle(records(12))) == []
    assert pub.calls == [10, 10, 4]
    assert [e.id for e in pub.events] == [f"{n}-{p}" for n in range(12) for p in (0, 1)]


def test_a_refused_event_fails_its_record_and_all_later_ones() -> None:
    pub = Recording(refuse_at_call=1, refuse_index=3)  # event 13 = record 6, part 1
    result = StreamPublisher(two_events, pub).handle(records(12))
    assert failed(result) == [str(100 + i) for i in range(6, 12)]
    assert len(pub.events) == 13  # everything before the refused event reached the topic
    assert pub.calls == [10, 10]  # nothing after the failure was attempted


def test_a_transport_error_fails_from_the_first_record_of_that_request() -> None:
    pub = Recording(refuse_at_call=1, exc=ConnectionError("down"))  # request 2 starts with event 10 = record 5
    assert failed(StreamPublisher(two_events, pub).handle(records(12))) == [str(100 + i) for i in range(5, 12)]


def test_a_record_that_cannot_be_mapped_fails_from_there_on() -> None:
    def mapper(record: dict[str, Any]) -> list[CloudEvent]:
        if record["n"] == 2:
            raise ValueError("bad image")
        return two_events(record)

    pub = Recording()
    assert failed(StreamPublisher(mapper, pub).handle(records(4))) == ["102", "103"]
    assert {e.data["n"] for e in pub.events} == {0, 1}


def test_sns_publisher_reports_the_first_refused_entry() -> None:
    class Sns:
        def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]) -> dict[str, Any]:
            return {"Successful": [], "Failed": [{"Id": "7", "Code": "x"}, {"Id": "4", "Code": "y"}]}

    events = [new_event("T.v1", "s", {"i": i}) for i in range(15)]
    with pytest.raises(PublishError) as refused:
        SnsPublisher("arn", Sns()).publish(events)
    assert refused.value.first_failed == 4
