"""What the notification service decides without I/O: kinds, channels, a customer's preferences and marketing
consent, which channels a message goes on (or why not), the delivery log's states, deterministic notification ids
and the signed one-click unsubscribe token.

Standard library only: the store maps these to items, the providers send what :func:`plan` decides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Kind(StrEnum):
    ORDER_UPDATES = "orderUpdates"
    SUPPORT = "support"
    MARKETING = "marketing"
    ALERTS = "alerts"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class State(StrEnum):
    SENDING = "sending"  # claimed: the provider is being called (or a crash left it so; the retry takes it over)
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class Platform(StrEnum):
    FCM = "fcm"
    APNS = "apns"


# Transactional kinds always go by email; SMS and push only where the customer chose them.
TRANSACTIONAL = frozenset({Kind.ORDER_UPDATES, Kind.SUPPORT})
# The kinds a customer sets channels for; alerts go to the shop's admins by email only.
SETTABLE = (Kind.ORDER_UPDATES, Kind.SUPPORT, Kind.MARKETING)
FINAL = frozenset({State.SENT, State.DELIVERED, State.FAILED, State.SUPPRESSED})
CHANNEL_ORDER = (Channel.EMAIL, Channel.SMS, Channel.PUSH)

# Reasons a message is suppressed or failed (the log's and the events' ``reason``).
NO_CONSENT = "no-consent"
CHANNEL_NOT_CHOSEN = "channel-not-chosen"
UNSUBSCRIBED = "unsubscribed"
ADDRESS_SUPPRESSED = "address-suppressed"
NO_EMAIL = "no-email-address"
NO_PHONE = "no-confirmed-phone"
NO_DEVICE = "no-device"
PUSH_DISABLED = "push-not-configured"
NO_CONTACT = "no-contact"


class PreferenceError(Exception):
    """A preferences change the rules refuse (a client error: 422)."""

    title = "Preferences refused"
    code = "preferences-refused"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True)
class Contact:
    """What the service knows of a customer to reach them (from auth's events): the email, a name, a confirmed phone
    (E.164; never an unconfirmed one) and a locale. ``as_of`` orders the events that made it."""

    user_id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    locale: str | None = None
    as_of: str = ""

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ", 1)[0].strip()


@dataclass(frozen=True)
class MarketingConsent:
    """Whether the customer agreed to marketing, and when and how they gave or withdrew it (kept for the record)."""

    consent: bool = False
    given_at: str | None = None
    source: str | None = None
    withdrawn_at: str | None = None
    withdrawn_source: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "consent": self.consent,
            "consentGivenAt": self.given_at,
            "consentSource": self.source,
            "consentWithdrawnAt": self.withdrawn_at,
            "withdrawnSource": self.withdrawn_source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> MarketingConsent:
        data = data or {}

        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value else None

        return cls(
            consent=bool(data.get("consent")),
            given_at=text("consentGivenAt"),
            source=text("consentSource"),
            withdrawn_at=text("consentWithdrawnAt"),
            withdrawn_source=text("withdrawnSource"),
        )


DEFAULT_CHANNELS: dict[Kind, tuple[Channel, ...]] = {
    Kind.ORDER_UPDATES: (Channel.EMAIL,),
    Kind.SUPPORT: (Channel.EMAIL,),
    Kind.MARKETING: (Channel.EMAIL,),
    Kind.ALERTS: (Channel.EMAIL,),
}


def _ordered(channels: set[Channel] | tuple[Channel, ...] | list[Channel]) -> tuple[Channel, ...]:
    return tuple(c for c in CHANNEL_ORDER if c in set(channels))


@dataclass(frozen=True)
class Preferences:
    """A customer's channels per kind and their marketing consent. No stored item means the defaults: email for
    everything, no marketing consent. ``version`` counts saves (a save is conditional on the version read)."""

    user_id: str
    channels: dict[Kind, tuple[Channel, ...]] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    marketing: MarketingConsent = field(default_factory=MarketingConsent)
    updated_at: str | None = None
    version: int = 0

    def channels_for(self, kind: Kind) -> tuple[Channel, ...]:
        chosen = self.channels.get(kind, DEFAULT_CHANNELS[kind])
        if kind in TRANSACTIONAL:
            return _ordered({Channel.EMAIL, *chosen})
        if kind is Kind.ALERTS:
            return (Channel.EMAIL,)
        return _ordered(chosen)

    def with_channels(self, changes: dict[Kind, list[Channel]], now: str) -> Preferences:
        """The kinds named take the channels given (the others keep theirs). Transactional kinds always keep email
        (an order's receipt is not optional); alerts are email only."""
        channels = dict(self.channels)
        for kind, chosen in changes.items():
            if kind is Kind.ALERTS and set(chosen) - {Channel.EMAIL}:
                raise PreferenceError("Alerts go by email only.", kind=kind.value)
            if kind in TRANSACTIONAL and Channel.EMAIL not in chosen:
                raise PreferenceError(f"{kind.value} always go by email; add sms or push beside it.", kind=kind.value)
            channels[kind] = _ordered(chosen)
        return replace(self, channels=channels, updated_at=now)

    def with_consent(self, consent: bool, source: str, now: str) -> Preferences:
        """Give or withdraw marketing consent, keeping when and how. Giving it again keeps the first record."""
        current = self.marketing
        if consent == current.consent:
            return self
        if consent:
            marketing = MarketingConsent(True, now, source, None, None)
        else:
            marketing = replace(current, consent=False, withdrawn_at=now, withdrawn_source=source)
        return replace(self, marketing=marketing, updated_at=now)

    def unsubscribed(self, channel: Channel, kind: Kind, source: str, now: str) -> Preferences:
        """The customer's answer to an unsubscribe link: ``channel`` is taken off ``kind``; for marketing, with no
        channel left the consent itself is withdrawn. ``self`` when there is nothing to change (a repeat)."""
        if kind in TRANSACTIONAL or kind is Kind.ALERTS:
            return self  # transactional messages have no unsubscribe (the links never name them)
        chosen = self.channels_for(kind)
        prefs = self
        if channel in chosen:
            channels = dict(self.channels)
            channels[kind] = tuple(c for c in chosen if c is not channel)
            prefs = replace(self, channels=channels, updated_at=now)
        if kind is Kind.MARKETING and not prefs.channels_for(kind) and prefs.marketing.consent:
            prefs = prefs.with_consent(False, source, now)
        return prefs

    def receives(self, channel: Channel, kind: Kind) -> bool:
        if kind is Kind.MARKETING and not self.marketing.consent:
            return False
        return channel in self.channels_for(kind)

    def to_dict(self) -> dict[str, object]:
        return {
            "channels": {kind.value: [c.value for c in self.channels_for(kind)] for kind in Kind},
            "marketing": self.marketing.to_dict(),
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True)
class Device:
    """A registered device for push: the SNS platform endpoint made from its token."""

    device_id: str
    platform: Platform
    token: str
    endpoint_arn: str
    registered_at: str
    enabled: bool = True

    def to_dict(self) -> dict[str, object]:
        return {
            "deviceId": self.device_id,
            "platform": self.platform.value,
            "registeredAt": self.registered_at,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class Recipient:
    """Everything known about one recipient when a message is planned."""

    user_id: str
    contact: Contact | None
    preferences: Preferences
    devices: tuple[Device, ...] = ()
    email_suppressed: bool = False


@dataclass(frozen=True)
class Decision:
    """One channel of one message: send it to ``address`` (an email, a phone, or endpoint ARNs joined by spaces),
    or not, with the ``reason``."""

    channel: Channel
    state: State  # SENDING (send it) or SUPPRESSED or FAILED
    address: str | None = None
    reason: str | None = None

    @property
    def sends(self) -> bool:
        return self.state is State.SENDING


def _decide(channel: Channel, recipient: Recipient, push_enabled: bool) -> Decision:
    contact = recipient.contact
    if contact is None:
        return Decision(channel, State.FAILED, reason=NO_CONTACT)
    if channel is Channel.EMAIL:
        if not contact.email:
            return Decision(channel, State.FAILED, reason=NO_EMAIL)
        if recipient.email_suppressed:
            return Decision(channel, State.SUPPRESSED, reason=ADDRESS_SUPPRESSED)
        return Decision(channel, State.SENDING, address=contact.email)
    if channel is Channel.SMS:
        if not contact.phone:
            return Decision(channel, State.SUPPRESSED, reason=NO_PHONE)
        return Decision(channel, State.SENDING, address=contact.phone)
    if not push_enabled:
        return Decision(channel, State.SUPPRESSED, reason=PUSH_DISABLED)
    endpoints = [d.endpoint_arn for d in recipient.devices if d.enabled]
    if not endpoints:
        return Decision(channel, State.SUPPRESSED, reason=NO_DEVICE)
    return Decision(channel, State.SENDING, address=" ".join(endpoints))


def plan(
    kind: Kind,
    recipient: Recipient,
    *,
    campaign_channels: tuple[Channel, ...] | None = None,
    push_enabled: bool = True,
) -> list[Decision]:
    """Which channels a message of ``kind`` goes on for this recipient, and why each does not.

    Transactional kinds: email always, SMS and push where chosen (an SMS chosen without a confirmed phone, or push
    without a device, is suppressed and says why). Alerts: email. Marketing (``campaign_channels``): every campaign
    channel ends in a decision: suppressed without consent or where the customer did not choose that channel.
    """
    prefs = recipient.preferences
    if kind is Kind.MARKETING:
        decisions = []
        for channel in _ordered(campaign_channels or ()):
            if not prefs.marketing.consent:
                decisions.append(Decision(channel, State.SUPPRESSED, reason=NO_CONSENT))
            elif channel not in prefs.channels_for(kind):
                decisions.append(Decision(channel, State.SUPPRESSED, reason=CHANNEL_NOT_CHOSEN))
            else:
                decisions.append(_decide(channel, recipient, push_enabled))
        return decisions
    return [_decide(channel, recipient, push_enabled) for channel in prefs.channels_for(kind)]


# -- the delivery log ----------------------------------------------------------------------------------------------
NOTIFICATION_NAMESPACE = uuid.UUID("0c6f7a52-3d1e-4b8a-9f25-6a7e1d2c4b90")


def notification_id(source_event_id: str, user_id: str, channel: Channel) -> str:
    """The id of the one message a source event sends a recipient on a channel: the same inputs, the same id, so a
    redelivered event finds the message it sent (or is sending) instead of sending another."""
    return str(uuid.uuid5(NOTIFICATION_NAMESPACE, f"{source_event_id}#{user_id}#{channel.value}"))


@dataclass(frozen=True)
class Notification:
    """One message to one recipient on one channel, and where it stands."""

    notification_id: str
    user_id: str
    channel: Channel
    kind: Kind
    source_event_id: str
    source_type: str
    subject: str
    state: State
    created_at: str
    updated_at: str
    campaign_id: str | None = None
    reason: str | None = None
    address: str | None = None
    message_id: str | None = None
    sent_at: str | None = None
    delivered_at: str | None = None
    failed_at: str | None = None
    lease_until: int = 0
    correlation_id: str = ""

    def to_dict(self) -> dict[str, object]:
        """As ``GET /me/notifications`` shows it (no address or provider id)."""
        return {
            "notificationId": self.notification_id,
            "channel": self.channel.value,
            "kind": self.kind.value,
            "subject": self.subject,
            "state": self.state.value,
            "reason": self.reason,
            "campaignId": self.campaign_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "sentAt": self.sent_at,
            "deliveredAt": self.delivered_at,
            "failedAt": self.failed_at,
        }


# -- the one-click unsubscribe token -------------------------------------------------------------------------------
TOKEN_VERSION = "v1"  # noqa: S105 - the token format's version, not a secret
MAX_TOKEN_LENGTH = 600


class InvalidToken(Exception):
    """Not a token this service wrote (malformed): 400."""

    title = "Invalid unsubscribe token"
    code = "invalid-token"


class ForgedToken(Exception):
    """A well-formed token whose signature does not match (forged or altered): 403."""

    title = "Unsubscribe token not accepted"
    code = "token-signature"


@dataclass(frozen=True)
class UnsubscribeToken:
    user_id: str
    channel: Channel
    kind: Kind


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def sign_token(secret: bytes, token: UnsubscribeToken) -> str:
    """``<payload>.<signature>``: the payload names user, channel and kind; the signature is HMAC-SHA256 with the
    service's secret. No expiry: an unsubscribe link keeps working (RFC 8058 asks that it does for a long time)."""
    payload = json.dumps(
        {"v": TOKEN_VERSION, "u": token.user_id, "c": token.channel.value, "k": token.kind.value},
        separators=(",", ":"),
    ).encode()
    body = _b64(payload)
    signature = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def verify_token(secret: bytes, text: str) -> UnsubscribeToken:
    """What a token names, once its signature is checked; :class:`InvalidToken` or :class:`ForgedToken`."""
    if not text or len(text) > MAX_TOKEN_LENGTH or text.count(".") != 1:
        raise InvalidToken("The unsubscribe token is malformed.")
    body, signature = text.split(".")
    try:
        given = _unb64(signature)
        payload = json.loads(_unb64(body))
    except (ValueError, binascii.Error) as exc:
        raise InvalidToken("The unsubscribe token is malformed.") from exc
    expected = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise ForgedToken("The unsubscribe token's signature does not match.")
    try:
        if payload["v"] != TOKEN_VERSION:
            raise InvalidToken("The unsubscribe token is of an unknown version.")
        return UnsubscribeToken(str(payload["u"]), Channel(payload["c"]), Kind(payload["k"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("The unsubscribe token is malformed.") from exc
