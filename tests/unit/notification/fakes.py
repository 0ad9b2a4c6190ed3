"""In-memory fakes of the notification service's ports: the table, the providers and the device registry."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from notification.domain import FINAL, Contact, Device, Notification, Preferences, State
from notification.errors import PermanentRefusal, ProviderUnavailable, StalePreferences
from notification.providers import OutgoingEmail
from notification.service import Outbox
from notification.store import Claim, ClaimResult, Recipients, devices_from

SECRET = b"test-secret-of-the-unsubscribe-links"


class FakeStore:
    """:class:`notification.service.NotificationStore` in memory, with the same conditions as the table."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.prefs: dict[str, Preferences] = {}
        self.device_maps: dict[str, tuple[dict[str, Any], int]] = {}
        self.admin_items: dict[str, tuple[str | None, bool, str]] = {}
        self.owners: dict[str, str] = {}
        self.suppressed_addresses: dict[str, tuple[str, str]] = {}
        self.notes: dict[str, Notification] = {}
        self.batch_reads = 0

    # reads in bulk
    def recipients(self, user_ids: Iterable[str], *, with_devices: bool) -> Recipients:
        self.batch_reads += 1
        ids = list(dict.fromkeys(user_ids))
        return Recipients(
            {u: self.contacts[u] for u in ids if u in self.contacts},
            {u: self.preferences(u) for u in ids},
            {u: self.devices(u) for u in ids} if with_devices else {},
        )

    def suppressed(self, emails: Iterable[str]) -> set[str]:
        return {e.lower() for e in emails if e and e.lower() in self.suppressed_addresses}

    def contact(self, user_id: str) -> Contact | None:
        return self.contacts.get(user_id)

    def save_contact(self, contact: Contact) -> bool:
        old = self.contacts.get(contact.user_id)
        if old and not old.as_of < contact.as_of:
            return False
        self.contacts[contact.user_id] = contact
        return True

    def preferences(self, user_id: str) -> Preferences:
        return self.prefs.get(user_id) or Preferences(user_id)

    def save_preferences(self, prefs: Preferences) -> Preferences:
        current = self.prefs.get(prefs.user_id)
        if (current.version if current else 0) != prefs.version:
            raise StalePreferences("stale")
        saved = replace(prefs, version=prefs.version + 1)
        self.prefs[prefs.user_id] = saved
        return saved

    def devices(self, user_id: str) -> tuple[Device, ...]:
        devices, _ = self.device_maps.get(user_id, ({}, 0))
        return devices_from({"devices": devices})

    def change_devices(self, user_id: str, change: Any, attempts: int = 5) -> Any:
        devices, version = self.device_maps.get(user_id, ({}, 0))
        devices = copy.deepcopy(devices)
        result = change(devices)
        self.device_maps[user_id] = (devices, version + 1)
        return result

    def set_admin(self, user_id: str, email: str | None, is_admin: bool, changed_at: str) -> bool:
        old = self.admin_items.get(user_id)
        if old and not old[2] < changed_at:
            return False
        self.admin_items[user_id] = (email, is_admin, changed_at)
        return True

    def admins(self) -> list[tuple[str, str | None]]:
        return [(u, email) for u, (email, is_admin, _) in sorted(self.admin_items.items()) if is_admin]

    def remember_order(self, order_id: str, user_id: str) -> None:
        self.owners[order_id] = user_id

    def order_owner(self, order_id: str) -> str | None:
        return self.owners.get(order_id)

    def suppress_address(self, email: str, reason: str, at: str, notification_id: str | None) -> None:
        self.suppressed_addresses.setdefault(email.lower(), (reason, at))

    # the log
    def claim(self, notification: Notification, now_s: int) -> ClaimResult:
        old = self.notes.get(notification.notification_id)
        if old is None:
            self.notes[notification.notification_id] = replace(notification, state=State.SENDING)
            return ClaimResult(Claim.CLAIMED, notification.lease_until)
        if old.state in FINAL:
            return ClaimResult(Claim.DONE)
        if old.lease_until > now_s:
            return ClaimResult(Claim.BUSY, old.lease_until)
        self.notes[notification.notification_id] = replace(old, lease_until=notification.lease_until)
        return ClaimResult(Claim.CLAIMED, notification.lease_until)

    def record(self, notification: Notification) -> bool:
        if notification.notification_id in self.notes:
            return False
        self.notes[notification.notification_id] = notification
        return True

    def _move(self, notification_id: str, from_states: Iterable[State], **changes: Any) -> bool:
        old = self.notes.get(notification_id)
        if old is None or old.state not in set(from_states):
            return False
        self.notes[notification_id] = replace(old, **changes)
        return True

    def mark_sent(self, notification_id: str, message_id: str, at: str, *, email: bool) -> bool:
        return self._move(
            notification_id, [State.SENDING], state=State.SENT, message_id=message_id, sent_at=at, lease_until=0
        )

    def mark_failed(self, notification_id: str, reason: str, at: str, *, from_states: Iterable[State]) -> bool:
        return self._move(notification_id, from_states, state=State.FAILED, reason=reason, failed_at=at, lease_until=0)

    def mark_delivered(self, notification_id: str, at: str) -> bool:
        return self._move(notification_id, [State.SENT], state=State.DELIVERED, delivered_at=at)

    def release(self, notification_id: str) -> None:
        self._move(notification_id, [State.SENDING], lease_until=0)

    def get(self, notification_id: str) -> Notification | None:
        return self.notes.get(notification_id)

    def by_message_id(self, message_id: str) -> Notification | None:
        return next((n for n in self.notes.values() if n.message_id == message_id), None)

    def list_for_user(
        self, user_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Notification], dict[str, Any] | None]:
        mine = sorted(
            (n for n in self.notes.values() if n.user_id == user_id),
            key=lambda n: f"{n.created_at}#{n.notification_id}",
            reverse=True,
        )
        if start:
            mine = [n for n in mine if f"{n.created_at}#{n.notification_id}" < start["gsi1sk"]]
        page = mine[:limit]
        last = None
        if len(mine) > limit:
            n = page[-1]
            last = {
                "pk": f"NOTE#{n.notification_id}",
                "sk": "NOTE",
                "gsi1pk": f"LOG#{user_id}",
                "gsi1sk": f"{n.created_at}#{n.notification_id}",
            }
        return page, last

    # for tests
    def of_user(self, user_id: str) -> list[Notification]:
        return [n for n in self.notes.values() if n.user_id == user_id]


