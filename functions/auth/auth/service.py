"""The auth use cases: plain functions taking a command and the ports they need.

Roles are the user pool's groups; the profile store keeps what the tokens do not carry (the email of an access
token's owner, when the account was made and confirmed). A profile is written at sign-up and confirmed with the
account, so the auth table's stream is where a future ``UserRegistered`` event starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from auth.domain import (
    PASSWORD_POLICY,
    AccountStatus,
    Identity,
    PasswordPolicy,
    Profile,
    Registration,
    Tokens,
    normalize_email,
)
from auth.errors import AccountAlreadyConfirmed, ConfirmationRefused
from gears_shared.auth import CUSTOMER, Caller

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- ports ---------------------------------------------------------------------------------------------------------
class IdentityProvider(Protocol):
    """The user pool: accounts, passwords, codes, tokens and groups. Implementations raise the service's typed
    errors (``auth.errors``), never their SDK's."""

    def sign_up(self, email: str, password: str) -> Registration: ...

    def confirm_sign_up(self, email: str, code: str) -> None: ...

    def get_identity(self, email: str) -> Identity:
        """The account behind an email; :class:`~auth.errors.UserNotFound` if there is none."""
        ...

    def add_to_group(self, user_id: str, group: str) -> None:
        """Put the account in a group; doing it twice is harmless."""
        ...

    def login(self, email: str, password: str) -> Tokens: ...

    def refresh(self, refresh_token: str) -> Tokens: ...


class ProfileRepository(Protocol):
    def get(self, user_id: str) -> Profile | None: ...

    def save(self, profile: Profile) -> Profile:
        """Store ``profile`` if nobody changed it since it was read (``version``); the stored profile, with its
        new version. :class:`~auth.errors.ConcurrentUpdate` otherwise."""
        ...


# -- commands and results ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignUp:
    email: str
    password: str


@dataclass(frozen=True)
class ConfirmSignUp:
    email: str
    code: str


@dataclass(frozen=True)
class Login:
    email: str
    password: str


@dataclass(frozen=True)
class RefreshTokens:
    refresh_token: str


@dataclass(frozen=True)
class SignedUp:
    profile: Profile
    registration: Registration


@dataclass(frozen=True)
class Me:
    """The caller as /me shows them."""

    user_id: str
    email: str | None
    roles: frozenset[str]
    status: AccountStatus
    created_at: datetime | None = None
    confirmed_at: datetime | None = None


# -- use cases -----------------------------------------------------------------------------------------------------
def sign_up(
    command: SignUp,
    identity: IdentityProvider,
    profiles: ProfileRepository,
    *,
    now: Clock = utc_now,
    policy: PasswordPolicy = PASSWORD_POLICY,
) -> SignedUp:
    """Create an unconfirmed customer account; the user pool emails the confirmation code.

    Should the profile write fail after the user pool accepted the account, confirmation writes it instead.
    """
    email = normalize_email(command.email)
    policy.check(command.password)
    registration = identity.sign_up(email, command.password)
    profile = Profile.register(registration.user_id, email, now())
    if registration.confirmed:  # a pool with auto-confirmation: no code will come
        profile = profile.confirm(profile.created_at)
    profile = profiles.save(profile)
    return SignedUp(profile=profile, registration=registration)


def confirm_sign_up(
    command: ConfirmSignUp,
    identity: IdentityProvider,
    profiles: ProfileRepository,
    *,
    now: Clock = utc_now,
) -> Profile:
    """Confirm an account with its emailed code, make it a customer and mark its profile confirmed.

    The steps after the user pool's confirmation are idempotent, and a retry of an account the pool has already
    confirmed runs them again before it answers :class:`AccountAlreadyConfirmed`: an account whose first
    confirmation broke off half-way is never left without its group or its profile.
    """
    email = normalize_email(command.email)
    try:
        identity.confirm_sign_up(email, command.code.strip())
    except ConfirmationRefused:
        account = identity.get_identity(email)
        if not account.is_confirmed:
            raise
        _complete_registration(account, identity, profiles, now)
        raise AccountAlreadyConfirmed("This account is already confirmed; sign in.") from None
    return _complete_registration(identity.get_identity(email), identity, profiles, now)


def _complete_registration(
    account: Identity, identity: IdentityProvider, profiles: ProfileRepository, now: Clock
) -> Profile:
    identity.add_to_group(account.user_id, CUSTOMER)
    at = now()
    profile = profiles.get(account.user_id) or Profile.register(account.user_id, account.email, at)
    if profile.is_confirmed:
        return profile
    return profiles.save(profile.confirm(at))


def login(command: Login, identity: IdentityProvider) -> Tokens:
    """Tokens for an email and password; the same :class:`~auth.errors.InvalidCredentials` whether the password
    is wrong or the email unknown."""
    return identity.login(normalize_email(command.email), command.password)


def refresh_tokens(command: RefreshTokens, identity: IdentityProvider) -> Tokens:
    """New access and id tokens for a refresh token."""
    return identity.refresh(command.refresh_token)


def get_me(caller: Caller, profiles: ProfileRepository) -> Me:
    """The caller's profile and roles (the roles from the verified token, the rest from the profile store).

    An account made outside sign-up (by an operator, in the console) has no profile: it is shown from its token,
    which proves a confirmed account but carries an email only when it is an id token.
    """
    profile = profiles.get(caller.user_id)
    if profile is None:
        return Me(user_id=caller.user_id, email=caller.email, roles=caller.roles, status=AccountStatus.CONFIRMED)
    return Me(
        user_id=caller.user_id,
        email=profile.email,
        roles=caller.roles,
        status=profile.status,
        created_at=profile.created_at,
        confirmed_at=profile.confirmed_at,
    )
