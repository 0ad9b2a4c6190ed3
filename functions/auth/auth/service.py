"""The auth use cases: plain functions, each taking one command (a frozen dataclass named for the use case) and
the ports it needs (the user pool, the profile store, the audit log; a clock, which tests hand in).

Roles are the user pool's groups; the profile store keeps what the tokens do not carry (the email of an access
token's owner, when the account was made and confirmed). A profile is written at sign-up and confirmed with the
account, so the auth table's stream is where the ``UserRegistered`` event starts (``auth.publisher``). What the
customer tells of themselves (name, phone, locale) is kept on the profile too (:func:`update_me`); a phone is used
only once the code sent to it by SMS is confirmed (:func:`confirm_phone`), and ``UserProfileUpdated`` publishes
only what is confirmed.

Revocation. API Gateway's JWT authorizer checks a token's signature and expiry, never whether it was revoked: an
access token stays good at the gateway until it expires (60 minutes, the app client's ``AccessTokenValidity``)
even after a sign-out. What revocation does reach:

- refresh tokens: a sign-out (:func:`log_out`), a role change (:func:`set_roles`), a password reset
  (:func:`reset_password`) and deleting the user revoke them in the user pool, so no new access token comes of
  them;
- access tokens on the routes that change who may do what: :func:`log_out` and :func:`set_roles` present the
  caller's token to the user pool (``GlobalSignOut``, ``GetUser``), which refuses a revoked one, so a signed-out or
  demoted admin cannot change roles with the token they still hold. One extra call to Cognito, on rare requests.

Checking every request of every service against the user pool would put a Cognito call (and its per-account rate
quota) on the path of every read; the 60-minute access token is the accepted window, and docs/authorization.md says
so.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from auth.domain import (
    PASSWORD_POLICY,
    PHONE_CODE_DIGITS,
    PHONE_CODE_TTL,
    AccountStatus,
    Identity,
    PasswordPolicy,
    Profile,
    Registration,
    RoleChange,
    Tokens,
    normalize_email,
    normalize_name,
)
from auth.errors import (
    AccountAlreadyConfirmed,
    CannotRemoveOwnAdmin,
    ConfirmationRefused,
    ProfileNotFound,
    ResetNotStarted,
    SessionRevoked,
    UserNotFound,
)
from gears_shared.auth import ADMIN, CUSTOMER, ROLES, Caller, require_role
from gears_shared.clock import utc_now

Clock = Callable[[], datetime]
logger = logging.getLogger(__name__)


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

    def login(self, email: str, password: str) -> Tokens:
        """Tokens for a password; :class:`~auth.errors.SignInLockedOut` while repeated failures lock the account."""
        ...

    def refresh(self, refresh_token: str) -> Tokens: ...

    def find_user(self, user_id: str) -> Identity:
        """The account whose id is ``user_id``; :class:`~auth.errors.UserNotFound` if there is none."""
        ...

    def groups_of(self, user_id: str) -> frozenset[str]: ...

    def remove_from_group(self, user_id: str, group: str) -> None:
        """Take the account out of a group; doing it twice is harmless."""
        ...

    def sign_out_user(self, user_id: str) -> None:
        """Revoke every token of the account (an operator's sign-out)."""
        ...

    def sign_out(self, access_token: str) -> None:
        """Revoke every token of the access token's owner; :class:`~auth.errors.SessionRevoked` for a token the
        user pool no longer honours."""
        ...

    def check_session(self, access_token: str) -> str:
        """The user id of a live access token; :class:`~auth.errors.SessionRevoked` for a revoked one."""
        ...

    def forgot_password(self, email: str) -> None:
        """Email a reset code; :class:`~auth.errors.ResetNotStarted` when none was sent."""
        ...

    def reset_password(self, email: str, code: str, new_password: str) -> None: ...


class ProfileRepository(Protocol):
    def get(self, user_id: str) -> Profile | None: ...

    def save(self, profile: Profile, *, correlation_id: str = "") -> Profile:
        """Store ``profile`` if nobody changed it since it was read (``version``); the stored profile, with its
        new version. :class:`~auth.errors.ConcurrentUpdate` otherwise. ``correlation_id`` is the request's, kept
        with the item so that the event the change publishes carries it."""
        ...


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Send ``text`` by SMS to ``phone`` (E.164) as a transactional message; the provider's message id.
        :class:`~auth.errors.PhoneRefused` for a number the provider will not send to,
        :class:`~auth.errors.SmsThrottled` or :class:`~auth.errors.SmsFailed` otherwise."""
        ...


class AuditLog(Protocol):
    def record(self, change: RoleChange) -> None:
        """Keep ``change``; recording the same change twice keeps it once."""
        ...


# -- commands and results ------------------------------------------------------------------------------------------
# Secrets (passwords, codes, tokens) are left out of each command's repr: a command may be logged, they may not.
@dataclass(frozen=True)
class SignUp:
    email: str
    password: str = field(repr=False)
    correlation_id: str = ""
    name: str | None = None


@dataclass(frozen=True)
class ConfirmSignUp:
    email: str
    code: str = field(repr=False)
    correlation_id: str = ""


@dataclass(frozen=True)
class Login:
    email: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RefreshTokens:
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class GetMe:
    caller: Caller


@dataclass(frozen=True)
class UpdateMe:
    """The caller's changes to their profile: ``given`` names the fields the request set (``name``, ``phone``,
    ``locale``), so that ``None`` there means "remove" and a field left out stays as it is."""

    caller: Caller
    given: frozenset[str]
    name: str | None = None
    phone: str | None = None
    locale: str | None = None
    correlation_id: str = ""


@dataclass(frozen=True)
class ConfirmPhone:
    caller: Caller
    code: str = field(repr=False)
    correlation_id: str = ""


@dataclass(frozen=True)
class ForgotPassword:
    email: str


@dataclass(frozen=True)
class ResetPassword:
    email: str
    code: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True)
class LogOut:
    """A sign-out with the caller's own access token (the one the API's authorizer verified)."""

    access_token: str = field(repr=False)


@dataclass(frozen=True)
class SetRoles:
    """An admin (``caller``, presenting ``access_token``) gives user ``user_id`` exactly ``roles``."""

    user_id: str
    roles: frozenset[str]
    caller: Caller
    access_token: str = field(repr=False)
    correlation_id: str = ""


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
    name: str | None = None
    phone: str | None = None  # confirmed by its code
    pending_phone: str | None = None  # awaiting its code
    locale: str | None = None
    phone_code_expires_at: datetime | None = None  # the pending phone's code, while one is out

    @property
    def phone_verified(self) -> bool:
        return self.phone is not None

    @classmethod
    def of(cls, caller: Caller, profile: Profile) -> Me:
        code = profile.phone_code if profile.pending_phone else None
        return cls(
            user_id=caller.user_id,
            email=profile.email,
            roles=caller.roles,
            status=profile.status,
            created_at=profile.created_at,
            confirmed_at=profile.confirmed_at,
            name=profile.name,
            phone=profile.phone,
            pending_phone=profile.pending_phone,
            locale=profile.locale,
            phone_code_expires_at=code.expires_at if code else None,
        )


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
    name = normalize_name(command.name) if command.name is not None else None
    policy.check(command.password)
    registration = identity.sign_up(email, command.password)
    profile = Profile.register(registration.user_id, email, now(), name=name)
    if registration.confirmed:  # a pool with auto-confirmation: no code will come
        profile = profile.confirm(profile.created_at)
    profile = profiles.save(profile, correlation_id=command.correlation_id)
    return SignedUp(profile=profile, registration=registration)


def confirm_sign_up(
    command: ConfirmSignUp, identity: IdentityProvider, profiles: ProfileRepository, *, now: Clock = utc_now
) -> Profile:
    """Confirm an unconfirmed sign-up with its emailed code, make it a customer and mark its profile confirmed.

    An account is confirmed once, whatever the code sent again (see :func:`_check_confirmable`): its state is read
    first, because a user pool's own refusal cannot be relied on alone (moto's confirmed any account again) and
    the profile store may know better. An unknown email is left to the user pool, which answers it like a wrong
    code, so that confirmation cannot probe for accounts.
    """
    email = normalize_email(command.email)
    account = _find_account(email, identity)
    if account is not None:
        _check_confirmable(account, identity, profiles, now, command.correlation_id)
    try:
        identity.confirm_sign_up(email, command.code.strip())
    except ConfirmationRefused:
        # Confirmed meanwhile by another request, or disabled: the user pool has the last word.
        _check_confirmable(identity.get_identity(email), identity, profiles, now, command.correlation_id)
        raise
    account = account or identity.get_identity(email)
    return _complete_registration(account, identity, profiles, now, command.correlation_id)


def _find_account(email: str, identity: IdentityProvider) -> Identity | None:
    try:
        return identity.get_identity(email)
    except UserNotFound:
        return None


def _check_confirmable(
    account: Identity, identity: IdentityProvider, profiles: ProfileRepository, now: Clock, correlation_id: str
) -> None:
    """Refuse to confirm anything but a sign-up awaiting its confirmation.

    An account the user pool holds as confirmed is :class:`AccountAlreadyConfirmed`, once the steps that follow a
    confirmation have run again (they are idempotent): an account whose first confirmation broke off half-way is
    never left without its group or its profile. So is one whose profile says it is confirmed. Any other state (an
    operator's account awaiting its first password) is :class:`ConfirmationRefused`.
    """
    if account.is_confirmed:
        _complete_registration(account, identity, profiles, now, correlation_id)
        raise AccountAlreadyConfirmed("This account is already confirmed; sign in.")
    if not account.awaits_confirmation:
        raise ConfirmationRefused("This account cannot be confirmed.")
    profile = profiles.get(account.user_id)
    if profile is not None and profile.is_confirmed:
        raise AccountAlreadyConfirmed("This account is already confirmed; sign in.")


def _complete_registration(
    account: Identity, identity: IdentityProvider, profiles: ProfileRepository, now: Clock, correlation_id: str
) -> Profile:
    identity.add_to_group(account.user_id, CUSTOMER)
    at = now()
    profile = profiles.get(account.user_id) or Profile.register(account.user_id, account.email, at)
    if profile.is_confirmed:
        return profile
    return profiles.save(profile.confirm(at), correlation_id=correlation_id)


def login(command: Login, identity: IdentityProvider) -> Tokens:
    """Tokens for an email and password; the same :class:`~auth.errors.InvalidCredentials` whether the password
    is wrong or the email unknown."""
    return identity.login(normalize_email(command.email), command.password)


def refresh_tokens(command: RefreshTokens, identity: IdentityProvider) -> Tokens:
    """New access and id tokens for a refresh token."""
    return identity.refresh(command.refresh_token)


def get_me(command: GetMe, profiles: ProfileRepository) -> Me:
    """The caller's profile and roles (the roles from the verified token, the rest from the profile store).

    An account made outside sign-up (by an operator, in the console) has no profile: it is shown from its access
    token, which proves a confirmed account but carries no email.
    """
    caller = command.caller
    profile = profiles.get(caller.user_id)
    if profile is None:
        return Me(user_id=caller.user_id, email=caller.email, roles=caller.roles, status=AccountStatus.CONFIRMED)
    return Me.of(caller, profile)


def phone_code_text(code: str) -> str:
    """The SMS that carries a phone's confirmation code: one GSM-7 segment, the code first for phones that offer
    it to the app."""
    minutes = int(PHONE_CODE_TTL.total_seconds() // 60)
    return f"{code} is your Gears code. It expires in {minutes} minutes. Did not ask for it? Ignore this message."


def new_phone_code() -> str:
    """A random code of :data:`~auth.domain.PHONE_CODE_DIGITS` digits, from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**PHONE_CODE_DIGITS):0{PHONE_CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def update_me(
    command: UpdateMe,
    profiles: ProfileRepository,
    sms: SmsSender,
    *,
    now: Clock = utc_now,
    new_code: Callable[[], str] = new_phone_code,
    salt: Callable[[], str] = new_salt,
) -> Me:
    """Change the caller's name, phone or locale; every field is checked before anything is stored.

    A new phone becomes the pending phone and its code goes out by SMS. The profile is stored first (a
    conditional write on its version), then the SMS is sent: two requests at once cannot both send, and the
    limits on codes hold. Should the SMS not go out, the profile is put back as it was (nothing changed, the code
    not counted) and the provider's refusal or failure is raised. A crash between the write and the SMS leaves a
    pending phone whose code never came: asking again after a minute sends a new one.
    """
    caller = command.caller
    before = profiles.get(caller.user_id)
    if before is None:
        raise ProfileNotFound("This account was not made by sign-up and has no profile to change.")
    at = now()
    after = before
    if "name" in command.given:
        after = after.with_name(command.name, at)
    if "locale" in command.given:
        after = after.with_locale(command.locale, at)
    code: str | None = None
    if "phone" in command.given:
        if command.phone is None:
            after = after.without_phone(at)
        elif after.needs_code_for(command.phone):
            code = new_code()
            after = after.request_phone(command.phone, code, salt(), at)
        else:  # the confirmed phone again: drops any number awaiting its code
            after = after.without_pending_phone(at)
    if after is before:
        return Me.of(caller, before)
    saved = profiles.save(after, correlation_id=command.correlation_id)
    if code is not None and saved.pending_phone is not None:
        try:
            sms.send(saved.pending_phone, phone_code_text(code))
        except Exception:
            # Later than the write it undoes (by a millisecond at least, the events' precision), so that a consumer
            # keeping the newest profile keeps this one.
            undone_at = max(now(), at + timedelta(milliseconds=1))
            _put_back(replace(before, updated_at=undone_at), saved, profiles, command.correlation_id)
            raise
    return Me.of(caller, saved)


def _put_back(before: Profile, saved: Profile, profiles: ProfileRepository, correlation_id: str) -> None:
    """Undo a profile write whose SMS did not go out; should that fail too, the pending phone stays without a
    code that arrived, and a new code may be asked for after a minute."""
    try:
        profiles.save(replace(before, version=saved.version), correlation_id=correlation_id)
    except Exception:
        logger.exception("could not put the profile back after a failed SMS")


def confirm_phone(command: ConfirmPhone, profiles: ProfileRepository, *, now: Clock = utc_now) -> Me:
    """Confirm the pending phone with the code sent to it: it becomes the phone SMS may use.

    A wrong code is counted (stored) before it is answered, so concurrent guesses cannot outrun the limit: a guess
    whose count could not be stored is a 409, never an answer. An expired code, or one that took too many wrong
    guesses, changes nothing; a new code is asked for with ``PATCH /me``.
    """
    profile = profiles.get(command.caller.user_id)
    if profile is None:
        raise ProfileNotFound("This account was not made by sign-up and has no phone to confirm.")
    updated, wrong = profile.attempt_phone_code(command.code, now())
    saved = profiles.save(updated, correlation_id=command.correlation_id)
    if wrong is not None:
        raise wrong
    return Me.of(command.caller, saved)


def forgot_password(command: ForgotPassword, identity: IdentityProvider) -> None:
    """Email a reset code if the account can be reset. The caller learns nothing either way: an unknown email, an
    unconfirmed or disabled account and a sent code all end here the same."""
    email = normalize_email(command.email)
    try:
        identity.forgot_password(email)
    except ResetNotStarted:
        return


def reset_password(
    command: ResetPassword, identity: IdentityProvider, *, policy: PasswordPolicy = PASSWORD_POLICY
) -> None:
    """Set a new password with the emailed code, then end every session of the account: whoever knew the old
    password (the reason for many resets) loses the refresh tokens they hold."""
    email = normalize_email(command.email)
    policy.check(command.new_password)
    identity.reset_password(email, command.code.strip(), command.new_password)
    identity.sign_out_user(identity.get_identity(email).user_id)


def log_out(command: LogOut, identity: IdentityProvider) -> None:
    """Global sign-out with the caller's own access token: every refresh token of the caller is revoked."""
    identity.sign_out(command.access_token)


def set_roles(
    command: SetRoles,
    identity: IdentityProvider,
    audit: AuditLog,
    *,
    now: Clock = utc_now,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> RoleChange:
    """Give a user exactly ``roles`` (plus ``customer``, which every account keeps), as an admin.

    The caller must be an admin (403) whose session the user pool still honours (401: a signed-out or demoted
    admin's token is refused here though the gateway let it through); the user must exist (404). The decision is
    audited first, so that no change is ever made without its record; then the groups change, and the user is
    signed out everywhere when they did, so that the tokens that carry the old roles cannot be refreshed.
    """
    caller = command.caller
    require_role(caller, ADMIN)
    if identity.check_session(command.access_token) != caller.user_id:
        raise SessionRevoked("This session has ended; sign in again.")
    target = identity.find_user(command.user_id)
    after = _roles(command.roles) | {CUSTOMER}
    if target.user_id == caller.user_id and ADMIN not in after:
        raise CannotRemoveOwnAdmin("Another admin must take the admin role from you.")
    before = _roles(identity.groups_of(target.user_id))
    change = RoleChange(
        change_id=new_id(),
        user_id=target.user_id,
        changed_by=caller.user_id,
        before=before,
        after=after,
        at=now(),
        correlation_id=command.correlation_id,
        email=target.email,
    )
    audit.record(change)
    for group in sorted(change.added):
        identity.add_to_group(target.user_id, group)
    for group in sorted(change.removed):
        identity.remove_from_group(target.user_id, group)
    if change.changed:
        identity.sign_out_user(target.user_id)
    return change


def _roles(groups: Iterable[str]) -> frozenset[str]:
    """The roles among a set of groups; groups that are not roles are left as they are."""
    return frozenset(g for g in groups if g in ROLES)
