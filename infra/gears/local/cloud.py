"""The embedded local cloud: a moto server in its own process, with Cognito's e-mail behaviour filled in.

moto's Cognito accepts any confirmation code and sends no mail. Here sign-up and forgotten-password requests
make a real six-digit code, "send" it by writing the message to the local mailbox (a JSON-lines file, the same
one the notification path's SES mail lands in), and confirmation checks it, as Cognito does. Three more gaps
are closed the way Cognito behaves (see :func:`patch_cognito`): sign-out by an admin revokes the user's tokens
whatever name the admin gave the user by, a deleted user's tokens stop working, and repeated wrong passwords lock
the account out for a growing time.

Every other outgoing message lands in the same mailbox (see :func:`patch_channels`): SES v1 and v2 e-mail, plain
and raw (MIME), SNS SMS and SNS mobile push; and an e-mail sent with a configuration set that has an SNS event
destination gets the feedback SES would publish there, with the meaning of SES's mailbox simulator. Everything
else is moto as it is (moto keeps its own record of every message too).

Run as ``python -m gears.local.cloud --port 4566 --mailbox .gears/mailbox.jsonl``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email
import email.policy
import html as html_lib
import inspect
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any


class Mailbox:
    """The local mailbox: one JSON object per line.

    ``time, to, from, subject, body, via`` and ``channel`` ("email", "sms" or "push"), ``html`` (or None),
    ``headers`` ({name: value}), ``messageId`` (what the provider answered, or None) and ``tags`` ({name: value}).
    An SMS is addressed to the phone number, a push message to the platform endpoint's ARN."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def deliver(
        self,
        to: list[str],
        subject: str,
        body: str,
        *,
        sender: str,
        via: str,
        channel: str = "email",
        html: str | None = None,
        headers: dict[str, str] | None = None,
        message_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "to": to,
            "from": sender,
            "subject": subject,
            "body": body,
            "via": via,
            "channel": channel,
            "html": html,
            "headers": headers or {},
            "messageId": message_id,
            "tags": tags or {},
        }
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def read_mailbox(path: Path, to: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
    """Every message in the mailbox, oldest first, optionally only those sent to ``to`` (an address, a phone number
    or an endpoint ARN) and only those of one ``channel``. A line written before channels existed is e-mail."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            msg = json.loads(line)
            if to is not None and to.lower() not in [t.lower() for t in msg.get("to", [])]:
                continue
            if channel is not None and msg.get("channel", "email") != channel:
                continue
            out.append(msg)
    return out


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


# Cognito's lockout for failed password sign-ins ("Lockout behavior for failed sign-in attempts", Cognito developer
# guide): after n >= 5 consecutive wrong passwords the user is locked out for 2^(n-5) seconds, at most about 15
# minutes; attempts during a lockout answer NotAuthorizedException "Password attempts exceeded" and do not count; a
# successful sign-in, or 15 minutes without any attempt, starts the count again.
LOCKOUT_FREE_ATTEMPTS = 5
LOCKOUT_MAX_S = 15 * 60
LOCKOUT_IDLE_RESET_S = 15 * 60
LOCKOUT_MESSAGE = "Password attempts exceeded"
PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})


@dataclass
class _Lockout:
    failures: int = 0
    locked_until: float = 0.0
    last_attempt: float = 0.0


def patch_cognito(mailbox: Mailbox, clock: Callable[[], float] = time.time) -> None:
    """Make moto's Cognito behave as Cognito does where Gears relies on it.

    - Real confirmation and reset codes, delivered to the mailbox and checked; a user is confirmed once (moto
      confirmed a confirmed user again, with any code).
    - ``AdminUserGlobalSignOut`` revokes the user's refresh tokens (and access tokens, for Cognito's own APIs such
      as ``GetUser`` and ``GlobalSignOut``) whatever username the caller names the user by: moto only revokes
      tokens issued under the very same string, so signing out by ``sub`` a user who signed in by email revoked
      nothing.
    - ``AdminDeleteUser`` revokes the user's tokens: moto kept them and failed with an internal error on refresh.
    - Account lockout for repeated wrong passwords, as described above :data:`LOCKOUT_FREE_ATTEMPTS`; moto has
      none.
    """
    _patch_codes(mailbox)
    _patch_revocation()
    _patch_lockout(clock)


def _patch_codes(mailbox: Mailbox) -> None:  # noqa: C901 - four small patches; the branches are theirs
    """Confirmation and reset codes: made, mailed and checked; a sign-up confirmed once."""
    from moto.cognitoidp import responses
    from moto.cognitoidp.exceptions import CodeMismatchException, NotAuthorizedError
    from moto.cognitoidp.models import RegionAgnosticBackend

    cls = responses.CognitoIdpResponse
    original_sign_up = cls.sign_up
    original_confirm = cls.confirm_sign_up
    original_forgot = cls.forgot_password
    original_confirm_forgot = cls.confirm_forgot_password

    def pool_and_user(self: Any, client_id: str, username: str) -> tuple[Any, Any]:
        backend = RegionAgnosticBackend(self.current_account, self.region)._find_backend_for_clientid(client_id)
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return pool, pool._get_user(username)
        return None, None

    def send_code(pool: Any, user: Any, code: str, purpose: str) -> None:
        email = user.attribute_lookup.get("email")
        if not email:
            return
        template = pool.extended_config.get("VerificationMessageTemplate") or {}
        if purpose == "signup":
            subject = template.get("EmailSubject") or "Your verification code"
            body = (template.get("EmailMessage") or "Your verification code is {####}").replace("{####}", code)
        else:
            subject = "Your password reset code"
            body = f"Your password reset code is {code}"
        mailbox.deliver([email], subject, body, sender="no-reply@verificationemail.com", via="cognito")

    def sign_up(self: Any) -> Any:
        result = original_sign_up(self)
        pool, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        if user is not None:
            user.confirmation_code = _new_code()
            send_code(pool, user, user.confirmation_code, "signup")
        return result

    def confirm_sign_up(self: Any) -> Any:
        _, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        if user is not None and user.status != "UNCONFIRMED":
            # Cognito confirms a sign-up once; moto confirmed a confirmed user again, whatever the code.
            raise NotAuthorizedError(f"User cannot be confirmed. Current status is {user.status}")
        code = getattr(user, "confirmation_code", None) if user is not None else None
        if code and self._get_param("ConfirmationCode") != code:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        result = original_confirm(self)
        if user is not None:
            user.confirmation_code = None
        return result

    def forgot_password(self: Any) -> Any:
        result = original_forgot(self)
        pool, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        self.response_headers.pop("x-moto-forgot-password-confirmation-code", None)
        if user is not None:
            user.confirmation_code = _new_code()
            send_code(pool, user, user.confirmation_code, "reset")
        return result

    def confirm_forgot_password(self: Any) -> Any:
        pool, user = pool_and_user(self, self._get_param("ClientId"), self._get_param("Username"))
        # An unknown user gets the wrong-code answer, as Cognito gives it with PreventUserExistenceErrors (moto
        # answered ResourceNotFoundException, as if the app client did not exist).
        if pool is not None and user is None:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        if user is not None and self._get_param("ConfirmationCode") != getattr(user, "confirmation_code", None):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        return original_confirm_forgot(self)

    cls.sign_up = sign_up  # type: ignore[method-assign]
    cls.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign]
    cls.forgot_password = forgot_password  # type: ignore[method-assign]
    cls.confirm_forgot_password = confirm_forgot_password  # type: ignore[method-assign]


def _patch_revocation() -> None:
    """Global sign-out and deletion revoke the user's tokens, by whatever name the user is given."""
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool

    def sign_out(pool: Any, username: str) -> None:
        target = pool._get_user(username)
        if target is None:
            return original_sign_out(pool, username)

        def same_user(name: str) -> bool:
            return name == username or pool._get_user(name) is target

        for token, issued in list(pool.refresh_tokens.items()):
            if issued is not None and same_user(issued[1]):
                pool.refresh_tokens[token] = None
        for token, (_, name) in list(pool.access_tokens.items()):
            if same_user(name):
                pool.access_tokens.pop(token)
        return None

    def admin_delete_user(backend: Any, user_pool_id: str, username: str) -> None:
        pool = backend.describe_user_pool(user_pool_id)
        if pool._get_user(username) is not None:
            pool.sign_out(username)
        return original_delete(backend, user_pool_id, username)

    original_sign_out = CognitoIdpUserPool.sign_out
    original_delete = CognitoIdpBackend.admin_delete_user
    CognitoIdpUserPool.sign_out = sign_out  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.admin_delete_user = admin_delete_user  # type: ignore[method-assign,assignment]


