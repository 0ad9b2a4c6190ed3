"""Accounts in the shop's language: email and password rules, the profile, what an identity provider hands back.

Standard library only: no boto3, PynamoDB, Powertools or ``gears_shared`` here. The rule errors below know nothing
of HTTP; the API's error table says what each answers, and reads their ``title``, ``code`` and ``extra`` by name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar


class InvalidEmail(ValueError):
    """What was given as an email address is not one."""

    title: ClassVar[str] = "Invalid email"
    code: ClassVar[str] = "invalid-email"


class WeakPassword(ValueError):
    """A password breaks the password rules; ``unmet`` lists them, in words a user can act on, when they are known
    (the user pool's own refusal does not say which)."""

    title: ClassVar[str] = "Password too weak"
    code: ClassVar[str] = "weak-password"

    def __init__(self, detail: str, unmet: list[str] | None = None) -> None:
        super().__init__(detail)
        self.unmet = list(unmet or ())
        self.extra: dict[str, Any] = {"unmet": self.unmet} if unmet else {}


EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit, minus the angle brackets
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(raw: str) -> str:
    """The canonical form of an email address (trimmed, lower case); :class:`InvalidEmail` if it is not one.

    The user pool is case-insensitive for usernames, so the profile store and Cognito must see the same form.
    """
    email = raw.strip().lower()
    if not email or len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        raise InvalidEmail("This is not a valid email address.")
    return email


@dataclass(frozen=True)
class PasswordPolicy:
    """The password rules. The defaults mirror the user pool's ``PasswordPolicy`` in template.yaml: checking them
    here first gives a client every unmet rule at once, and Cognito still has the last word."""

    min_length: int = 10
    max_length: int = 256  # Cognito's own ceiling
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digit: bool = True
    require_symbol: bool = False

    def unmet(self, password: str) -> list[str]:
        """The rules ``password`` breaks, in words a user can act on (empty when it is acceptable)."""
        problems: list[str] = []
        if len(password) < self.min_length:
            problems.append(f"at least {self.min_length} characters")
        if len(password) > self.max_length:
            problems.append(f"at most {self.max_length} characters")
        if self.require_lowercase and not re.search(r"[a-z]", password):
            problems.append("a lower-case letter")
        if self.require_uppercase and not re.search(r"[A-Z]", password):
            problems.append("an upper-case letter")
        if self.require_digit and not re.search(r"[0-9]", password):
            problems.append("a digit")
        if self.require_symbol and not re.search(r"[^A-Za-z0-9\s]", password):
            problems.append("a symbol")
        if password != password.strip():
            problems.append("no space at the start or end")
        return problems

    def check(self, password: str) -> None:
        """:class:`WeakPassword` listing every unmet rule, if there is one."""
        problems = self.unmet(password)
        if problems:
            raise WeakPassword("The password needs " + ", ".join(problems) + ".", problems)


PASSWORD_POLICY = PasswordPolicy()


def utc_iso(moment: datetime, timespec: str = "auto") -> str:
    """``moment`` as ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


class AccountStatus(StrEnum):
    UNCONFIRMED = "UNCONFIRMED"
    CONFIRMED = "CONFIRMED"


# -- profile fields: name, phone, locale ---------------------------------------------------------------------------
class InvalidName(ValueError):
    """A name that is empty, too long or holds control characters."""

    title: ClassVar[str] = "Invalid name"
    code: ClassVar[str] = "invalid-name"


class InvalidPhone(ValueError):
    """A phone number not in E.164 form (``+447700900123``)."""

    title: ClassVar[str] = "Invalid phone number"
    code: ClassVar[str] = "invalid-phone"


class InvalidLocale(ValueError):
    """A locale that is not a BCP 47 language tag (``en-GB``)."""

    title: ClassVar[str] = "Invalid locale"
    code: ClassVar[str] = "invalid-locale"


NAME_MAX_LENGTH = 100
# Characters a name may not hold: controls, surrogates, private use and unassigned code points, line and paragraph
# separators, and the bidirectional overrides and isolates that make text display in another order than it is
# stored (a name shown in a mail or an admin's screen must read as it is). Other format characters stay: the
# zero-width joiners belong to names in several scripts.
_NAME_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


def normalize_name(raw: str) -> str:
    """A person's name as kept (NFC, trimmed, 1 to :data:`NAME_MAX_LENGTH` characters); :class:`InvalidName`
    otherwise. It is data only: whoever shows it escapes it, and nobody renders it as a template."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise InvalidName("The name is empty.")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidName(f"The name is longer than {NAME_MAX_LENGTH} characters.")
    if any(ch in _BIDI_CONTROLS or unicodedata.category(ch) in _NAME_FORBIDDEN_CATEGORIES for ch in name):
        raise InvalidName("The name holds control characters.")
    return name


_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalize_phone(raw: str) -> str:
    """A phone number in E.164 form (``+`` and 8 to 15 digits, no spaces); :class:`InvalidPhone` otherwise."""
    phone = raw.strip()
    if not _E164.fullmatch(phone):
        raise InvalidPhone("The phone number must be in E.164 form, like +447700900123.")
    return phone


LOCALE_MAX_LENGTH = 35  # BCP 47's advice for the longest tag an implementation need keep
_LOCALE = re.compile(
    r"^(?P<language>[a-z]{2,3})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|\d{3}))?"
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|\d[a-z0-9]{3}))*)$",
    re.IGNORECASE,
)


