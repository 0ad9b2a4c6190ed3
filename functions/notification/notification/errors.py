"""The notification service's own errors that are not rules of the domain: the HTTP ones are shared kinds (which
carry their status); the others tell the consumers how soon to try again."""

from __future__ import annotations

from gears_shared.consumers import EventNotReady
from gears_shared.errors import BadRequest, BusinessRuleViolation, Conflict


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class InvalidUnsubscribeBody(BadRequest):
    title = "Invalid unsubscribe request"
    code = "invalid-unsubscribe-body"


class PushNotConfigured(BusinessRuleViolation):
    """The deployment has no SNS platform application (``PushPlatformApplicationArn`` is empty)."""

    title = "Push notifications are not configured"
    code = "push-not-configured"


class TooManyDevices(BusinessRuleViolation):
    title = "Too many devices"
    code = "too-many-devices"


class InvalidDeviceToken(BadRequest):
    """The push provider refused the token (its shape passed our check, but it is not a token the provider knows)."""

    title = "Invalid device token"
    code = "invalid-device-token"


class StalePreferences(Conflict):
    """The preferences changed between the read and the write, several times over: try again."""

    title = "Preferences were changed"
    code = "stale-preferences"


# -- consumers ---------------------------------------------------------------------------------------------------
class ProviderUnavailable(RuntimeError):
    """The provider (SES, SNS) throttled or failed on its side: the message comes back later, with backoff."""


class PermanentRefusal(Exception):
    """The provider refused this message for good (an invalid number, a disabled endpoint, a rejected address): the
    notification is ``failed`` with the ``reason``, never retried."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


class NotificationInProgress(RuntimeError):
    """Another worker holds the message's claim (it is calling the provider right now): retry when the lease ends."""

    def __init__(self, notification_id: str, lease_until: int) -> None:
        super().__init__(f"{notification_id} is being sent by another worker")
        self.lease_until = lease_until


class RecipientNotReady(EventNotReady):
    """The event names a customer (or an order) whose contact has not arrived yet (auth's events travel apart from
    the order's): retried for a while, then the message is recorded as failed (``no-contact``)."""