def _patch_lockout(clock: Callable[[], float]) -> None:  # noqa: C901 - the patches' closures count here
    """Account lockout after repeated wrong passwords (see :data:`LOCKOUT_FREE_ATTEMPTS`)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    lockout_lock = threading.Lock()

    def guarded(pool: Any, auth_flow: str, params: dict[str, str] | None, attempt: Callable[[], Any]) -> Any:
        params = params or {}
        user = pool._get_user(params.get("USERNAME", "")) if pool is not None and auth_flow in PASSWORD_FLOWS else None
        if user is None:
            return attempt()
        now = clock()
        with lockout_lock:
            # Kept on the user itself: it goes with the account, and a deleted account's count with it.
            state = user.__dict__.setdefault("_gears_lockout", _Lockout())
            if state.failures and now - state.last_attempt >= LOCKOUT_IDLE_RESET_S:
                state.failures, state.locked_until = 0, 0.0
            state.last_attempt = now
            if now < state.locked_until:
                raise NotAuthorizedError(LOCKOUT_MESSAGE)
        wrong_password = user.enabled and params.get("PASSWORD") != user.password
        try:
            result = attempt()
        except NotAuthorizedError:
            if wrong_password:
                with lockout_lock:
                    state.failures += 1
                    if state.failures >= LOCKOUT_FREE_ATTEMPTS:
                        state.locked_until = now + min(2 ** (state.failures - LOCKOUT_FREE_ATTEMPTS), LOCKOUT_MAX_S)
            raise
        with lockout_lock:
            state.failures, state.locked_until = 0, 0.0
        return result

    def pool_of_client(backend: Any, client_id: str) -> Any:
        return next((p for p in backend.user_pools.values() if client_id in p.clients), None)

    def initiate_auth(backend: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        return guarded(
            pool_of_client(backend, client_id),
            auth_flow,
            auth_parameters,
            lambda: original_initiate(backend, client_id, auth_flow, auth_parameters),
        )

    def admin_initiate_auth(
        backend: Any, user_pool_id: str, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> Any:
        return guarded(
            backend.user_pools.get(user_pool_id),
            auth_flow,
            auth_parameters,
            lambda: original_admin_initiate(backend, user_pool_id, client_id, auth_flow, auth_parameters),
        )

    original_initiate = CognitoIdpBackend.initiate_auth
    original_admin_initiate = CognitoIdpBackend.admin_initiate_auth
    CognitoIdpBackend.initiate_auth = initiate_auth  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.admin_initiate_auth = admin_initiate_auth  # type: ignore[method-assign,assignment]


# -- outgoing messages: SES e-mail, SNS SMS and mobile push, SES feedback -----------------------------------------

# SES's mailbox simulator (SES developer guide, "Using the mailbox simulator"): mail to these local parts at this
# domain bounces, complains or lands on the suppression list; a "+label" suffix keeps the meaning.
SIMULATOR_DOMAIN = "simulator.amazonses.com"
# How long after a send its feedback reaches the event destination's topic in the local cloud: SES publishes it
# seconds later, never inside the send; the sender has stored the message id by then (and a consumer must cope).
FEEDBACK_DELAY_S = 1.0
# Headers a letter's own fields already carry: the mailbox's ``headers`` keeps the others (List-Unsubscribe ...).
_ENVELOPE_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "mime-version", "content-type", "content-transfer-encoding"}
)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Letter:
    """An e-mail as SES accepted it: what the mailbox shows and feedback needs."""

    sender: str
    to: list[str]
    subject: str
    text: str | None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    configuration_set: str | None = None

    @property
    def body(self) -> str:
        """The text part; for an HTML-only letter, the HTML's text."""
        if self.text is not None:
            return self.text
        return html_lib.unescape(_TAG.sub("", self.html or "")).strip()


