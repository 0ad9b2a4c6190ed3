"""The events the auth service publishes on the auth topic (CloudEvents 1.0, ``data`` as below).

=====================  =============================================================================================
type                   when
=====================  =============================================================================================
``UserRegistered.v1``  an account was confirmed (its email proven): a new customer. CRM opens the customer's
                       record and notifications sends the welcome; ``data`` is the account as below
=====================  =============================================================================================

Every envelope has ``source`` :data:`SOURCE`, ``subject`` the user id, ``time`` when the account was confirmed, and
the ``correlationid`` of the confirming request. Its ``id`` is derived from the user id alone: an account registers
once, so a replayed stream record, a retried batch or a confirmation completed twice all publish the same id, and
consumers dedupe on it.
"""

from __future__ import annotations

from pydantic import BaseModel

from gears_shared.events import PublishedData

SOURCE = "gears.auth"
USER_REGISTERED = "UserRegistered.v1"


class UserRegistered(PublishedData):
    userId: str
    email: str
    registeredAt: str
    createdAt: str


SCHEMAS: dict[str, type[BaseModel]] = {USER_REGISTERED: UserRegistered}