def normalize_locale(raw: str) -> str:
    """A BCP 47 language tag (language, then optional script, region and variants: ``en-GB``, ``zh-Hant-TW``) in
    its canonical case; :class:`InvalidLocale` otherwise. Extensions and private-use tags are not taken."""
    tag = raw.strip()
    found = _LOCALE.fullmatch(tag) if len(tag) <= LOCALE_MAX_LENGTH else None
    if found is None:
        raise InvalidLocale("The locale must be a BCP 47 language tag, like en-GB.")
    parts = [found["language"].lower()]
    if found["script"]:
        parts.append(found["script"].title())
    if found["region"]:
        parts.append(found["region"].upper())
    if found["variants"]:
        parts.append(found["variants"][1:].lower())
    return "-".join(parts)


# -- the phone's confirmation code -----------------------------------------------------------------------------------
PHONE_CODE_DIGITS = 6
PHONE_CODE_TTL = timedelta(minutes=10)
PHONE_CODE_MAX_ATTEMPTS = 5  # wrong codes a code survives; then a new one is needed
PHONE_CODE_RESEND_INTERVAL = timedelta(seconds=60)  # a new code to the same account, at most once a minute
PHONE_CODES_PER_DAY = 5  # codes sent to an account in any 24 hours: each is a paid SMS, and SMS pumping is a fraud
CODES_WINDOW = timedelta(hours=24)


class NoPendingPhone(Exception):
    """A code was sent in for a phone, but no phone awaits one."""

    title: ClassVar[str] = "No phone awaits confirmation"
    code: ClassVar[str] = "no-pending-phone"


class WrongPhoneCode(Exception):
    """The code is not the one sent; ``attemptsLeft`` says how many more this code takes."""

    title: ClassVar[str] = "Invalid code"
    code: ClassVar[str] = "invalid-code"

    def __init__(self, detail: str, attempts_left: int) -> None:
        super().__init__(detail)
        self.extra: dict[str, Any] = {"attemptsLeft": attempts_left}


class PhoneCodeExpired(Exception):
    title: ClassVar[str] = "Expired code"
    code: ClassVar[str] = "expired-code"


class PhoneCodeAttemptsExhausted(Exception):
    """Too many wrong codes: this code is dead, even the right one; a new code is needed."""

    title: ClassVar[str] = "Too many wrong codes"
    code: ClassVar[str] = "code-attempts-exhausted"


class PhoneCodeRecentlySent(Exception):
    """A code went to this account moments ago: wait ``retryAfterSeconds`` before asking for another."""

    title: ClassVar[str] = "Code recently sent"
    code: ClassVar[str] = "code-recently-sent"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.extra: dict[str, Any] = {"retryAfterSeconds": retry_after_s}


class PhoneCodeLimitReached(Exception):
    """The account had its day's codes already."""

    title: ClassVar[str] = "Too many codes"
    code: ClassVar[str] = "too-many-codes"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.extra: dict[str, Any] = {"retryAfterSeconds": retry_after_s}