def plain_addresses(values: list[str]) -> list[str]:
    """``Name <a@b>`` and ``a@b, c@d`` as the bare addresses, each once, in order."""
    out: list[str] = []
    for _, address in getaddresses(values):
        if address and address not in out:
            out.append(address)
    return out


def _mime(raw: str | bytes) -> Any:
    # moto hands a raw message over decoded as UTF-8: its bytes again, so that 8bit parts decode as they were sent
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    return email.message_from_bytes(data, policy=email.policy.default)


def parse_mime(raw: str | bytes) -> tuple[str, str | None, str | None, dict[str, str]]:
    """A raw MIME message's subject, text part, HTML part and its other headers, decoded."""
    message = _mime(raw)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    headers = {str(k): str(v) for k, v in message.items() if k.lower() not in _ENVELOPE_HEADERS}
    return (
        str(message.get("Subject", "")),
        text_part.get_content() if text_part is not None else None,
        html_part.get_content() if html_part is not None else None,
        headers,
    )


def raw_letter(raw: str | bytes, source: str | None, destinations: list[str]) -> Letter:
    """A raw send as a letter: recipients from the call and the To/Cc/Bcc headers, sender from the call or From."""
    subject, text, html, headers = parse_mime(raw)
    message = _mime(raw)
    in_headers = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    sender = source or str(message.get("From", ""))
    return Letter(
        parseaddr(sender)[1] or sender, plain_addresses([*destinations, *in_headers]), subject, text, html, headers
    )