@dataclass
class FakeEmail:
    """SES that keeps what it was given; ``refuse`` addresses are rejected for good, ``down`` throttles."""

    sent: list[tuple[str, OutgoingEmail]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    down: bool = False

    def send(self, email: OutgoingEmail) -> str:
        if self.down:
            raise ProviderUnavailable("TooManyRequestsException")
        if email.to in self.refuse:
            raise PermanentRefusal("rejected")
        message_id = f"ses-{uuid.uuid4().hex[:12]}"
        self.sent.append((message_id, email))
        return message_id

    def to(self, address: str) -> list[OutgoingEmail]:
        return [e for _, e in self.sent if e.to == address]


@dataclass
class FakeText:
    sms: list[tuple[str, str, bool]] = field(default_factory=list)
    pushes: list[tuple[str, str]] = field(default_factory=list)
    invalid_numbers: set[str] = field(default_factory=set)
    disabled_endpoints: set[str] = field(default_factory=set)

    def send_sms(self, phone: str, text: str, *, transactional: bool) -> str:
        if phone in self.invalid_numbers:
            raise PermanentRefusal("invalid-address")
        self.sms.append((phone, text, transactional))
        return f"sms-{len(self.sms)}"

    def send_push(self, endpoint_arn: str, text: str) -> str:
        if endpoint_arn in self.disabled_endpoints:
            raise PermanentRefusal("endpoint-disabled")
        self.pushes.append((endpoint_arn, text))
        return f"push-{len(self.pushes)}"


@dataclass
class FakeRegistry:
    enabled: bool = True
    endpoints: dict[str, str] = field(default_factory=dict)  # token -> arn
    removed: list[str] = field(default_factory=list)

    def register(self, token: str, user_id: str) -> str:
        return self.endpoints.setdefault(token, f"arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/{uuid.uuid4()}")

    def remove(self, endpoint_arn: str) -> None:
        self.removed.append(endpoint_arn)


def outbox(email: FakeEmail | None = None, text: FakeText | None = None, *, push: bool = True) -> Outbox:
    return Outbox(
        email=email or FakeEmail(),
        text=text or FakeText(),
        push_enabled=push,
        secret=lambda: SECRET,
        public_url="https://api.gears.test",
    )


class Clock:
    """A clock the test moves."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def uid(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
