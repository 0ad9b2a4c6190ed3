"""The auth table's stream, published as CloudEvents on the auth topic (``UserRegistered.v1``).

The confirmation and its event cannot part: confirming writes the profile, and this function turns the profile's
change from unconfirmed to confirmed (or a profile written confirmed) into ``UserRegistered``. Nothing else in the
table publishes (role-change audit items, sign-ups not yet confirmed, later profile writes). A failed record is
reported (``ReportBatchItemFailures``) and Lambda retries from it; the event id depends on the user only, so a
retry publishes the same id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from auth import bootstrap
from auth.domain import AccountStatus, utc_iso
from auth.events import SCHEMAS, SOURCE, USER_REGISTERED
from auth.store import PROFILE_ENTITY
from gears_shared.events import CloudEvent, new_event, stream_images
from gears_shared.streams import stream_handler

EVENT_ID_NAMESPACE = uuid.UUID("5d0f7a3e-2b1c-4f8e-9a61-3c2e8b7d4f10")


def event_id(user_id: str) -> str:
    """The id of a user's ``UserRegistered``: one user, one id, however often it is published."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{USER_REGISTERED}:{user_id}"))


def _confirmed(image: dict[str, Any] | None) -> bool:
    return bool(image) and image.get("status") == AccountStatus.CONFIRMED.value  # type: ignore[union-attr]


def _utc(value: Any) -> str:
    """A stored time as ISO 8601 in UTC with a Z (PynamoDB stores ``2025-01-01T12:00:00.000000+0000``)."""
    return utc_iso(datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z"), "milliseconds")


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one stream record (the raw Lambda event record) stands for: none or one."""
    name, old, new = stream_images(record)
    if name not in ("INSERT", "MODIFY") or not new or new.get("entity") != PROFILE_ENTITY:
        return []
    if not _confirmed(new) or _confirmed(old):
        return []
    registered_at = _utc(new.get("confirmedAt") or new["updatedAt"])
    data = {
        "userId": new["userId"],
        "email": new["email"],
        "registeredAt": registered_at,
        "createdAt": _utc(new["createdAt"]),
    }
    SCHEMAS[USER_REGISTERED].model_validate(data)  # the published contract, checked before it leaves
    return [
        new_event(
            USER_REGISTERED,
            SOURCE,
            data,
            correlation_id=str(new.get("correlationId") or ""),
            subject=data["userId"],
            event_id=event_id(data["userId"]),
            time=registered_at,
        )
    ]


handler = stream_handler(bootstrap.stream_publisher)