def simulator_outcome(address: str) -> str:
    """What SES's mailbox simulator makes of mail to ``address``: "Bounce" (bounce@, and suppressionlist@: the
    address is on SES's suppression list), "Complaint" (complaint@: delivered, then complained about) or, for any
    other address, "Delivery"."""
    local, _, domain = parseaddr(address)[1].rpartition("@")
    if domain.lower() != SIMULATOR_DOMAIN:
        return "Delivery"
    base = local.split("+", 1)[0].lower()
    return {"bounce": "Bounce", "suppressionlist": "Bounce", "complaint": "Complaint"}.get(base, "Delivery")


def _iso_ms(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def ses_events(
    letter: Letter,
    message_id: str,
    *,
    account: str,
    region: str,
    event_types: set[str],
    sent_at: float,
) -> list[dict[str, Any]]:
    """The events SES publishes to a configuration set's event destination for one send, in the order it publishes
    them (the shape of "Examples of event data that Amazon SES publishes to Amazon SNS"): ``Send`` once, then per
    recipient ``Delivery``, ``Bounce`` (Permanent) or ``Delivery`` and ``Complaint`` as :func:`simulator_outcome`
    says; only the types in ``event_types`` (lower case, as the destination's MatchingEventTypes)."""
    domain = letter.sender.rpartition("@")[2]
    tags: dict[str, list[str]] = {
        "ses:configuration-set": [letter.configuration_set or ""],
        "ses:source-ip": ["127.0.0.1"],
        "ses:from-domain": [domain],
        "ses:caller-identity": ["local"],
        **{name: [value] for name, value in letter.tags.items()},
    }
    headers = [
        {"name": "From", "value": letter.sender},
        {"name": "To", "value": ", ".join(letter.to)},
        {"name": "Subject", "value": letter.subject},
        *({"name": k, "value": v} for k, v in letter.headers.items()),
    ]
    mail = {
        "timestamp": _iso_ms(sent_at),
        "source": letter.sender,
        "sourceArn": f"arn:aws:ses:{region}:{account}:identity/{letter.sender}",
        "sendingAccountId": account,
        "messageId": message_id,
        "destination": list(letter.to),
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": [letter.sender],
            "to": list(letter.to),
            "messageId": message_id,
            "subject": letter.subject,
        },
        "tags": tags,
    }
    later = _iso_ms(sent_at + 0.5)
    events: list[dict[str, Any]] = [{"eventType": "Send", "mail": mail, "send": {}}]
    for recipient in letter.to:
        outcome = simulator_outcome(recipient)
        if outcome in ("Delivery", "Complaint"):
            events.append(
                {
                    "eventType": "Delivery",
                    "mail": mail,
                    "delivery": {
                        "timestamp": later,
                        "processingTimeMillis": 500,
                        "recipients": [recipient],
                        "smtpResponse": "250 2.6.0 Message received",
                        "reportingMTA": "a8-local.smtp-out.amazonses.com",
                    },
                }
            )
        if outcome == "Complaint":
            events.append(
                {
                    "eventType": "Complaint",
                    "mail": mail,
                    "complaint": {
                        "complainedRecipients": [{"emailAddress": recipient}],
                        "timestamp": later,
                        "feedbackId": f"local-{uuid.uuid4()}",
                        "userAgent": "Amazon SES Mailbox Simulator",
                        "complaintFeedbackType": "abuse",
                        "arrivalDate": later,
                    },
                }
            )
        if outcome == "Bounce":
            suppressed = parseaddr(recipient)[1].lower().startswith("suppressionlist")
            events.append(
                {
                    "eventType": "Bounce",
                    "mail": mail,
                    "bounce": {
                        "bounceType": "Permanent",
                        "bounceSubType": "OnAccountSuppressionList" if suppressed else "General",
                        "bouncedRecipients": [
                            {
                                "emailAddress": recipient,
                                "action": "failed",
                                "status": "5.1.1",
                                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                            }
                        ],
                        "timestamp": later,
                        "feedbackId": f"local-{uuid.uuid4()}",
                        "reportingMTA": "dsn; a8-local.smtp-out.amazonses.com",
                    },
                }
            )
    return [e for e in events if e["eventType"].lower() in event_types]


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _tag_map(tags: Any) -> dict[str, str]:
    return {str(t.get("Name")): str(t.get("Value", "")) for t in tags or [] if isinstance(t, dict)}


