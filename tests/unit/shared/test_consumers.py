"""The shared consumer applies each event once, fails only the records that failed, and parks poison."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gears_shared.consumers import EventConsumer, EventInProgress, InMemoryInbox, PoisonMessage
from gears_shared.events import CloudEvent, new_event


def sqs(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "body": b if isinstance(b, str) else b.to_json()} for i, b in enumerate(bodies)
        ]
    }


def failures(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_each_event_id_is_applied_once_even_when_delivered_twice() -> None:
    applied: list[str] = []
    consumer = EventConsumer({"A.v1": lambda e: applied.append(e.id)}, inbox=InMemoryInbox())
    event = new_event("A.v1", "test", {"n": 1})
    assert failures(consumer.handle(sqs(event, event))) == []
    assert failures(consumer.handle(sqs(event))) == []
    assert applied == [event.id]


def test_a_failing_handler_fails_only_its_record_and_is_applied_on_retry() -> None:
    calls: dict[str, int] = {}

    def flaky(e: CloudEvent) -> None:
        calls[e.id] = calls.get(e.id, 0) + 1
        if e.data["n"] == 2 and calls[e.id] == 1:
            raise RuntimeError("downstream hiccup")

    consumer = EventConsumer({"A.v1": flaky}, inbox=InMemoryInbox())
    one, two, three = (new_event("A.v1", "t", {"n": n}) for n in (1, 2, 3))
    assert failures(consumer.handle(sqs(one, two, three))) == ["m1"]
    assert failures(consumer.handle(sqs(two))) == []
    assert calls == {one.id: 1, two.id: 2, three.id: 1}


def test_poison_messages_fail_every_time() -> None:
    consumer = EventConsumer({"A.v1": lambda e: None})
    assert failures(consumer.handle(sqs("not json", json.dumps({"no": "envelope"})))) == ["m0", "m1"]
    with pytest.raises(PoisonMessage):
        consumer.apply("{")


def test_unknown_types_are_acknowledged_not_failed() -> None:
    seen: list[str] = []
    consumer = EventConsumer({"A.v1": lambda e: None}, on_unknown=lambda e: seen.append(e.type))
    assert failures(consumer.handle(sqs(new_event("B.v1", "t", {})))) == []
    assert seen == ["B.v1"]


def test_an_sns_wrapped_body_is_unwrapped() -> None:
    got: list[int] = []
    consumer = EventConsumer({"A.v1": lambda e: got.append(e.data["n"])})
    wrapped = json.dumps({"Type": "Notification", "Message": new_event("A.v1", "t", {"n": 7}).to_json()})
    assert failures(consumer.handle(sqs(wrapped))) == []
    assert got == [7]


def test_an_event_in_progress_elsewhere_is_retried_later() -> None:
    inbox = InMemoryInbox()
    event = new_event("A.v1", "t", {})
    inbox.begin(event.id)
    consumer = EventConsumer({"A.v1": lambda e: None}, inbox=inbox)
    assert failures(consumer.handle(sqs(event))) == ["m0"]
    with pytest.raises(EventInProgress):
        consumer.apply(event.to_json())
