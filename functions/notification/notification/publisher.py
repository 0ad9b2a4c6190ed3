"""The delivery log's stream, published as CloudEvents on the notification topic: one event per message and state it
reaches (``NotificationSent.v1``, ``NotificationDelivered.v1``, ``NotificationFailed.v1``,
``NotificationSuppressed.v1``); ``sending`` publishes nothing. Event ids derive from the notification and the state,
so a retried record publishes the same ids. Items that are not notifications publish nothing (and the template's
filter keeps them from invoking this function at all).
"""

from __future__ import annotations

import uuid
from typing import Any

from gears_shared.events import CloudEvent, new_event, stream_images
from gears_shared.streams import stream_handler
from notification import bootstrap
from notification import events as ev
from notification.domain import Notification, State
from notification.store import notification_from

EVENT_ID_NAMESPACE = uuid.UUID("8e1f2d3c-4b5a-4968-8776-a5b4c3d2e1f0")

TYPES = {
    State.SENT: ev.NOTIFICATION_SENT,
    State.DELIVERED: ev.NOTIFICATION_DELIVERED,
    State.FAILED: ev.NOTIFICATION_FAILED,
    State.SUPPRESSED: ev.NOTIFICATION_SUPPRESSED,
}


def event_id(notification_id: str, state: State) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{notification_id}#{state.value}"))


def _at(n: Notification) -> str:
    at = {State.SENT: n.sent_at, State.DELIVERED: n.delivered_at, State.FAILED: n.failed_at}.get(n.state)
    return at or n.updated_at


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The event a stream record stands for: one when the message reached a new state, else none."""
    _name, old_image, new_image = stream_images(record)
    n = notification_from(new_image)
    if n is None or n.state not in TYPES:
        return []
    if old_image and old_image.get("state") == n.state.value:
        return []
    type_ = TYPES[n.state]
    data = {
        "notificationId": n.notification_id,
        "userId": n.user_id,
        "channel": n.channel.value,
        "kind": n.kind.value,
        "campaignId": n.campaign_id,
        "sourceEventId": n.source_event_id,
        "at": _at(n),
        "reason": n.reason,
    }
    ev.PUBLISHED[type_].model_validate(data)  # the published contract, checked before it leaves
    return [
        new_event(
            type_,
            ev.SOURCE,
            data,
            correlation_id=n.correlation_id,
            subject=n.notification_id,
            event_id=event_id(n.notification_id, n.state),
            time=_at(n),
        )
    ]


handler = stream_handler(bootstrap.stream_publisher)
