"""Accounts in the shop's language: email and password rules, the profile, what an identity provider hands back.

Standard library only: no boto3, PynamoDB, Powertools or ``gears_shared`` here. The rule errors below know nothing
of HTTP; the API's error table says what each answers, and reads their ``title``, ``code`` and ``extra`` by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class Profile:
    """What the shop keeps about an account beside the user pool: access tokens carry no email, so /me reads it
    here. ``version`` is the optimistic-locking counter of the stored item (0: never stored)."""

    user_id: str
    email: str
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    version: int = 0

    @classmethod
    def register(cls, user_id: str, email: str, at: datetime) -> Profile:
        """A new, unconfirmed account."""
        return cls(
            user_id=user_id,
            email=normalize_email(email),
            status=AccountStatus.UNCONFIRMED,
            created_at=at,
            updated_at=at,
        )

    @property
    def is_confirmed(self) -> bool:
        return self.status is AccountStatus.CONFIRMED

    def confirm(self, at: datetime) -> Profile:
        """The account once its email is confirmed; confirming twice changes nothing."""
        if self.is_confirmed:
            return self
        return replace(self, status=AccountStatus.CONFIRMED, confirmed_at=at, updated_at=at)


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

    @property
    def added(self) -> frozenset[str]:
        return self.after - self.before

    @property
    def removed(self) -> frozenset[str]:
        return self.before - self.after

    @property
    def changed(self) -> bool:
        return self.before != self.after
