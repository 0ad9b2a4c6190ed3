"""The notification service's use cases: one command each, with the ports they need.

Sending, whatever the source: :func:`plan` decides the channels, each decision becomes one log item whose id derives
from (source, recipient, channel). A message to send is first *claimed* (written ``sending`` with a lease, on the
condition that it does not exist), then handed to the provider, then recorded ``sent`` with the provider's id, or
``failed`` with the reason of a permanent refusal. A redelivered event finds its messages settled and sends nothing
again; one whose worker died between the claim and the outcome finds the lease run out and sends it (the one window
in which a message can go twice: the provider accepted it and the worker died before writing so). A provider that
throttles or fails gives the claim back and fails the event, which comes back with backoff.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from gears_shared.clock import utc_now
from notification.domain import (
    Channel,
    Contact,
    Decision,
    Device,
    Kind,
    Notification,
    Platform,
    Preferences,
    Recipient,
    State,
    UnsubscribeToken,
    notification_id,
    plan,
    sign_token,
    verify_token,
)
from notification.errors import (
    NotificationInProgress,
    PermanentRefusal,
    ProviderUnavailable,
    PushNotConfigured,
    RecipientNotReady,
    StalePreferences,
    TooManyDevices,
)
from notification.providers import OutgoingEmail
from notification.rendering import (
    CampaignTemplate,
    CampaignTemplateError,
    Rendered,
    campaign_variables,
    compile_campaign,
    render,
    render_campaign,
)
from notification.store import Claim, ClaimResult, Recipients

Clock = Callable[[], datetime]
CONTACT_WAIT_S = 300  # how long an event waits for its recipient's contact before the message is failed
LEASE_S = 60  # a claim's lease: longer than any provider call, shorter than the queue's visibility timeout
MAX_DEVICES = 10
UNSUBSCRIBE_PATH = "/notifications/unsubscribe"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


# -- ports -----------------------------------------------------------------------------------------------------------
class NotificationStore(Protocol):
    def recipients(self, user_ids: Iterable[str], *, with_devices: bool) -> Recipients: ...
    def suppressed(self, emails: Iterable[str]) -> set[str]: ...
    def contact(self, user_id: str) -> Contact | None: ...
    def save_contact(self, contact: Contact) -> bool: ...
    def preferences(self, user_id: str) -> Preferences: ...
    def save_preferences(self, prefs: Preferences) -> Preferences: ...
    def devices(self, user_id: str) -> tuple[Device, ...]: ...
    def change_devices(self, user_id: str, change: Any, attempts: int = 5) -> Any: ...
    def set_admin(self, user_id: str, email: str | None, is_admin: bool, changed_at: str) -> bool: ...
    def admins(self) -> list[tuple[str, str | None]]: ...
    def remember_order(self, order_id: str, user_id: str) -> None: ...
    def order_owner(self, order_id: str) -> str | None: ...
    def suppress_address(self, email: str, reason: str, at: str, notification_id: str | None) -> None: ...
    def claim(self, notification: Notification, now_s: int) -> ClaimResult: ...
    def record(self, notification: Notification) -> bool: ...
    def mark_sent(self, notification_id: str, message_id: str, at: str, *, email: bool) -> bool: ...
    def mark_failed(self, notification_id: str, reason: str, at: str, *, from_states: Iterable[State]) -> bool: ...
    def mark_delivered(self, notification_id: str, at: str) -> bool: ...
    def release(self, notification_id: str) -> None: ...
    def get(self, notification_id: str) -> Notification | None: ...
    def by_message_id(self, message_id: str) -> Notification | None: ...
    def list_for_user(
        self, user_id: str, *, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Notification], dict[str, Any] | None]: ...


class EmailSender(Protocol):
    def send(self, email: OutgoingEmail) -> str: ...


class TextSender(Protocol):
    def send_sms(self, phone: str, text: str, *, transactional: bool) -> str: ...
    def send_push(self, endpoint_arn: str, text: str) -> str: ...


class DeviceRegistry(Protocol):
    @property
    def enabled(self) -> bool: ...
    def register(self, token: str, user_id: str) -> str: ...
    def remove(self, endpoint_arn: str) -> None: ...


@dataclass
class Outbox:
    """The providers and the settings a send needs: the unsubscribe secret is read on first use only."""

    email: EmailSender
    text: TextSender
    push_enabled: bool
    secret: Callable[[], bytes]
    public_url: str
    lease_s: int = LEASE_S

    def unsubscribe_url(self, user_id: str, channel: Channel, kind: Kind) -> str:
        token = sign_token(self.secret(), UnsubscribeToken(user_id, channel, kind))
        return f"{self.public_url.rstrip('/')}{UNSUBSCRIBE_PATH}?token={quote(token)}"


@dataclass(frozen=True)
class Source:
    """The event a message answers: its id (the log's ``sourceEventId``), type, time and correlation id."""

    event_id: str
    event_type: str
    time: str = ""
    correlation_id: str = ""

    def age_s(self, now: datetime) -> float:
        when = _parse(self.time)
        return (now - when).total_seconds() if when else 0.0


@dataclass
class Outcome:
    """What a use case did, for the logs and the tests: the notification ids by state."""

    by_state: dict[str, list[str]] = field(default_factory=dict)

    def add(self, state: str, notification_id: str) -> None:
        self.by_state.setdefault(state, []).append(notification_id)

    def count(self, state: str) -> int:
        return len(self.by_state.get(state, []))


Renderer = Callable[[Channel], Rendered]


# -- sending -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Message:
    source: Source
    user_id: str
    kind: Kind
    campaign_id: str | None = None
    dedupe_key: str | None = None  # what the notification id derives from (the event id unless said)

    def notification(self, channel: Channel, state: State, now: str, **fields: Any) -> Notification:
        return Notification(
            notification_id=notification_id(self.dedupe_key or self.source.event_id, self.user_id, channel),
            user_id=self.user_id,
            channel=channel,
            kind=self.kind,
            source_event_id=self.source.event_id,
            source_type=self.source.event_type,
            subject=fields.pop("subject", ""),
            state=state,
            created_at=now,
            updated_at=now,
            campaign_id=self.campaign_id,
            correlation_id=self.source.correlation_id,
            **fields,
        )


def _deliver(
    message: _Message,
    decision: Decision,
    renderer: Renderer,
    store: NotificationStore,
    outbox: Outbox,
    clock: Clock,
    outcome: Outcome,
    busy: list[NotificationInProgress],
) -> None:
    """One channel of one message, from its decision to its settled log item (see the module's docstring)."""
    now = clock()
    stamp = iso(now)
    if not decision.sends:
        failed_at = stamp if decision.state is State.FAILED else None
        n = message.notification(decision.channel, decision.state, stamp, reason=decision.reason, failed_at=failed_at)
        store.record(n)
        outcome.add(decision.state.value, n.notification_id)
        return
    try:
        rendered = renderer(decision.channel)
    except CampaignTemplateError as exc:
        n = message.notification(decision.channel, State.FAILED, stamp, reason=exc.reason, failed_at=stamp)
        store.record(n)
        outcome.add(State.FAILED.value, n.notification_id)
        return
    now_s = int(now.timestamp())
    n = message.notification(
        decision.channel,
        State.SENDING,
        stamp,
        subject=rendered.subject,
        address=decision.address,
        lease_until=now_s + outbox.lease_s,
    )
    claim = store.claim(n, now_s)
    if claim.outcome is Claim.DONE:
        outcome.add("done-before", n.notification_id)
        return
    if claim.outcome is Claim.BUSY:
        busy.append(NotificationInProgress(n.notification_id, claim.lease_until))
        return
    try:
        message_id = _send(message, n, rendered, store, outbox)
    except PermanentRefusal as refusal:
        store.mark_failed(n.notification_id, refusal.reason, iso(clock()), from_states=[State.SENDING])
        outcome.add(State.FAILED.value, n.notification_id)
        return
    except BaseException:
        store.release(n.notification_id)  # the retry takes it over at once
        raise
    store.mark_sent(n.notification_id, message_id, iso(clock()), email=decision.channel is Channel.EMAIL)
    outcome.add(State.SENT.value, n.notification_id)


def _send(message: _Message, n: Notification, rendered: Rendered, store: NotificationStore, outbox: Outbox) -> str:
    """Hand the message to its provider; the provider's message id."""
    address = n.address or ""
    if n.channel is Channel.EMAIL:
        headers: dict[str, str] = {}
        if message.kind is Kind.MARKETING:
            url = outbox.unsubscribe_url(message.user_id, Channel.EMAIL, Kind.MARKETING)
            headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        tags = {"notificationId": n.notification_id, "kind": message.kind.value}
        if message.campaign_id:
            tags["campaignId"] = message.campaign_id
        email = OutgoingEmail(address, rendered.subject, rendered.text, rendered.html, headers, tags)
        return outbox.email.send(email)
    if n.channel is Channel.SMS:
        return outbox.text.send_sms(address, rendered.text, transactional=message.kind is not Kind.MARKETING)
    return _send_push(message.user_id, address.split(), rendered.text, store, outbox)


def _send_push(user_id: str, endpoints: Sequence[str], text: str, store: NotificationStore, outbox: Outbox) -> str:
    """Push to each of the user's devices; the first accepted message's id. Endpoints SNS has disabled (the app was
    uninstalled, the token expired) are marked so and skipped from then on; none accepting is a permanent refusal."""
    accepted: list[str] = []
    disabled: list[str] = []
    for endpoint in endpoints:
        try:
            accepted.append(outbox.text.send_push(endpoint, text))
        except PermanentRefusal:
            disabled.append(endpoint)
    if disabled:

        def disable(devices: dict[str, Any]) -> None:
            for device in devices.values():
                if device.get("endpointArn") in disabled:
                    device["enabled"] = False

        store.change_devices(user_id, disable)
    if not accepted:
        raise PermanentRefusal("endpoint-disabled")
    return accepted[0]


def _finish(outcome: Outcome, busy: list[NotificationInProgress]) -> Outcome:
    if busy:
        raise busy[0]  # comes back when that claim's lease ends; the settled ones are not sent again
    return outcome


def _recipient(user_id: str, found: Recipients, suppressed: set[str]) -> Recipient:
    contact = found.contacts.get(user_id)
    email = (contact.email or "").strip().lower() if contact else ""
    return Recipient(
        user_id=user_id,
        contact=contact,
        preferences=found.preferences.get(user_id) or Preferences(user_id),
        devices=found.devices.get(user_id, ()),
        email_suppressed=bool(email) and email in suppressed,
    )


# -- customers' messages: orders, payments, support ------------------------------------------------------------------
@dataclass(frozen=True)
class NotifyCustomer:
    """Tell a customer about something that happened to them (a transactional kind), with the shop's template."""

    source: Source
    user_id: str | None
    kind: Kind
    template: str
    context: dict[str, Any]
    order_id: str | None = None  # to find the customer when the event does not name them


def notify_customer(
    cmd: NotifyCustomer, store: NotificationStore, outbox: Outbox, *, clock: Clock = utc_now
) -> Outcome:
    now = clock()
    user_id = cmd.user_id or (store.order_owner(cmd.order_id) if cmd.order_id else None)
    if not user_id:
        if cmd.source.age_s(now) < CONTACT_WAIT_S:
            raise RecipientNotReady(f"no customer known yet for order {cmd.order_id}")
        return Outcome({"no-recipient": [cmd.order_id or ""]})
    found = store.recipients([user_id], with_devices=True)
    contact = found.contacts.get(user_id)
    if contact is None and cmd.source.age_s(now) < CONTACT_WAIT_S:
        raise RecipientNotReady(f"no contact known yet for user {user_id}")
    suppressed = store.suppressed([contact.email]) if contact and contact.email else set()
    recipient = _recipient(user_id, found, suppressed)
    context = {
        **cmd.context,
        "name": contact.name if contact else "",
        "first_name": contact.first_name if contact else "",
    }
    message = _Message(cmd.source, user_id, cmd.kind)
    outcome, busy = Outcome(), list[NotificationInProgress]()
    for decision in plan(cmd.kind, recipient, push_enabled=outbox.push_enabled):
        _deliver(message, decision, lambda ch: render(cmd.template, ch, context), store, outbox, clock, outcome, busy)
    return _finish(outcome, busy)


# -- alerts to the shop's admins -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertAdmins:
    source: Source
    template: str
    context: dict[str, Any]
    # The shop's operations addresses (the template's AlertEmails), alerted beside the admins: the first admin of a
    # shop is made in the user pool by its operator, so no role change ever told this service about them.
    also_to: tuple[str, ...] = ()


ALERT_ADDRESS_PREFIX = "alerts:"  # the log's "user" for an operations address: no account's id looks like it


def alert_admins(cmd: AlertAdmins, store: NotificationStore, outbox: Outbox, *, clock: Clock = utc_now) -> Outcome:
    """Email every admin (from auth's role changes) and every operations address with the alert; an admin with no
    email known is failed."""
    known = store.admins()
    emails = {email.lower() for _, email in known if email}
    extra = [(ALERT_ADDRESS_PREFIX + e.lower(), e.lower()) for e in cmd.also_to if e and e.lower() not in emails]
    admins = [*known, *dict.fromkeys(extra)]
    found = store.recipients([user_id for user_id, _ in admins], with_devices=False)
    contacts = dict(found.contacts)
    for user_id, email in admins:
        if email and (user_id not in contacts or not contacts[user_id].email):
            contacts[user_id] = Contact(user_id, email=email)
    found = replace(found, contacts=contacts)
    suppressed = store.suppressed(c.email for c in contacts.values() if c.email)
    outcome, busy = Outcome(), list[NotificationInProgress]()
    for user_id, _ in admins:
        recipient = _recipient(user_id, found, suppressed)
        contact = recipient.contact
        context = {
            **cmd.context,
            "name": contact.name if contact else "",
            "first_name": contact.first_name if contact else "",
        }
        message = _Message(cmd.source, user_id, Kind.ALERTS)

        def renderer(channel: Channel, context: dict[str, Any] = context) -> Rendered:
            return render(cmd.template, channel, context)

        for decision in plan(Kind.ALERTS, recipient, push_enabled=outbox.push_enabled):
            _deliver(message, decision, renderer, store, outbox, clock, outcome, busy)
    return _finish(outcome, busy)


# -- campaigns -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendCampaignBatch:
    source: Source
    campaign_id: str
    batch_id: str
    subject: str
    body: str
    discount_code: str | None
    channels: tuple[Channel, ...]
    recipients: tuple[str, ...]


def send_campaign_batch(
    cmd: SendCampaignBatch, store: NotificationStore, outbox: Outbox, *, clock: Clock = utc_now
) -> Outcome:
    """Every recipient and campaign channel of one batch ends sent, suppressed or failed. Contacts, preferences,
    devices and suppressed addresses for the whole batch are read in a few BatchGetItem calls. A recipient gets a
    campaign at most once per channel, however often its batch is delivered (the id derives from the campaign)."""
    template: CampaignTemplate | None = None
    template_error: CampaignTemplateError | None = None
    try:
        template = compile_campaign(cmd.subject, cmd.body)
    except CampaignTemplateError as exc:
        template_error = exc
    found = store.recipients(cmd.recipients, with_devices=Channel.PUSH in cmd.channels)
    emails = [c.email for c in found.contacts.values() if c.email] if Channel.EMAIL in cmd.channels else []
    suppressed = store.suppressed(emails) if emails else set()
    outcome, busy = Outcome(), list[NotificationInProgress]()
    for user_id in dict.fromkeys(cmd.recipients):
        recipient = _recipient(user_id, found, suppressed)
        contact = recipient.contact
        variables = campaign_variables(contact.name if contact else None, cmd.discount_code)

        def renderer(channel: Channel, user_id: str = user_id, variables: dict[str, str] = variables) -> Rendered:
            if template is None:
                raise template_error or CampaignTemplateError("template-syntax")
            url = outbox.unsubscribe_url(user_id, channel, Kind.MARKETING) if channel is Channel.EMAIL else None
            return render_campaign(template, channel, variables, url)

        message = _Message(
            cmd.source, user_id, Kind.MARKETING, cmd.campaign_id, dedupe_key=f"campaign#{cmd.campaign_id}"
        )
        decisions = plan(Kind.MARKETING, recipient, campaign_channels=cmd.channels, push_enabled=outbox.push_enabled)
        for decision in decisions:
            _deliver(message, decision, renderer, store, outbox, clock, outcome, busy)
    return _finish(outcome, busy)


# -- what auth tells: contacts and admins ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordContact:
    contact: Contact


def record_contact(cmd: RecordContact, store: NotificationStore) -> bool:
    """Keep the newest contact (an older event arriving late changes nothing)."""
    return store.save_contact(cmd.contact)


@dataclass(frozen=True)
class RecordRoles:
    user_id: str
    email: str | None
    roles: tuple[str, ...]
    changed_at: str


def record_roles(cmd: RecordRoles, store: NotificationStore) -> bool:
    return store.set_admin(cmd.user_id, cmd.email, "admin" in cmd.roles, cmd.changed_at)


# -- SES feedback ----------------------------------------------------------------------------------------------------
class FeedbackTooEarly(RuntimeError):
    """Feedback for a message whose send is not recorded yet (it arrived before ``sent`` was written): later."""


@dataclass(frozen=True)
class Feedback:
    """What SES said of a sent email: ``Delivery``, ``Bounce`` (with its type), ``Complaint`` or ``Reject``."""

    event_type: str
    message_id: str
    notification_id: str | None
    bounce_type: str | None
    recipients: tuple[str, ...]
    at: str


def apply_feedback(cmd: Feedback, store: NotificationStore, *, clock: Clock = utc_now) -> str:
    """Move the message on (delivered, or failed); a hard bounce or a complaint suppresses the address, so every
    later email to it is ``suppressed`` (``address-suppressed``). What happened, for the log."""
    n = store.get(cmd.notification_id) if cmd.notification_id else None
    if n is None:
        n = store.by_message_id(cmd.message_id)
    if n is None:
        return "unknown-message"
    if n.state is State.SENDING:
        raise FeedbackTooEarly(f"{n.notification_id} is not recorded as sent yet")
    at = cmd.at or iso(clock())
    kind = cmd.event_type.lower()
    if kind == "delivery":
        return "delivered" if store.mark_delivered(n.notification_id, at) else "no-change"
    if kind == "bounce" and (cmd.bounce_type or "").lower() != "permanent":
        return "soft-bounce"  # SES retried and gave up for now; the message stays sent
    reason = {"bounce": "bounced", "complaint": "complaint", "reject": "rejected"}.get(kind)
    if reason is None:
        return "ignored"
    changed = store.mark_failed(n.notification_id, reason, at, from_states=[State.SENT, State.DELIVERED])
    if kind in ("bounce", "complaint"):
        for address in cmd.recipients or ((n.address,) if n.address else ()):
            store.suppress_address(address, reason, at, n.notification_id)
    return reason if changed else "no-change"


# -- the customer's routes -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpdatePreferences:
    user_id: str
    channels: dict[Kind, list[Channel]] | None = None
    marketing_consent: bool | None = None
    consent_source: str | None = None


def update_preferences(
    cmd: UpdatePreferences, store: NotificationStore, *, clock: Clock = utc_now, attempts: int = 3
) -> Preferences:
    """Change the kinds named and the marketing consent; read again and retry when another write came between."""
    for attempt in range(attempts):
        now = iso(clock())
        prefs = store.preferences(cmd.user_id)
        changed = prefs
        if cmd.channels:
            changed = changed.with_channels(cmd.channels, now)
        if cmd.marketing_consent is not None:
            changed = changed.with_consent(cmd.marketing_consent, cmd.consent_source or "preferences", now)
            if (
                cmd.marketing_consent
                and not changed.channels_for(Kind.MARKETING)
                and not (cmd.channels or {}).get(Kind.MARKETING)
            ):
                changed = changed.with_channels({Kind.MARKETING: [Channel.EMAIL]}, now)
        if changed == prefs:
            return prefs
        try:
            return store.save_preferences(changed)
        except StalePreferences:
            if attempt == attempts - 1:
                raise
    raise StalePreferences("The preferences changed meanwhile; read them again.")  # pragma: no cover


@dataclass(frozen=True)
class UnsubscribeAnswer:
    channel: Channel
    kind: Kind
    subscribed: bool
    changed: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel.value,
            "kind": self.kind.value,
            "subscribed": self.subscribed,
            "changed": self.changed,
        }


