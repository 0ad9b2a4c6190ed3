"""The auth table's stream as events: a confirmed account is a ``UserRegistered.v1``, a confirmed profile's contact
change a ``UserProfileUpdated.v1``, a role-change audit a ``UserRolesChanged.v1``; nothing else publishes."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from auth.events import SOURCE, USER_PROFILE_UPDATED, USER_REGISTERED, USER_ROLES_CHANGED
from auth.publisher import event_id, events_for_record, profile_updated_id, roles_changed_id
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


def role_change(**extra: Any) -> dict[str, Any]:
    item = {
        "pk": f"USER#{USER}",
        "sk": "ROLES#2025-01-01T12:10:00+00:00#c1",
        "entity": "RoleChange",
        "changeId": "c1",
        "userId": USER,
        "changedBy": "admin-1",
        "before": {"customer"},
        "after": {"customer", "support"},
        "at": "2025-01-01T12:10:00.000000+0000",
        "email": "ada@example.com",
        "correlationId": "corr-roles",
    }
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
        "name": None,
        "registeredAt": "2025-01-01T12:05:00.000Z",
        "createdAt": "2025-01-01T12:00:00.000Z",
    }
    assert event.time == "2025-01-01T12:05:00.000Z"
    assert event.id == event_id(USER)


def test_user_registered_carries_the_name_given_at_sign_up() -> None:
    (event,) = events_for_record(
        record("MODIFY", profile("UNCONFIRMED", name="Ada Lovelace"), profile("CONFIRMED", name="Ada Lovelace"))
    )
    assert event.data["name"] == "Ada Lovelace"


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
        (  # a phone awaiting its code: never published
            "MODIFY",
            profile("CONFIRMED"),
            profile("CONFIRMED", version=2, pendingPhone="+447700900123", phoneCodeDigest="ab", phoneCodeAttempts=0),
        ),
        (  # a wrong code counted
            "MODIFY",
            profile("CONFIRMED", pendingPhone="+447700900123", phoneCodeAttempts=0),
            profile("CONFIRMED", version=3, pendingPhone="+447700900123", phoneCodeAttempts=1),
        ),
        ("MODIFY", profile("UNCONFIRMED"), profile("UNCONFIRMED", name="Ada", version=2)),  # not registered yet
        ("MODIFY", role_change(), role_change()),  # an audit item is written once; a rewrite is no decision
    ],
    ids=["sign-up", "confirmed again", "removed", "pending phone", "wrong code", "unconfirmed", "audit rewritten"],
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


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "Ada King"}, {"name": "Ada King", "phone": None, "phoneVerified": False, "locale": None}),
        ({"locale": "en-GB"}, {"name": None, "phone": None, "phoneVerified": False, "locale": "en-GB"}),
        ({"phone": "+447700900123"}, {"name": None, "phone": "+447700900123", "phoneVerified": True, "locale": None}),
    ],
    ids=["name", "locale", "phone confirmed"],
)
def test_a_contact_change_of_a_confirmed_profile_publishes_the_whole_profile(
    changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    new = profile("CONFIRMED", version=5, updatedAt="2025-01-02T09:00:00.000000+0000", correlationId="corr-7") | changes
    (event,) = events_for_record(record("MODIFY", profile("CONFIRMED", version=4), new))
    assert (event.type, event.source, event.subject, event.correlationid) == (
        USER_PROFILE_UPDATED,
        SOURCE,
        USER,
        "corr-7",
    )
    assert (
        event.data == {"userId": USER, "email": "ada@example.com", "updatedAt": "2025-01-02T09:00:00.000Z"} | expected
    )
    assert event.time == "2025-01-02T09:00:00.000Z"
    assert event.id == profile_updated_id(USER, 5)


def test_removing_the_confirmed_phone_publishes_it_gone() -> None:
    old = profile("CONFIRMED", version=4, phone="+447700900123")
    (event,) = events_for_record(record("MODIFY", old, profile("CONFIRMED", version=5)))
    assert (event.data["phone"], event.data["phoneVerified"]) == (None, False)


def test_each_version_of_the_profile_has_its_own_id_and_a_replay_the_same() -> None:
    old = profile("CONFIRMED", version=4)
    first = events_for_record(record("MODIFY", old, profile("CONFIRMED", version=5, name="A"), seq="1"))
    replay = events_for_record(record("MODIFY", old, profile("CONFIRMED", version=5, name="A"), seq="2"))
    later = events_for_record(record("MODIFY", old, profile("CONFIRMED", version=6, name="B"), seq="3"))
    assert first[0].id == replay[0].id != later[0].id


def test_a_role_change_audit_publishes_user_roles_changed() -> None:
    (event,) = events_for_record(record("INSERT", None, role_change()))
    assert (event.type, event.source, event.subject, event.correlationid) == (
        USER_ROLES_CHANGED,
        SOURCE,
        USER,
        "corr-roles",
    )
    assert event.data == {
        "userId": USER,
        "email": "ada@example.com",
        "roles": ["customer", "support"],
        "changedAt": "2025-01-01T12:10:00.000Z",
        "changeId": "c1",
    }
    assert event.id == roles_changed_id("c1")
    assert event.time == "2025-01-01T12:10:00.000Z"


def test_a_role_decision_that_changed_nothing_publishes_the_roles_held() -> None:
    same = role_change(before={"customer", "admin"}, after={"customer", "admin"})
    (event,) = events_for_record(record("INSERT", None, same))
    assert event.data["roles"] == ["admin", "customer"]
