"""The auth table's stream as events: a confirmed account is a ``UserRegistered.v1``, nothing else publishes."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from auth.events import SOURCE, USER_REGISTERED
from auth.publisher import event_id, events_for_record
from gears_shared.events import InMemoryPublisher, PublishError
from gears_shared.streams import StreamPublisher

USER = "7d1f0a9e-0000-4000-8000-000000000001"


def profile(status: str, **extra: Any) -> dict[str, Any]:
    item = {
        "pk": f"USER#{USER}",
        "sk": "PROFILE",
        "entity": "Profile",
        "userId": USER,
        "email": "ada@example.com",
        "status": status,
        "createdAt": "2025-01-01T12:00:00.000000+0000",
        "updatedAt": "2025-01-01T12:00:00.000000+0000",
        "version": 1,
    }
    if status == "CONFIRMED":
        item |= {"confirmedAt": "2025-01-01T12:05:00.000000+0000", "updatedAt": "2025-01-01T12:05:00.000000+0000"}
    return item | extra


def record(name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, seq: str = "1") -> dict[str, Any]:
    ser = TypeSerializer()
    ddb: dict[str, Any] = {"SequenceNumber": seq, "ApproximateCreationDateTime": 1735732800}
    if old is not None:
        ddb["OldImage"] = {k: ser.serialize(v) for k, v in old.items()}
    if new is not None:
        ddb["NewImage"] = {k: ser.serialize(v) for k, v in new.items()}
    return {"eventID": f"ev-{seq}", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": ddb}


def test_a_confirmation_publishes_user_registered() -> None:
    (event,) = events_for_record(record("MODIFY", profile("UNCONFIRMED"), profile("CONFIRMED", correlationId="corr-9")))
    assert (event.type, event.source, event.subject, event.correlationid) == (USER_REGISTERED, SOURCE, USER, "corr-9")
    assert event.data == {
        "userId": USER,
        "email": "ada@example.com",
        "registeredAt": "2025-01-01T12:05:00.000Z",
        "createdAt": "2025-01-01T12:00:00.000Z",
    }
    assert event.time == "2025-01-01T12:05:00.000Z"
    assert event.id == event_id(USER)


def test_a_profile_written_confirmed_publishes_too() -> None:
    (event,) = events_for_record(record("INSERT", None, profile("CONFIRMED")))
    assert event.type == USER_REGISTERED


def test_the_event_id_is_the_users_whatever_the_stream_record() -> None:
    first = events_for_record(record("MODIFY", profile("UNCONFIRMED"), profile("CONFIRMED"), seq="1"))
    again = events_for_record(record("INSERT", None, profile("CONFIRMED"), seq="99"))
    assert first[0].id == again[0].id
    assert first[0].id != event_id("someone-else")


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("INSERT", None, profile("UNCONFIRMED")),  # a sign-up: not registered yet
        ("MODIFY", profile("CONFIRMED"), profile("CONFIRMED", version=2)),  # a later write of a confirmed profile
        ("REMOVE", profile("CONFIRMED"), None),
        (
            "INSERT",
            None,
            {
                "pk": f"USER#{USER}",
                "sk": "ROLES#2025#c1",
                "entity": "RoleChange",
                "userId": USER,
                "status": "CONFIRMED",
            },
        ),
    ],
    ids=["sign-up", "confirmed again", "removed", "audit item"],
)
def test_nothing_else_publishes(name: str, old: dict | None, new: dict | None) -> None:
    assert events_for_record(record(name, old, new)) == []


def test_a_failed_publish_fails_the_record_for_a_retry() -> None:
    class Refusing(InMemoryPublisher):
        def publish(self, events):  # type: ignore[no-untyped-def]
            raise PublishError("topic unavailable")

    confirmed = record("MODIFY", profile("UNCONFIRMED"), profile("CONFIRMED"))
    confirmed["dynamodb"]["SequenceNumber"] = "42"
    assert StreamPublisher(events_for_record, Refusing()).handle({"Records": [confirmed]}) == {
        "batchItemFailures": [{"itemIdentifier": "42"}]
    }
    published = InMemoryPublisher()
    assert StreamPublisher(events_for_record, published).handle({"Records": [confirmed]}) == {"batchItemFailures": []}
    assert [e.type for e in published.events] == [USER_REGISTERED]