def preview_unsubscribe(token_text: str, secret: bytes, store: NotificationStore) -> UnsubscribeAnswer:
    """What the link would do, changing nothing (mail scanners follow links)."""
    token = verify_token(secret, token_text)
    prefs = store.preferences(token.user_id)
    return UnsubscribeAnswer(token.channel, token.kind, prefs.receives(token.channel, token.kind), False)


def unsubscribe(
    token_text: str, secret: bytes, store: NotificationStore, *, source: str, clock: Clock = utc_now
) -> UnsubscribeAnswer:
    """Take the token's channel off its kind (for marketing email: withdraw consent for email). A repeat is the same
    answer and changes nothing."""
    token = verify_token(secret, token_text)
    for attempt in range(3):
        prefs = store.preferences(token.user_id)
        changed = prefs.unsubscribed(token.channel, token.kind, source, iso(clock()))
        if changed == prefs:
            return UnsubscribeAnswer(token.channel, token.kind, prefs.receives(token.channel, token.kind), False)
        try:
            saved = store.save_preferences(changed)
        except StalePreferences:
            if attempt == 2:
                raise
            continue
        return UnsubscribeAnswer(token.channel, token.kind, saved.receives(token.channel, token.kind), True)
    raise StalePreferences("The preferences changed meanwhile; try again.")  # pragma: no cover