def _attribute(attributes: dict[str, Any] | None, name: str) -> str | None:
    value = (attributes or {}).get(name) or {}
    found = value.get("StringValue", value.get("Value")) if isinstance(value, dict) else value
    return None if found is None else str(found)


def push_text(message: str, structured: bool, platform: str) -> tuple[str, str]:
    """The title and text a device would show for an SNS mobile push ``message``: with ``MessageStructure=json``
    the platform's own payload (else ``default``); an FCM (legacy or v1) or APNs payload's notification title and
    body; any other message as it is."""
    payload: Any = message
    if structured:
        with contextlib.suppress(ValueError):
            whole = json.loads(message)
            if isinstance(whole, dict):
                payload = whole.get(platform, whole.get("default", message))
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return "", payload
    if not isinstance(payload, dict):
        return "", json.dumps(payload)
    note: Any = (
        ((payload.get("fcmV1Message") or {}).get("message") or {}).get("notification")
        or payload.get("notification")
        or (payload.get("aps") or {}).get("alert")
    )
    if isinstance(note, str):
        return "", note
    if isinstance(note, dict) and (note.get("body") or note.get("title")):
        return str(note.get("title") or ""), str(note.get("body") or "")
    return "", json.dumps(payload)


class Channels:
    """Puts what moto's SES and SNS send into the mailbox, and SES's feedback on the event destinations' topics."""

    def __init__(self, mailbox: Mailbox, feedback_delay_s: float = 0.0) -> None:
        self.mailbox = mailbox
        self.feedback_delay_s = feedback_delay_s

    def email(self, letter: Letter, message_id: str, account: str, region: str) -> None:
        self.mailbox.deliver(
            letter.to,
            letter.subject,
            letter.body,
            sender=letter.sender,
            via="ses",
            channel="email",
            html=letter.html,
            headers=letter.headers,
            message_id=message_id,
            tags=letter.tags,
        )
        self.feedback(letter, message_id, account, region)

    def feedback(self, letter: Letter, message_id: str, account: str, region: str) -> None:
        """Publish SES's events for this send to its configuration set's SNS event destination, if it has one and it
        is enabled (CloudFormation's ``Enabled`` defaults to false, and so does SES's)."""
        if not letter.configuration_set:
            return
        from moto.ses.models import ses_backends

        destination = ses_backends[account][region].config_set_event_destination.get(letter.configuration_set)
        topic = ((destination or {}).get("SNSDestination") or {}).get("TopicARN")
        if not destination or not topic or not _flag(destination.get("Enabled")):
            return
        matching = destination.get("MatchingEventTypes") or []
        if isinstance(matching, dict):  # a query-string list that moto left as {"member": [...]}
            matching = matching.get("member") or []
        types = {str(t).lower() for t in ([matching] if isinstance(matching, str) else matching)}
        events = ses_events(letter, message_id, account=account, region=region, event_types=types, sent_at=time.time())
        if not events:
            return
        if self.feedback_delay_s <= 0:
            _publish_feedback(str(topic), events)
        else:
            timer = threading.Timer(self.feedback_delay_s, _publish_feedback, args=(str(topic), events))
            timer.daemon = True
            timer.start()

    def sms(self, phone_number: str, message: str, attributes: dict[str, Any] | None, message_id: str) -> None:
        sender = _attribute(attributes, "AWS.SNS.SMS.SenderID") or "sns"
        self.mailbox.deliver(
            [phone_number], "", message, sender=sender, via="sns", channel="sms", message_id=message_id
        )

    def push(self, endpoint: Any, message: str, structured: bool, message_id: str) -> None:
        application = endpoint.application
        title, text = push_text(message, structured, str(application.platform))
        self.mailbox.deliver(
            [str(endpoint.arn)],
            title,
            text,
            sender=str(application.arn),
            via="sns",
            channel="push",
            message_id=message_id,
        )


