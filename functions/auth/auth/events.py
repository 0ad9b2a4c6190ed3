"""The events the auth service publishes on the auth topic (CloudEvents 1.0, ``data`` as below).

=========================  =========================================================================================
type                       when
=========================  =========================================================================================
``UserRegistered.v1``      an account was confirmed (its email proven): a new customer. CRM opens the customer's
                           record and notifications sends the welcome; ``data`` is the account, with the name given
                           at sign-up (or null)
``UserProfileUpdated.v1``  a confirmed account's name, confirmed phone or locale changed; ``data`` is the whole
                           contact profile after the change (a phone awaiting its code is never in it: ``phone`` is
                           present only once confirmed)
``UserRolesChanged.v1``    an admin decided a user's roles (``PUT /admin/users/{userId}/roles``); ``data.roles`` are
                           the roles the user holds after it. Every audited decision publishes, changed or not: the
                           event carries state, so a consumer keeps the one with the latest ``changedAt``
=========================  =========================================================================================

Every envelope has ``source`` :data:`SOURCE`, ``subject`` the user id, ``time`` when the change happened, and the
``correlationid`` of the request that made it. Ids are deterministic, so a replayed stream record or a retried
batch publishes the same id and consumers dedupe on it: ``UserRegistered`` from the user id alone (an account
registers once), ``UserProfileUpdated`` from the user id and the profile's version (each stored version of the
profile once), ``UserRolesChanged`` from the audit item's change id.

Events of one user may reach a consumer out of order (SNS to SQS keeps none): ``UserProfileUpdated`` carries the
whole profile and its ``updatedAt``, ``UserRolesChanged`` its ``changedAt``, so a consumer keeps the newest.
"""

from __future__ import annotations

from pydantic import BaseModel

from gears_shared.events import PublishedData

SOURCE = "gears.auth"
USER_REGISTERED = "UserRegistered.v1"
USER_PROFILE_UPDATED = "UserProfileUpdated.v1"
USER_ROLES_CHANGED = "UserRolesChanged.v1"


class UserRegistered(PublishedData):
    userId: str
    email: str
    name: str | None
    registeredAt: str
    createdAt: str


class UserProfileUpdated(PublishedData):
    userId: str
    email: str
    name: str | None
    phone: str | None  # E.164, and only once confirmed by its code
    phoneVerified: bool
    locale: str | None  # a BCP 47 tag, like en-GB
    updatedAt: str


class UserRolesChanged(PublishedData):
    userId: str
    email: str
    roles: list[str]
    changedAt: str
    changeId: str


SCHEMAS: dict[str, type[BaseModel]] = {
    USER_REGISTERED: UserRegistered,
    USER_PROFILE_UPDATED: UserProfileUpdated,
    USER_ROLES_CHANGED: UserRolesChanged,
}