@dataclass(frozen=True)
class RegisterDevice:
    user_id: str
    device_id: str
    platform: Platform
    token: str


def register_device(
    cmd: RegisterDevice, store: NotificationStore, registry: DeviceRegistry, *, clock: Clock = utc_now
) -> Device:
    """Make (or take over) the SNS endpoint for the token and keep it as the device; a device registered again with
    a new token drops its old endpoint."""
    if not registry.enabled:
        raise PushNotConfigured("Push notifications are not configured for this shop.")
    existing = {d.device_id: d for d in store.devices(cmd.user_id)}
    if cmd.device_id not in existing and len(existing) >= MAX_DEVICES:
        raise TooManyDevices(f"At most {MAX_DEVICES} devices; remove one first.", limit=MAX_DEVICES)
    endpoint = registry.register(cmd.token, cmd.user_id)
    device = Device(cmd.device_id, cmd.platform, cmd.token, endpoint, iso(clock()), True)
    replaced: list[str] = []

    def put(devices: dict[str, Any]) -> None:
        old = devices.get(cmd.device_id)
        if old and old.get("endpointArn") != endpoint:
            replaced.append(str(old["endpointArn"]))
        if cmd.device_id not in devices and len(devices) >= MAX_DEVICES:
            raise TooManyDevices(f"At most {MAX_DEVICES} devices; remove one first.", limit=MAX_DEVICES)
        devices[cmd.device_id] = {
            "platform": device.platform.value,
            "token": device.token,
            "endpointArn": device.endpoint_arn,
            "registeredAt": device.registered_at,
            "enabled": True,
        }

    store.change_devices(cmd.user_id, put)
    for arn in replaced:
        _forget_endpoint(registry, arn)
    return device


@dataclass(frozen=True)
class RemoveDevice:
    user_id: str
    device_id: str


def remove_device(cmd: RemoveDevice, store: NotificationStore, registry: DeviceRegistry) -> bool:
    """Forget the device and delete its endpoint; ``False`` when there was no such device (nothing to do)."""
    removed: list[dict[str, Any]] = []

    def drop(devices: dict[str, Any]) -> None:
        if cmd.device_id in devices:
            removed.append(devices.pop(cmd.device_id))

    if not any(d.device_id == cmd.device_id for d in store.devices(cmd.user_id)):
        return False
    store.change_devices(cmd.user_id, drop)
    for device in removed:
        _forget_endpoint(registry, str(device.get("endpointArn") or ""))
    return bool(removed)


def _forget_endpoint(registry: DeviceRegistry, arn: str) -> None:
    """Best effort: an endpoint left behind is disabled by SNS when its token dies, and no device points at it."""
    if not arn or not registry.enabled:
        return
    with contextlib.suppress(ProviderUnavailable, PermanentRefusal):
        registry.remove(arn)