def _publish_feedback(topic_arn: str, events: list[dict[str, Any]]) -> None:
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = topic_arn.split(":", 5)
    for event in events:
        try:
            sns_backends[account][region].publish(json.dumps(event), arn=topic_arn)
        except Exception as exc:  # noqa: BLE001 - a topic gone since; SES drops the event too, say so in the log
            print(f"ses feedback to {topic_arn} not published: {exc!r}", file=sys.stderr, flush=True)


def patch_channels(mailbox: Mailbox, feedback_delay_s: float = 0.0) -> Callable[[], None]:  # noqa: C901 - one closure per patched call
    """Put every message moto's SES and SNS send into ``mailbox``, and publish SES's feedback for sends that name a
    configuration set with an SNS event destination (after ``feedback_delay_s``; 0: inside the send, for tests).

    - SES v1 ``SendEmail`` / ``SendRawEmail`` and SES v2 ``SendEmail`` (``Content.Simple`` and ``Content.Raw``):
      channel ``email``; a raw message's MIME gives subject, text, HTML and headers; tags are the EmailTags.
    - SNS ``Publish`` to a ``PhoneNumber``: channel ``sms``, to the number; to a platform endpoint: channel
      ``push``, to the endpoint's ARN (a disabled endpoint's refusal sends nothing, as SNS does).

    Returns what takes the patches off again (tests share one process with other tests of moto)."""
    from moto.ses.models import SESBackend
    from moto.ses.responses import EmailResponse
    from moto.sesv2.responses import SESV2Response
    from moto.sns.models import SNSBackend

    channels = Channels(mailbox, feedback_delay_s)
    sent = threading.local()  # the message moto's SES backend made for the request this thread answers
    undo: list[tuple[Any, str, Any]] = []

    def replace(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        undo.append((owner, name, original))
        setattr(owner, name, make(original))

    def remember(original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            message = original(self, *args, **kwargs)
            sent.message = message
            return message

        return wrapper

    replace(SESBackend, "send_email", remember)
    replace(SESBackend, "send_raw_email", remember)

    def answered(original: Any, letter_of: Callable[[Any, Any], Letter]) -> Any:
        def wrapper(self: Any) -> Any:
            sent.message = None
            result = original(self)
            message, sent.message = sent.message, None
            if message is not None:
                channels.email(letter_of(self, message), str(message.id), self.current_account, self.region)
            return result

        return wrapper

    def v1_simple(response: Any, message: Any) -> Letter:
        destinations = response._get_param("Destination", {}) or {}
        return Letter(
            sender=parseaddr(response._get_param("Source") or "")[1],
            to=plain_addresses(
                [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key) or []]
            ),
            subject=response._get_param("Message.Subject.Data") or "",
            text=response._get_param("Message.Body.Text.Data"),
            html=response._get_param("Message.Body.Html.Data"),
            tags=_tag_map(response._get_param("Tags", [])),
            configuration_set=response._get_param("ConfigurationSetName"),
        )

    def v1_raw(response: Any, message: Any) -> Letter:
        letter = raw_letter(message.raw_data, message.source, list(message.destinations))
        letter.tags = _tag_map(response._get_param("Tags", []))
        letter.configuration_set = response._get_param("ConfigurationSetName")
        return letter

    def v2(response: Any, message: Any) -> Letter:
        params = json.loads(response.body)
        content = params.get("Content") or {}
        destination = params.get("Destination") or {}
        addresses = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destination.get(key) or []]
        if "Raw" in content:
            raw = base64.b64decode(content["Raw"]["Data"])
            letter = raw_letter(raw, params.get("FromEmailAddress"), addresses)
        else:
            simple = content.get("Simple") or {}
            body = simple.get("Body") or {}
            letter = Letter(
                sender=parseaddr(params.get("FromEmailAddress") or "")[1],
                to=plain_addresses(addresses),
                subject=(simple.get("Subject") or {}).get("Data") or "",
                text=(body.get("Text") or {}).get("Data"),
                html=(body.get("Html") or {}).get("Data"),
                headers={str(h["Name"]): str(h["Value"]) for h in simple.get("Headers") or []},
            )
        letter.tags = _tag_map(params.get("EmailTags"))
        letter.configuration_set = params.get("ConfigurationSetName")
        return letter

    replace(EmailResponse, "send_email", lambda original: answered(original, v1_simple))
    replace(EmailResponse, "send_raw_email", lambda original: answered(original, v1_raw))
    replace(SESV2Response, "send_email", lambda original: answered(original, v2))

    def publishing(original: Any) -> Any:
        signature = inspect.signature(original)

        def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
            message_id = original(self, *args, **kwargs)
            call = signature.bind(self, *args, **kwargs)
            call.apply_defaults()
            given = call.arguments
            if given.get("phone_number"):
                channels.sms(given["phone_number"], given["message"], given.get("message_attributes"), message_id)
            elif given.get("arn") in self.platform_endpoints:
                endpoint = self.platform_endpoints[given["arn"]]
                channels.push(endpoint, given["message"], given.get("message_structure") == "json", message_id)
            return message_id

        return publish

    replace(SNSBackend, "publish", publishing)

    def take_off() -> None:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)
        undo.clear()

    return take_off


