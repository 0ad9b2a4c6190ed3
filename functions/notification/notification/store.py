"""The notification table, through DynamoDB's low-level client: the service needs BatchGetItem (a campaign batch's
contacts and preferences in two calls, not fifty), conditions that return the item they failed on (a claim that
finds the message already sent), and map updates, which the low-level client says directly.

Items (generic keys; ``entity`` names each kind):

- contact: pk ``USER#<userId>``, sk ``CONTACT`` (email, name, confirmed phone, locale, ``asOf``: the time of the auth
  event that wrote it; an older event never overwrites a newer one).
- preferences: pk ``USER#<userId>``, sk ``PREFS`` (channels per kind, marketing consent with when and how, version).
- devices: pk ``USER#<userId>``, sk ``DEVICES`` (a map of the user's push devices, with a version).
- admin: pk ``ADMINS``, sk ``USER#<userId>`` (email, admin or not, ``changedAt``): the shop's admins for alerts,
  from auth's UserRolesChanged (a demotion stays as a tombstone, so a late older event cannot promote again).
- order owner: pk ``ORDER#<orderId>``, sk ``OWNER`` (userId, from OrderPlaced; for payment events without one).
- suppressed address: pk ``ADDRESS#<email>``, sk ``SUPPRESSED`` (a hard bounce or a complaint).
- notification (the delivery log): pk ``NOTE#<notificationId>``, sk ``NOTE``; gsi1 ``LOG#<userId>`` /
  ``<createdAt>#<notificationId>`` (a customer's log, newest first); gsi2 ``SESMSG#<messageId>`` / ``NOTE`` once an
  email is sent (SES feedback that lost its tags finds the message by SES's id).

Every key is a user's, an order's, an address's or a message's own: a campaign's writes spread over its
recipients, nothing shares one partition but the handful of admins.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from gears_shared.dynamo import plain_item
from notification.domain import (
    FINAL,
    Channel,
    Contact,
    Device,
    Kind,
    MarketingConsent,
    Notification,
    Platform,
    Preferences,
    State,
)
from notification.errors import StalePreferences

CONTACT, PREFS, DEVICES, OWNER, SUPPRESSED, NOTE = "CONTACT", "PREFS", "DEVICES", "OWNER", "SUPPRESSED", "NOTE"
ADMINS = "ADMINS"
NOTIFICATION_ENTITY = "Notification"
LOG_KEEP_S = 400 * 86_400  # the delivery log is kept a little over a year
ORDER_KEEP_S = 400 * 86_400
BATCH_GET = 100
MAX_ID_LENGTH = 128

_serializer = TypeSerializer()


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return plain_item(item) if item else None


def user_key(user_id: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": f"USER#{user_id}"}, "sk": {"S": sk}}


def note_key(notification_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"NOTE#{notification_id}"}, "sk": {"S": NOTE}}


def address_key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"ADDRESS#{email.strip().lower()}"}, "sk": {"S": SUPPRESSED}}


def log_partition(user_id: str) -> str:
    return f"LOG#{user_id}"


# -- mapping -------------------------------------------------------------------------------------------------------
def contact_from(item: dict[str, Any] | None) -> Contact | None:
    if not item:
        return None
    return Contact(
        user_id=str(item["userId"]),
        email=item.get("email"),
        name=item.get("name"),
        phone=item.get("phone"),
        locale=item.get("locale"),
        as_of=str(item.get("asOf") or ""),
    )


def preferences_from(user_id: str, item: dict[str, Any] | None) -> Preferences:
    if not item:
        return Preferences(user_id)
    channels = {
        Kind(kind): tuple(Channel(c) for c in chosen)
        for kind, chosen in (item.get("channels") or {}).items()
        if kind in Kind._value2member_map_
    }
    defaults = Preferences(user_id).channels
    return Preferences(
        user_id,
        channels={**defaults, **channels},
        marketing=MarketingConsent.from_dict(item.get("marketing")),
        updated_at=item.get("updatedAt"),
        version=int(item.get("version") or 0),
    )


def devices_from(item: dict[str, Any] | None) -> tuple[Device, ...]:
    if not item:
        return ()
    out = []
    for device_id, d in sorted((item.get("devices") or {}).items()):
        out.append(
            Device(
                device_id=device_id,
                platform=Platform(d["platform"]),
                token=str(d["token"]),
                endpoint_arn=str(d["endpointArn"]),
                registered_at=str(d["registeredAt"]),
                enabled=bool(d.get("enabled", True)),
            )
        )
    return tuple(out)


def notification_from(item: dict[str, Any] | None) -> Notification | None:
    if not item or item.get("entity") != NOTIFICATION_ENTITY:
        return None
    return Notification(
        notification_id=str(item["notificationId"]),
        user_id=str(item["userId"]),
        channel=Channel(item["channel"]),
        kind=Kind(item["kind"]),
        source_event_id=str(item["sourceEventId"]),
        source_type=str(item.get("sourceType") or ""),
        subject=str(item.get("subject") or ""),
        state=State(item["state"]),
        created_at=str(item["createdAt"]),
        updated_at=str(item.get("updatedAt") or item["createdAt"]),
        campaign_id=item.get("campaignId"),
        reason=item.get("reason"),
        address=item.get("address"),
        message_id=item.get("messageId"),
        sent_at=item.get("sentAt"),
        delivered_at=item.get("deliveredAt"),
        failed_at=item.get("failedAt"),
        lease_until=int(item.get("leaseUntil") or 0),
        correlation_id=str(item.get("correlationId") or ""),
    )


def notification_item(n: Notification) -> dict[str, Any]:
    return {
        "pk": f"NOTE#{n.notification_id}",
        "sk": NOTE,
        "entity": NOTIFICATION_ENTITY,
        "notificationId": n.notification_id,
        "userId": n.user_id,
        "channel": n.channel.value,
        "kind": n.kind.value,
        "sourceEventId": n.source_event_id,
        "sourceType": n.source_type,
        "subject": n.subject,
        "state": n.state.value,
        "reason": n.reason,
        "campaignId": n.campaign_id,
        "address": n.address,
        "createdAt": n.created_at,
        "updatedAt": n.updated_at,
        "failedAt": n.failed_at,
        "leaseUntil": n.lease_until or None,
        "correlationId": n.correlation_id or None,
        "gsi1pk": log_partition(n.user_id),
        "gsi1sk": f"{n.created_at}#{n.notification_id}",
        "expiresAt": int(time.time()) + LOG_KEEP_S,
    }


class Claim(Enum):
    CLAIMED = "claimed"  # this worker sends it
    DONE = "done"  # sent (or settled) before: nothing to do
    BUSY = "busy"  # another worker is sending it right now


@dataclass(frozen=True)
class ClaimResult:
    outcome: Claim
    lease_until: int = 0


@dataclass(frozen=True)
class Recipients:
    contacts: dict[str, Contact]
    preferences: dict[str, Preferences]
    devices: dict[str, tuple[Device, ...]]


class DynamoNotificationStore:
    """:class:`notification.service.NotificationStore` over the notification table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = table_name
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.client = client

    # -- reads in bulk ---------------------------------------------------------------------------------------------
    def _batch_get(self, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every item of ``keys`` that exists, 100 keys a request, unprocessed keys asked again."""
        found: list[dict[str, Any]] = []
        unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
        for start in range(0, len(unique), BATCH_GET):
            pending: dict[str, Any] = {self.table: {"Keys": unique[start : start + BATCH_GET], "ConsistentRead": True}}
            for attempt in range(8):
                answer = self.client.batch_get_item(RequestItems=pending)
                found += [i for i in (_load(raw) for raw in answer["Responses"].get(self.table, [])) if i]
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            if pending:
                raise RuntimeError("notification store: keys left unprocessed by BatchGetItem")
        return found

    def recipients(self, user_ids: Iterable[str], *, with_devices: bool) -> Recipients:
        ids = [u for u in dict.fromkeys(user_ids) if u and len(u) <= MAX_ID_LENGTH]
        sks = (CONTACT, PREFS, DEVICES) if with_devices else (CONTACT, PREFS)
        items = self._batch_get([user_key(u, sk) for u in ids for sk in sks])
        contacts: dict[str, Contact] = {}
        prefs_items: dict[str, dict[str, Any]] = {}
        devices: dict[str, tuple[Device, ...]] = {}
        for item in items:
            user_id = str(item["pk"]).removeprefix("USER#")
            if item["sk"] == CONTACT and (contact := contact_from(item)):
                contacts[user_id] = contact
            elif item["sk"] == PREFS:
                prefs_items[user_id] = item
            elif item["sk"] == DEVICES:
                devices[user_id] = devices_from(item)
        preferences = {u: preferences_from(u, prefs_items.get(u)) for u in ids}
        return Recipients(contacts, preferences, devices)

    def suppressed(self, emails: Iterable[str]) -> set[str]:
        """The addresses among ``emails`` that must not be written to again (lower case)."""
        wanted = [e for e in dict.fromkeys(e.strip().lower() for e in emails if e) if len(e) <= 320]
        items = self._batch_get([address_key(e) for e in wanted])
        return {str(i["pk"]).removeprefix("ADDRESS#") for i in items}

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return _load(self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item"))

    # -- contacts ----------------------------------------------------------------------------------------------------
    def contact(self, user_id: str) -> Contact | None:
        return contact_from(self._get(user_key(user_id, CONTACT)))

    def save_contact(self, contact: Contact) -> bool:
        """Store the contact unless a newer one is stored (``False``: nothing written)."""
        item = {
            "pk": f"USER#{contact.user_id}",
            "sk": CONTACT,
            "entity": "Contact",
            "userId": contact.user_id,
            "email": contact.email,
            "name": contact.name,
            "phone": contact.phone,
            "locale": contact.locale,
            "asOf": contact.as_of,
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_dump(item),
                ConditionExpression="attribute_not_exists(pk) OR asOf < :asOf",
                ExpressionAttributeValues={":asOf": {"S": contact.as_of}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # -- preferences -------------------------------------------------------------------------------------------------
    def preferences(self, user_id: str) -> Preferences:
        return preferences_from(user_id, self._get(user_key(user_id, PREFS)))

    def save_preferences(self, prefs: Preferences) -> Preferences:
        """Store ``prefs`` if they are still at the version read; :class:`StalePreferences` otherwise."""
        saved = replace(prefs, version=prefs.version + 1)
        item = {
            "pk": f"USER#{prefs.user_id}",
            "sk": PREFS,
            "entity": "Preferences",
            "userId": prefs.user_id,
            "channels": {k.value: [c.value for c in v] for k, v in prefs.channels.items()},
            "marketing": {k: v for k, v in prefs.marketing.to_dict().items() if v is not None},
            "updatedAt": prefs.updated_at,
            "version": saved.version,
        }
        condition = "attribute_not_exists(pk)" if prefs.version == 0 else "version = :v"
        values = {} if prefs.version == 0 else {"ExpressionAttributeValues": {":v": {"N": str(prefs.version)}}}
        try:
            self.client.put_item(TableName=self.table, Item=_dump(item), ConditionExpression=condition, **values)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise StalePreferences("The preferences changed meanwhile; read them again.") from exc
        return saved

    # -- devices -----------------------------------------------------------------------------------------------------
    def devices(self, user_id: str) -> tuple[Device, ...]:
        return devices_from(self._get(user_key(user_id, DEVICES)))

    def _devices_versioned(self, user_id: str) -> tuple[dict[str, Any], int]:
        item = self._get(user_key(user_id, DEVICES)) or {}
        return dict(item.get("devices") or {}), int(item.get("version") or 0)

    def _put_devices(self, user_id: str, devices: dict[str, Any], version: int) -> bool:
        item = {
            "pk": f"USER#{user_id}",
            "sk": DEVICES,
            "entity": "Devices",
            "userId": user_id,
            "devices": devices,
            "version": version + 1,
        }
        condition = "attribute_not_exists(pk)" if version == 0 else "version = :v"
        values = {} if version == 0 else {"ExpressionAttributeValues": {":v": {"N": str(version)}}}
        try:
            self.client.put_item(TableName=self.table, Item=_dump(item), ConditionExpression=condition, **values)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def change_devices(self, user_id: str, change: Any, attempts: int = 5) -> Any:
        """Apply ``change(devices: dict) -> result`` to the user's device map (read, change, conditional write,
        again if another write came between); the result of the change that was stored."""
        for _ in range(attempts):
            devices, version = self._devices_versioned(user_id)
            result = change(devices)
            if self._put_devices(user_id, devices, version):
                return result
        raise StalePreferences("The devices changed meanwhile; try again.")

    # -- admins ------------------------------------------------------------------------------------------------------
    def set_admin(self, user_id: str, email: str | None, is_admin: bool, changed_at: str) -> bool:
        item = {
            "pk": ADMINS,
            "sk": f"USER#{user_id}",
            "entity": "Admin",
            "userId": user_id,
            "email": email,
            "admin": is_admin,
            "changedAt": changed_at,
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_dump(item),
                ConditionExpression="attribute_not_exists(pk) OR changedAt < :at",
                ExpressionAttributeValues={":at": {"S": changed_at}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def admins(self) -> list[tuple[str, str | None]]:
        """The shop's admins (user id, email): one small partition, queried (never scanned)."""
        out: list[tuple[str, str | None]] = []
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": ADMINS}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**args)
            for raw in page.get("Items", []):
                item = _load(raw) or {}
                if item.get("admin"):
                    out.append((str(item["userId"]), item.get("email")))
            if not page.get("LastEvaluatedKey"):
                return out
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- orders ------------------------------------------------------------------------------------------------------
    def remember_order(self, order_id: str, user_id: str) -> None:
        item = {
            "pk": f"ORDER#{order_id}",
            "sk": OWNER,
            "entity": "OrderOwner",
            "orderId": order_id,
            "userId": user_id,
            "expiresAt": int(time.time()) + ORDER_KEEP_S,
        }
        self.client.put_item(TableName=self.table, Item=_dump(item))

    def order_owner(self, order_id: str) -> str | None:
        item = self._get({"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": OWNER}})
        return str(item["userId"]) if item else None

    # -- suppression -------------------------------------------------------------------------------------------------
    def suppress_address(self, email: str, reason: str, at: str, notification_id: str | None) -> None:
        item = {
            **{k: v["S"] for k, v in address_key(email).items()},
            "entity": "SuppressedAddress",
            "email": email.strip().lower(),
            "reason": reason,
            "at": at,
            "notificationId": notification_id,
        }
        # Suppressed already: the first reason stays.
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.put_item(TableName=self.table, Item=_dump(item), ConditionExpression="attribute_not_exists(pk)")

    # -- the delivery log ----------------------------------------------------------------------------------------------
    def claim(self, notification: Notification, now_s: int) -> ClaimResult:
        """Write the message as ``sending`` (leased until ``notification.lease_until``) unless it exists; take over
        one whose sender's lease ran out (it crashed before recording the outcome)."""
        item = notification_item(replace(notification, state=State.SENDING))
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_dump(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return ClaimResult(Claim.CLAIMED, notification.lease_until)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            old = _load(getattr(exc, "response", {}).get("Item")) or self._get(note_key(notification.notification_id))
        if not old:
            return ClaimResult(Claim.BUSY, now_s + 1)  # vanished meanwhile (cannot happen but by hand): try again
        if State(old["state"]) in FINAL:
            return ClaimResult(Claim.DONE)
        lease = int(old.get("leaseUntil") or 0)
        if lease > now_s:
            return ClaimResult(Claim.BUSY, lease)
        try:
            self.client.update_item(
                TableName=self.table,
                Key=note_key(notification.notification_id),
                UpdateExpression="SET leaseUntil = :new, updatedAt = :now",
                ConditionExpression="#s = :sending AND (attribute_not_exists(leaseUntil) OR leaseUntil = :old)",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":new": {"N": str(notification.lease_until)},
                    ":old": {"N": str(lease)},
                    ":sending": {"S": State.SENDING.value},
                    ":now": {"S": notification.updated_at},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return self.claim(notification, now_s)  # someone else moved it: look again
        return ClaimResult(Claim.CLAIMED, notification.lease_until)

    def record(self, notification: Notification) -> bool:
        """Write a message that was settled without a send (suppressed, or failed before the provider); ``False``
        when it was written before."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_dump(notification_item(notification)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _transition(
        self, notification_id: str, sets: dict[str, Any], from_states: Iterable[State], remove: Sequence[str] = ()
    ) -> bool:
        names = {"#s": "state", **{f"#f{i}": k for i, k in enumerate(sets)}}
        values = {f":v{i}": _serializer.serialize(v) for i, v in enumerate(sets.values())}
        states = list(from_states)
        values.update({f":from{i}": {"S": s.value} for i, s in enumerate(states)})
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
        if remove:
            expression += " REMOVE " + ", ".join(remove)
        try:
            self.client.update_item(
                TableName=self.table,
                Key=note_key(notification_id),
                UpdateExpression=expression,
                ConditionExpression=f"#s IN ({', '.join(f':from{i}' for i in range(len(states)))})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_sent(self, notification_id: str, message_id: str, at: str, *, email: bool) -> bool:
        sets: dict[str, Any] = {"state": State.SENT.value, "messageId": message_id, "sentAt": at, "updatedAt": at}
        if email:
            sets.update({"gsi2pk": f"SESMSG#{message_id}", "gsi2sk": NOTE})
        return self._transition(notification_id, sets, [State.SENDING], remove=("leaseUntil",))

    def mark_failed(self, notification_id: str, reason: str, at: str, *, from_states: Iterable[State]) -> bool:
        sets = {"state": State.FAILED.value, "reason": reason, "failedAt": at, "updatedAt": at}
        return self._transition(notification_id, sets, from_states, remove=("leaseUntil",))

    def mark_delivered(self, notification_id: str, at: str) -> bool:
        sets = {"state": State.DELIVERED.value, "deliveredAt": at, "updatedAt": at}
        return self._transition(notification_id, sets, [State.SENT])

    def release(self, notification_id: str) -> None:
        """Give the claim up at once (the provider failed for now): the retry takes it over without waiting."""
        self._transition(notification_id, {"leaseUntil": 0}, [State.SENDING])

    def get(self, notification_id: str) -> Notification | None:
        if not notification_id or len(notification_id) > MAX_ID_LENGTH:
            return None
        return notification_from(self._get(note_key(notification_id)))

    def by_message_id(self, message_id: str) -> Notification | None:
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SESMSG#{message_id}"}},
            Limit=1,
        )
        items = page.get("Items") or []
        # The index keeps keys only (it exists for this one look-up): the item itself by its key.
        return notification_from(self._get({"pk": items[0]["pk"], "sk": items[0]["sk"]})) if items else None

    def list_for_user(
        self, user_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Notification], dict[str, Any] | None]:
        """The user's log, newest first: a page and the position after it (``None`` at the end)."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": log_partition(user_id)}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        page = self.client.query(**args)
        items = [n for n in (notification_from(_load(raw)) for raw in page.get("Items", [])) if n]
        last = page.get("LastEvaluatedKey")
        return items, ({k: v["S"] for k, v in last.items()} if last else None)
