"""The auth table's stream, published as CloudEvents on the auth topic (``auth.events``).

A change and its event cannot part: each is published from the item the change wrote.

- A profile's change from unconfirmed to confirmed (or a profile written confirmed) is ``UserRegistered``.
- A confirmed profile whose name, confirmed phone or locale changed is ``UserProfileUpdated``, with the whole
  contact profile. A phone awaiting its code, a code's attempts and sign-ups not yet confirmed publish nothing.
- A role-change audit item (written once) is ``UserRolesChanged``.

Nothing else in the table publishes. A failed record is reported (``ReportBatchItemFailures``) and Lambda retries
from it; every event id is derived from what the record holds, so a retry publishes the same ids.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from auth import bootstrap
from auth.domain import AccountStatus, utc_iso
from auth.events import SCHEMAS, SOURCE, USER_PROFILE_UPDATED, USER_REGISTERED, USER_ROLES_CHANGED
from auth.store import PROFILE_ENTITY, ROLE_CHANGE_ENTITY
from gears_shared.events import CloudEvent, new_event, stream_images
from gears_shared.streams import stream_handler

EVENT_ID_NAMESPACE = uuid.UUID("5d0f7a3e-2b1c-4f8e-9a61-3c2e8b7d4f10")

# The profile's fields a UserProfileUpdated tells of; a change to any other (a pending phone, a code) is not one.
CONTACT_FIELDS = ("name", "phone", "locale")


def event_id(user_id: str) -> str:
    """The id of a user's ``UserRegistered``: one user, one id, however often it is published."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{USER_REGISTERED}:{user_id}"))


def profile_updated_id(user_id: str, version: int) -> str:
    """The id of the ``UserProfileUpdated`` of one stored version of a user's profile."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{USER_PROFILE_UPDATED}:{user_id}:{version}"))


def roles_changed_id(change_id: str) -> str:
    """The id of the ``UserRolesChanged`` of one audited role decision."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{USER_ROLES_CHANGED}:{change_id}"))


def _confirmed(image: dict[str, Any] | None) -> bool:
    return bool(image) and image.get("status") == AccountStatus.CONFIRMED.value  # type: ignore[union-attr]


def _utc(value: Any) -> str:
    """A stored time as ISO 8601 in UTC with a Z (PynamoDB stores ``2025-01-01T12:00:00.000000+0000``)."""
    return utc_iso(datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z"), "milliseconds")


def _event(type_: str, data: dict[str, Any], image: dict[str, Any], *, event_id: str, time: str) -> CloudEvent:
    SCHEMAS[type_].model_validate(data)  # the published contract, checked before it leaves
    return new_event(
        type_,
        SOURCE,
        data,
        correlation_id=str(image.get("correlationId") or ""),
        subject=data["userId"],
        event_id=event_id,
        time=time,
    )


def _registered(new: dict[str, Any]) -> CloudEvent:
    registered_at = _utc(new.get("confirmedAt") or new["updatedAt"])
    data = {
        "userId": new["userId"],
        "email": new["email"],
        "name": new.get("name"),
        "registeredAt": registered_at,
        "createdAt": _utc(new["createdAt"]),
    }
    return _event(USER_REGISTERED, data, new, event_id=event_id(data["userId"]), time=registered_at)


def _profile_updated(new: dict[str, Any]) -> CloudEvent:
    updated_at = _utc(new["updatedAt"])
    data = {
        "userId": new["userId"],
        "email": new["email"],
        "name": new.get("name"),
        "phone": new.get("phone"),
        "phoneVerified": bool(new.get("phone")),
        "locale": new.get("locale"),
        "updatedAt": updated_at,
    }
    version = int(new.get("version") or 0)
    return _event(
        USER_PROFILE_UPDATED, data, new, event_id=profile_updated_id(data["userId"], version), time=updated_at
    )


def _roles_changed(new: dict[str, Any]) -> CloudEvent:
    changed_at = _utc(new["at"])
    data = {
        "userId": new["userId"],
        "email": str(new.get("email") or ""),
        "roles": sorted(new.get("after") or ()),
        "changedAt": changed_at,
        "changeId": new["changeId"],
    }
    return _event(USER_ROLES_CHANGED, data, new, event_id=roles_changed_id(data["changeId"]), time=changed_at)


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one stream record (the raw Lambda event record) stands for: none or one."""
    name, old, new = stream_images(record)
    if name not in ("INSERT", "MODIFY") or not new:
        return []
    entity = new.get("entity")
    if entity == ROLE_CHANGE_ENTITY:
        return [_roles_changed(new)] if name == "INSERT" else []
    if entity != PROFILE_ENTITY or not _confirmed(new):
        return []
    if not _confirmed(old):
        return [_registered(new)]
    assert old is not None  # confirmed, so there is an old image
    if any(old.get(field) != new.get(field) for field in CONTACT_FIELDS):
        return [_profile_updated(new)]
    return []


handler = stream_handler(bootstrap.stream_publisher)
