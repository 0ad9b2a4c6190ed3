"""The auth table (PynamoDB) and the :class:`~auth.service.ProfileRepository` over it.

One table, generic keys: ``pk``/``sk`` strings. A profile is ``pk=USER#<sub>``, ``sk=PROFILE``; later items of
the same user (role-change audit, say) sit under the same ``pk`` with their own ``sk``. ``entity`` names the kind
of item, so the table's stream consumer can tell a profile from anything else without parsing keys.
"""

from __future__ import annotations

import os
from dataclasses import replace

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from auth.domain import AccountStatus, Profile
from auth.errors import ConcurrentUpdate

USER_PREFIX = "USER#"
PROFILE_SK = "PROFILE"
PROFILE_ENTITY = "Profile"


def user_pk(user_id: str) -> str:
    return USER_PREFIX + user_id


class ProfileItem(Model):
    class Meta:
        # The template hands the table's name to every auth function; see DynamoProfileRepository to bind another.
        table_name = os.environ.get("TABLE_NAME", "gears-auth")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=PROFILE_SK)
    entity = UnicodeAttribute(default=PROFILE_ENTITY)
    user_id = UnicodeAttribute(attr_name="userId")
    email = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    confirmed_at = UTCDateTimeAttribute(attr_name="confirmedAt", null=True)
    version = VersionAttribute()


def to_item(profile: Profile) -> ProfileItem:
    item = ProfileItem(
        user_pk(profile.user_id),
        PROFILE_SK,
        user_id=profile.user_id,
        email=profile.email,
        status=profile.status.value,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        confirmed_at=profile.confirmed_at,
    )
    # PynamoDB conditions the write on this version (or, for None, on the item not existing) and bumps it.
    if profile.version:
        item.version = profile.version
    return item


def to_profile(item: ProfileItem) -> Profile:
    return Profile(
        user_id=item.user_id,
        email=item.email,
        status=AccountStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        confirmed_at=item.confirmed_at,
        version=int(item.version or 0),
    )


class DynamoProfileRepository:
    """Profiles in the auth table, with optimistic locking on ``version``."""

    def __init__(self, table_name: str | None = None) -> None:
        if table_name:
            ProfileItem.Meta.table_name = table_name

    def get(self, user_id: str) -> Profile | None:
        try:
            return to_profile(ProfileItem.get(user_pk(user_id), PROFILE_SK))
        except ProfileItem.DoesNotExist:
            return None

    def save(self, profile: Profile) -> Profile:
        item = to_item(profile)
        try:
            item.save()
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConcurrentUpdate("The profile changed meanwhile; try again.") from exc
            raise
        return replace(profile, version=int(item.version or 0))
