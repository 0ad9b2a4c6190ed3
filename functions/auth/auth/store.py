"""The auth table through PynamoDB models bound to it (``gears_shared.store.bind``): one item per write and
optimistic locking need no more than PynamoDB's own conditions. The :class:`~auth.service.ProfileRepository` and
the :class:`~auth.service.AuditLog` over it.

One table, generic keys: ``pk``/``sk`` strings. A profile is ``pk=USER#<sub>``, ``sk=PROFILE``, with the name,
phone, pending phone (and its code's digest) and locale: one item per customer, written by its owner only. The
audit of the user's role changes sits under the same ``pk`` (``sk=ROLES#<time>#<change id>``, so a query of the
user's partition lists them in order). ``entity`` names the kind of item, so the table's stream consumer can tell a
profile from anything else without parsing keys.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import cast

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from auth.domain import AccountStatus, PhoneCode, Profile, RoleChange
from auth.errors import ConcurrentUpdate
from gears_shared.store import bind

USER_PREFIX = "USER#"
PROFILE_SK = "PROFILE"
PROFILE_ENTITY = "Profile"
ROLE_CHANGE_PREFIX = "ROLES#"
ROLE_CHANGE_ENTITY = "RoleChange"


def user_pk(user_id: str) -> str:
    return USER_PREFIX + user_id


class ProfileItem(Model):
    """An account's profile; bound to the table by :class:`DynamoProfileRepository`."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=PROFILE_SK)
    entity = UnicodeAttribute(default=PROFILE_ENTITY)
    user_id = UnicodeAttribute(attr_name="userId")
    email = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    confirmed_at = UTCDateTimeAttribute(attr_name="confirmedAt", null=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # E.164, confirmed by its code
    pending_phone = UnicodeAttribute(attr_name="pendingPhone", null=True)
    locale = UnicodeAttribute(null=True)
    # The pending phone's code: its salted digest, never the code (auth.domain.phone_code_digest).
    phone_code_digest = UnicodeAttribute(attr_name="phoneCodeDigest", null=True)
    phone_code_salt = UnicodeAttribute(attr_name="phoneCodeSalt", null=True)
    phone_code_sent_at = UTCDateTimeAttribute(attr_name="phoneCodeSentAt", null=True)
    phone_code_expires_at = UTCDateTimeAttribute(attr_name="phoneCodeExpiresAt", null=True)
    phone_code_attempts = NumberAttribute(attr_name="phoneCodeAttempts", null=True)
    # When the codes of the last 24 hours were sent (at most a day's allowance of them).
    codes_sent = ListAttribute(attr_name="codesSent", of=UTCDateTimeAttribute, null=True)
    # The request that last wrote the profile: the stream publisher puts it on the event the write causes.
    correlation_id = UnicodeAttribute(attr_name="correlationId", null=True)
    version = VersionAttribute()


class RoleChangeItem(Model):
    """One audited role decision; written once, never updated. Bound to the table by :class:`DynamoAuditLog`."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute(default=ROLE_CHANGE_ENTITY)
    change_id = UnicodeAttribute(attr_name="changeId")
    user_id = UnicodeAttribute(attr_name="userId")
    changed_by = UnicodeAttribute(attr_name="changedBy")
    # Sets cannot be empty in DynamoDB: an account with no role yet has before=None.
    before = UnicodeSetAttribute(null=True)
    after = UnicodeSetAttribute(null=True)
    at = UTCDateTimeAttribute()
    correlation_id = UnicodeAttribute(attr_name="correlationId", null=True)
    # The user's email, for the UserRolesChanged event the item publishes (null on items audited before it was kept).
    email = UnicodeAttribute(null=True)


def role_change_sk(change: RoleChange) -> str:
    return f"{ROLE_CHANGE_PREFIX}{change.at.isoformat()}#{change.change_id}"


def to_item(model: type[ProfileItem], profile: Profile, correlation_id: str = "") -> ProfileItem:
    item = model(
        user_pk(profile.user_id),
        PROFILE_SK,
        user_id=profile.user_id,
        email=profile.email,
        status=profile.status.value,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        confirmed_at=profile.confirmed_at,
        name=profile.name,
        phone=profile.phone,
        pending_phone=profile.pending_phone,
        locale=profile.locale,
        codes_sent=list(profile.codes_sent) or None,
        correlation_id=correlation_id or None,
    )
    code = profile.phone_code
    if code is not None:
        item.phone_code_digest = code.digest
        item.phone_code_salt = code.salt
        item.phone_code_sent_at = code.sent_at
        item.phone_code_expires_at = code.expires_at
        item.phone_code_attempts = code.attempts
    # PynamoDB conditions the write on this version (or, for None, on the item not existing) and bumps it.
    if profile.version:
        item.version = profile.version
    return item


def _phone_code(item: ProfileItem) -> PhoneCode | None:
    if not (item.phone_code_digest and item.phone_code_salt and item.phone_code_sent_at and item.phone_code_expires_at):
        return None
    return PhoneCode(
        digest=item.phone_code_digest,
        salt=item.phone_code_salt,
        sent_at=item.phone_code_sent_at,
        expires_at=item.phone_code_expires_at,
        attempts=int(item.phone_code_attempts or 0),
    )


def to_profile(item: ProfileItem) -> Profile:
    return Profile(
        user_id=item.user_id,
        email=item.email,
        status=AccountStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        confirmed_at=item.confirmed_at,
        version=int(item.version or 0),
        name=item.name,
        phone=item.phone,
        pending_phone=item.pending_phone,
        phone_code=_phone_code(item),
        codes_sent=tuple(cast(list[datetime], item.codes_sent or [])),
        locale=item.locale,
    )


class DynamoProfileRepository:
    """Profiles in the auth table, with optimistic locking on ``version``."""

    def __init__(self, table_name: str) -> None:
        self.model = bind(ProfileItem, table_name)

    def get(self, user_id: str) -> Profile | None:
        try:
            return to_profile(self.model.get(user_pk(user_id), PROFILE_SK))
        except self.model.DoesNotExist:
            return None

    def save(self, profile: Profile, *, correlation_id: str = "") -> Profile:
        item = to_item(self.model, profile, correlation_id)
        try:
            item.save()
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConcurrentUpdate("The profile changed meanwhile; try again.") from exc
            raise
        return replace(profile, version=int(item.version or 0))


class DynamoAuditLog:
    """Role changes in the auth table, beside the user's profile."""

    def __init__(self, table_name: str) -> None:
        self.model = bind(RoleChangeItem, table_name)

    def record(self, change: RoleChange) -> None:
        item = self.model(
            user_pk(change.user_id),
            role_change_sk(change),
            change_id=change.change_id,
            user_id=change.user_id,
            changed_by=change.changed_by,
            before=set(change.before) or None,
            after=set(change.after) or None,
            at=change.at,
            correlation_id=change.correlation_id or None,
            email=change.email or None,
        )
        try:
            item.save(condition=self.model.sk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            # The very same change, recorded already (a retried write): nothing to do.

    def changes_of(self, user_id: str) -> list[RoleChange]:
        """The user's audited role changes, oldest first."""
        return [
            RoleChange(
                change_id=item.change_id,
                user_id=item.user_id,
                changed_by=item.changed_by,
                before=frozenset(item.before or ()),
                after=frozenset(item.after or ()),
                at=item.at,
                correlation_id=item.correlation_id or "",
                email=item.email or "",
            )
            for item in self.model.query(user_pk(user_id), self.model.sk.startswith(ROLE_CHANGE_PREFIX))
        ]