def phone_code_digest(salt: str, user_id: str, phone: str, code: str) -> str:
    """What is kept of a code: its SHA-256 with a per-code salt, bound to the user and the number, so that a code
    confirms only the number it was sent to. Six digits are a million guesses offline, so the digest only keeps the
    code out of plain sight (a table export, a stream record); the attempt limit is what keeps it from guessing."""
    return hashlib.sha256(f"{salt}:{user_id}:{phone}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class PhoneCode:
    """The confirmation code of the pending phone, as kept: its digest, never the code."""

    digest: str
    salt: str
    sent_at: datetime
    expires_at: datetime
    attempts: int = 0

    def matches(self, user_id: str, phone: str, code: str) -> bool:
        return hmac.compare_digest(self.digest, phone_code_digest(self.salt, user_id, phone, code.strip()))


@dataclass(frozen=True)
class Profile:
    """What the shop keeps about an account beside the user pool: access tokens carry no email, so /me reads it
    here, with what the customer tells about themselves (name, phone, locale). ``version`` is the
    optimistic-locking counter of the stored item (0: never stored).

    ``phone`` is a number proven by a code sent to it; ``pending_phone`` one awaiting its code (``phone_code``).
    ``codes_sent`` are the times of the codes sent in the last 24 hours (for the daily limit)."""

    user_id: str
    email: str
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    version: int = 0
    name: str | None = None
    phone: str | None = None
    pending_phone: str | None = None
    phone_code: PhoneCode | None = None
    codes_sent: tuple[datetime, ...] = ()
    locale: str | None = None

    @classmethod
    def register(cls, user_id: str, email: str, at: datetime, name: str | None = None) -> Profile:
        """A new, unconfirmed account, with the name given at sign-up if any."""
        return cls(
            user_id=user_id,
            email=normalize_email(email),
            status=AccountStatus.UNCONFIRMED,
            created_at=at,
            updated_at=at,
            name=normalize_name(name) if name is not None else None,
        )

    @property
    def is_confirmed(self) -> bool:
        return self.status is AccountStatus.CONFIRMED

    @property
    def phone_verified(self) -> bool:
        return self.phone is not None

    def confirm(self, at: datetime) -> Profile:
        """The account once its email is confirmed; confirming twice changes nothing."""
        if self.is_confirmed:
            return self
        return replace(self, status=AccountStatus.CONFIRMED, confirmed_at=at, updated_at=at)

    def with_name(self, name: str | None, at: datetime) -> Profile:
        """The profile with ``name`` (normalised), or without one for ``None``."""
        name = normalize_name(name) if name is not None else None
        return self if name == self.name else replace(self, name=name, updated_at=at)

    def with_locale(self, locale: str | None, at: datetime) -> Profile:
        """The profile with ``locale`` (a BCP 47 tag, canonical case), or without one for ``None``."""
        locale = normalize_locale(locale) if locale is not None else None
        return self if locale == self.locale else replace(self, locale=locale, updated_at=at)

    def without_phone(self, at: datetime) -> Profile:
        """The profile with no phone at all: the confirmed one and any awaiting its code are gone."""
        if self.phone is None and self.pending_phone is None and self.phone_code is None:
            return self
        return replace(self, phone=None, pending_phone=None, phone_code=None, updated_at=at)

    def without_pending_phone(self, at: datetime) -> Profile:
        """The profile with no phone awaiting its code (the confirmed one kept)."""
        if self.pending_phone is None and self.phone_code is None:
            return self
        return replace(self, pending_phone=None, phone_code=None, updated_at=at)

    def needs_code_for(self, phone: str) -> bool:
        """Whether setting ``phone`` (E.164) sends a code: not for the number already confirmed."""
        return normalize_phone(phone) != self.phone

    def request_phone(self, phone: str, code: str, salt: str, at: datetime) -> Profile:
        """``phone`` awaiting ``code`` (sent by the caller once this is stored), the confirmed phone kept meanwhile.

        Setting the phone already confirmed drops any other awaiting its code and sends nothing. Asking again for
        the number awaiting its code replaces that code. :class:`PhoneCodeRecentlySent` within a minute of the last
        code, :class:`PhoneCodeLimitReached` past the day's codes.
        """
        phone = normalize_phone(phone)
        if phone == self.phone:
            return self.without_pending_phone(at)
        recent = tuple(sent for sent in self.codes_sent if at - sent < CODES_WINDOW)
        if recent and at - max(recent) < PHONE_CODE_RESEND_INTERVAL:
            wait = PHONE_CODE_RESEND_INTERVAL - (at - max(recent))
            raise PhoneCodeRecentlySent(
                "A code was sent moments ago; wait a minute before asking for another.", _whole_seconds(wait)
            )
        if len(recent) >= PHONE_CODES_PER_DAY:
            wait = CODES_WINDOW - (at - min(recent))
            raise PhoneCodeLimitReached(
                f"{PHONE_CODES_PER_DAY} codes were sent in the last 24 hours; try again later.", _whole_seconds(wait)
            )
        phone_code = PhoneCode(
            digest=phone_code_digest(salt, self.user_id, phone, code),
            salt=salt,
            sent_at=at,
            expires_at=at + PHONE_CODE_TTL,
        )
        return replace(self, pending_phone=phone, phone_code=phone_code, codes_sent=(*recent, at), updated_at=at)

    def attempt_phone_code(self, code: str, at: datetime) -> tuple[Profile, WrongPhoneCode | None]:
        """Try ``code`` against the pending phone's.

        The right code: the profile with the pending phone confirmed, and ``None``. A wrong one: the profile with
        the attempt counted (store it before answering, so that every answered guess is counted) and the
        :class:`WrongPhoneCode` to raise then. Raises, changing nothing, :class:`NoPendingPhone`,
        :class:`PhoneCodeExpired` and :class:`PhoneCodeAttemptsExhausted` (even for the right code).
        """
        if self.pending_phone is None or self.phone_code is None:
            raise NoPendingPhone("No phone number awaits a code; set one with PATCH /me first.")
        pending = self.phone_code
        if pending.attempts >= PHONE_CODE_MAX_ATTEMPTS:
            raise PhoneCodeAttemptsExhausted("Too many wrong codes; ask for a new code with PATCH /me.")
        if at >= pending.expires_at:
            raise PhoneCodeExpired("The code has expired; ask for a new one with PATCH /me.")
        if pending.matches(self.user_id, self.pending_phone, code):
            confirmed = replace(self, phone=self.pending_phone, pending_phone=None, phone_code=None, updated_at=at)
            return confirmed, None
        counted = replace(pending, attempts=pending.attempts + 1)
        left = PHONE_CODE_MAX_ATTEMPTS - counted.attempts
        wrong = WrongPhoneCode(
            "The code is not correct." if left else "The code is not correct; ask for a new code with PATCH /me.",
            left,
        )
        return replace(self, phone_code=counted), wrong


def _whole_seconds(delta: timedelta) -> int:
    return max(1, int(-(-delta.total_seconds() // 1)))


@dataclass(frozen=True)
class CodeDelivery:
    """Where a confirmation code went, masked the way the identity provider reports it (``a***@e***``)."""

    destination: str
    medium: str


@dataclass(frozen=True)
class Registration:
    """The outcome of a sign-up at the identity provider."""

    user_id: str
    confirmed: bool
    code_delivery: CodeDelivery | None = None


@dataclass(frozen=True)
class Identity:
    """An account as the identity provider knows it."""

    user_id: str
    email: str
    status: str
    enabled: bool = True

    @property
    def is_confirmed(self) -> bool:
        return self.status == AccountStatus.CONFIRMED.value

    @property
    def awaits_confirmation(self) -> bool:
        """A sign-up whose code has not been confirmed yet: the only state a confirmation may change."""
        return self.status == AccountStatus.UNCONFIRMED.value


@dataclass(frozen=True)
class Tokens:
    """What a login or a refresh hands the client. A refresh may come without a new refresh token."""

    access_token: str
    id_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    refresh_token: str | None = None


@dataclass(frozen=True)
class RoleChange:
    """An admin's decision about a user's roles, kept for audit whether or not it changed anything."""

    change_id: str
    user_id: str
    changed_by: str
    before: frozenset[str]
    after: frozenset[str]
    at: datetime
    correlation_id: str = ""
    email: str = ""  # the user's, as the user pool has it: consumers of the change learn whom to reach

    @property
    def added(self) -> frozenset[str]:
        return self.after - self.before

    @property
    def removed(self) -> frozenset[str]:
        return self.before - self.after

    @property
    def changed(self) -> bool:
        return self.before != self.after
