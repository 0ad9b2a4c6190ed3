"""The shared consumer applies each event once, fails only the records that failed, and parks poison."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gears_shared.consumers import (
    EventConsumer,
    EventInProgress,
    EventNotReady,
    InMemoryInbox,
    NotAttempted,
    PoisonMessage,
    default_retry_delay,
    not_ready_span_s,
)
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


class Clock:
    """Lambda's context, with the time left in the invocation under the test's control."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Inbox(InMemoryInbox):
    def __init__(self) -> None:
        super().__init__()
        self.leases: dict[str, int | None] = {}

    def begin(self, event_id: str, lease_until: int | None = None) -> bool:
        self.leases[event_id] = lease_until
        return super().begin(event_id, lease_until)


class Sqs:
    def __init__(self) -> None:
        self.visibility: dict[str, int] = {}

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        assert QueueUrl == "https://queue"
        self.visibility[ReceiptHandle] = VisibilityTimeout


def received(*bodies: Any, count: int = 1) -> dict[str, Any]:
    event = sqs(*bodies)
    for r in event["Records"]:
        r["receiptHandle"] = "h-" + r["messageId"]
        r["attributes"] = {"ApproximateReceiveCount": str(count)}
    return event


def test_a_claim_lasts_until_the_invocation_deadline_not_a_fixed_lease() -> None:
    import time

    inbox = Inbox()
    event = new_event("A.v1", "t", {})
    EventConsumer({"A.v1": lambda e: None}, inbox=inbox).handle(sqs(event), Clock(30_000))
    lease = inbox.leases[event.id]
    assert lease is not None
    assert time.time() + 30 <= lease <= time.time() + 30 + 6  # the deadline, plus a margin for clock skew


def test_failures_come_back_when_the_retry_rule_says() -> None:
    def rule(error: Exception, receive_count: int) -> int | None:
        return 7 * receive_count if isinstance(error, KeyError) else None

    def handler(e: CloudEvent) -> None:
        raise (KeyError if e.data["n"] == 1 else RuntimeError)("no")

    client = Sqs()
    consumer = EventConsumer({"A.v1": handler}, retry_delay=rule, queue_url="https://queue", sqs=client)
    one, two = new_event("A.v1", "t", {"n": 1}), new_event("A.v1", "t", {"n": 2})
    assert failures(consumer.handle(received(one, two, "poison", count=3))) == ["m0", "m1", "m2"]
    assert client.visibility == {"h-m0": 21}  # RuntimeError and poison: this rule leaves them to the queue

    client.visibility.clear()
    consumer = EventConsumer({"A.v1": handler}, queue_url="https://queue", sqs=client)  # the shared rule
    consumer.handle(received(two, "poison"))
    assert client.visibility == {"h-m1": 1}  # poison parks in seconds; an ordinary failure waits the queue's timeout


def test_an_event_held_by_a_crashed_worker_comes_back_when_its_lease_ends() -> None:
    import time

    inbox = InMemoryInbox()
    event = new_event("A.v1", "t", {})
    inbox.begin(event.id)
    client = Sqs()
    consumer = EventConsumer({"A.v1": lambda e: None}, inbox=inbox, queue_url="https://queue", sqs=client)
    consumer.handle(received(event), Clock(30_000))  # the inbox reports the holder's lease: this call's own
    assert 30 <= client.visibility["h-m0"] <= 37
    assert default_retry_delay(EventInProgress("e", int(time.time()) + 3), 1) in (3, 4)


def test_an_event_that_came_too_early_comes_back_after_a_growing_wait_up_to_its_services_bound() -> None:
    class PaymentBeforeOrder(EventNotReady):
        pass

    class SaleBeforeProduct(EventNotReady):
        max_backoff_s = 30

    assert [default_retry_delay(PaymentBeforeOrder("p"), n) for n in (1, 2, 3, 4, 5, 6, 7)] == [2, 4, 8, 16, 32, 60, 60]
    assert [default_retry_delay(SaleBeforeProduct("s"), n) for n in (4, 5, 6)] == [16, 30, 30]
    # Ten receives wait five minutes in all (the last receive is the one the redrive policy parks after).
    assert not_ready_span_s(10) == 2 + 4 + 8 + 16 + 32 + 60 * 4 == 302
    assert not_ready_span_s(5, 30) == 30
    assert not_ready_span_s(1) == 0


def test_a_record_is_not_started_without_the_time_it_needs() -> None:
    applied: list[int] = []
    client = Sqs()
    events = [new_event("A.v1", "t", {"n": n}) for n in range(3)]
    clock = Clock(25_000)
    consumer = EventConsumer(
        {"A.v1": lambda e: (applied.append(e.data["n"]), setattr(clock, "remaining_ms", clock.remaining_ms - 8_000))},
        record_budget_s=10,
        queue_url="https://queue",
        sqs=client,
    )
    assert failures(consumer.handle(received(*events), clock)) == ["m2"]  # 25 s, 17 s left: started; 9 s: not
    assert applied == [0, 1]
    assert client.visibility == {"h-m2": 1}
    assert default_retry_delay(NotAttempted("late"), 1) == 1


def test_the_batch_completes_its_claims_together_and_fails_them_all_if_that_write_fails() -> None:
    class Completing(InMemoryInbox):
        def __init__(self, fail: bool) -> None:
            super().__init__()
            self.fail = fail
            self.batches: list[list[str]] = []

        def complete(self, event_id: str) -> None:
            raise AssertionError("a consumer completes its batch's claims together")

        def complete_many(self, event_ids: list[str]) -> None:
            self.batches.append(list(event_ids))
            if self.fail:
                raise RuntimeError("throttled")
            self.state.update(dict.fromkeys(event_ids, "COMPLETED"))

    applied: list[str] = []
    one, two, three = (new_event("A.v1", "t", {"n": n}) for n in (1, 2, 3))

    def handler(e: CloudEvent) -> None:
        if e.data["n"] == 2:
            raise RuntimeError("not now")
        applied.append(e.id)

    good = Completing(fail=False)
    assert failures(EventConsumer({"A.v1": handler}, inbox=good).handle(sqs(one, two, three))) == ["m1"]
    assert good.batches == [[one.id, three.id]]
    assert good.state == {one.id: "COMPLETED", three.id: "COMPLETED"}

    applied.clear()
    bad = Completing(fail=True)
    assert sorted(failures(EventConsumer({"A.v1": handler}, inbox=bad).handle(sqs(one, two, three)))) == [
        "m0",
        "m1",
        "m2",
    ]
    assert applied == [one.id, three.id]  # applied, but reported failed: the retry finds them claimed, not lost