def speed_up_sqs_clock() -> None:
    """moto's SQS asks the time for every message of a queue on each send and receive, through datetime arithmetic;
    with a few thousand messages waiting that is most of the local cloud's CPU. The same milliseconds, cheaply."""
    from moto.core.utils import unix_time_millis
    from moto.sqs import models

    def now_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    models.unix_time_millis = now_millis


# Threads that answer requests. A long poll holds one while it waits (every SQS poller thread and stream poller of
# the local runtime has one open), so there are enough for all of them and the functions' own calls besides.
SERVER_THREADS = 96


def serve(host: str, port: int, mailbox_path: Path) -> None:
    """Serve moto on ``host:port`` until SIGTERM or the parent process ends.

    The HTTP server is waitress, not the werkzeug development server moto ships with: werkzeug closes every
    connection after one answer and starts a thread per connection, so each AWS call from a function paid for a
    new TCP connection and a new thread (profiled: a third of the cloud's CPU in socket set-up and teardown while
    the start-up events were handled). waitress keeps connections alive and answers from a pool of threads."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from waitress.server import create_server

    from gears.local import chaos, moto_dynamodb, moto_fast

    moto_fast.import_ssm_without_ec2()
    moto_fast.share_cognito_signing_key()
    moto_dynamodb.apply()
    moto_fast.apply()
    chaos.patch_sqs()
    speed_up_sqs_clock()
    mailbox = Mailbox(mailbox_path)
    patch_cognito(mailbox)
    patch_channels(mailbox, FEEDBACK_DELAY_S)
    app = chaos.wsgi(moto_fast.direct(DomainDispatcherApplication(create_backend_app)))
    server = create_server(
        app, host=host, port=port, threads=SERVER_THREADS, connection_limit=1000, channel_timeout=300, ident="moto"
    )

    def stop(*_: Any) -> None:  # the state is in memory only: nothing to flush
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group; the runtime stops us

    def watch_parent(parent: int) -> None:  # never outlive the runtime that started us
        while os.getppid() == parent:
            time.sleep(1)
        stop()

    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()

    def dump_operations() -> None:  # for `make bench`: DynamoDB operations served so far
        target = mailbox_path.parent / "dynamodb-operations.json"
        partitions = mailbox_path.parent / "dynamodb-partitions.json"  # writes per partition key, the busiest
        while True:
            time.sleep(0.5)
            with contextlib.suppress(RuntimeError):  # a writer may be counting right now; next time, then
                target.write_text(json.dumps(dict(moto_dynamodb.OPERATIONS)))
                partitions.write_text(json.dumps(moto_dynamodb.partition_report()))

    threading.Thread(target=dump_operations, daemon=True).start()
    print(f"local cloud listening on http://{host}:{port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


def main() -> None:
    parser = argparse.ArgumentParser(description="Gears' embedded local cloud (moto server)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--mailbox", type=Path, default=Path(".gears/mailbox.jsonl"))
    args = parser.parse_args()
    serve(args.host, args.port, args.mailbox)


if __name__ == "__main__":
    main()
