"""In-memory implementations of the auth service's ports, with the same typed errors as the real adapters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from auth.domain import CodeDelivery, Identity, Profile, Registration, RoleChange, Tokens
from auth.errors import (
    AccountNotConfirmed,
    ConcurrentUpdate,
    ConfirmationRefused,
    InvalidCode,
    InvalidCredentials,
    InvalidRefreshToken,
    PhoneRefused,
    ResetNotStarted,
    SessionRevoked,
    SignInLockedOut,
    SmsFailed,
    UserAlreadyExists,
    UserNotFound,
)

GOOD_CODE = "123456"
LOCKOUT_AFTER = 5


@dataclass
class Account:
    user_id: str
    email: str
    password: str
    status: str = "UNCONFIRMED"
    groups: set[str] = field(default_factory=set)
    failed_logins: int = 0
    reset_code: str | None = None


class FakeIdentityProvider:
    """A user pool in memory. Every account's confirmation and reset code is :data:`GOOD_CODE`; an account is locked
    out (for good: there is no clock here) after :data:`LOCKOUT_AFTER` wrong passwords in a row. Access tokens are
    ``access-<user id>-<n>``; a sign-out revokes the user's access and refresh tokens alike.

    ``lax``: a pool that confirms any account it knows, again and with any code, as moto did (Cognito refuses
    a second confirmation)."""

    def __init__(self, *, auto_confirm: bool = False, lax: bool = False) -> None:
        self.accounts: dict[str, Account] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.access_tokens: dict[str, str] = {}
        self.auto_confirm = auto_confirm
        self.lax = lax
        self.confirm_calls = 0
        self.calls: list[tuple[str, ...]] = []

    def account(self, email: str) -> Account:
        return self.accounts[email]

    def _by_id(self, user_id: str) -> Account:
        for account in self.accounts.values():
            if account.user_id == user_id:
                return account
        raise UserNotFound("No such user.")

    def sign_up(self, email: str, password: str) -> Registration:
        if email in self.accounts:
            raise UserAlreadyExists("An account with this email already exists.")
        status = "CONFIRMED" if self.auto_confirm else "UNCONFIRMED"
        account = Account(user_id=str(uuid.uuid4()), email=email, password=password, status=status)
        self.accounts[email] = account
        delivery = None if self.auto_confirm else CodeDelivery(destination=email[0] + "***", medium="EMAIL")
        return Registration(user_id=account.user_id, confirmed=self.auto_confirm, code_delivery=delivery)

    def confirm_sign_up(self, email: str, code: str) -> None:
        self.confirm_calls += 1
        account = self.accounts.get(email)
        if account is not None and self.lax:
            account.status = "CONFIRMED"
            return
        if account is None or code != GOOD_CODE:
            raise InvalidCode("The confirmation code is not correct.")
        if account.status != "UNCONFIRMED":
            raise ConfirmationRefused("This account cannot be confirmed.")
        account.status = "CONFIRMED"

    def get_identity(self, email: str) -> Identity:
        account = self.accounts.get(email)
        if account is None:
            raise UserNotFound("No such user.")
        return Identity(user_id=account.user_id, email=account.email, status=account.status)

    def add_to_group(self, user_id: str, group: str) -> None:
        self._by_id(user_id).groups.add(group)

    def _access_token(self, user_id: str) -> str:
        token = f"access-{user_id}-{len(self.access_tokens)}"
        self.access_tokens[token] = user_id
        return token

    def login(self, email: str, password: str) -> Tokens:
        account = self.accounts.get(email)
        if account is not None and account.failed_logins >= LOCKOUT_AFTER:
            raise SignInLockedOut("Too many failed sign-ins for this account; wait a while and try again.")
        if account is None or account.password != password:
            if account is not None:
                account.failed_logins += 1
            raise InvalidCredentials("The email or password is not correct.")
        if account.status != "CONFIRMED":
            raise AccountNotConfirmed("Confirm the account with the emailed code first.")
        account.failed_logins = 0
        refresh = "refresh-" + uuid.uuid4().hex
        self.refresh_tokens[refresh] = account.user_id
        return Tokens(
            access_token=self._access_token(account.user_id),
            id_token="id-" + account.user_id,
            expires_in=3600,
            refresh_token=refresh,
        )

    def refresh(self, refresh_token: str) -> Tokens:
        user_id = self.refresh_tokens.get(refresh_token)
        if user_id is None:
            raise InvalidRefreshToken("The refresh token is not valid; sign in again.")
        return Tokens(access_token=self._access_token(user_id), id_token="id2-" + user_id, expires_in=3600)

    def find_user(self, user_id: str) -> Identity:
        account = self._by_id(user_id)
        return Identity(user_id=account.user_id, email=account.email, status=account.status)

    def groups_of(self, user_id: str) -> frozenset[str]:
        return frozenset(self._by_id(user_id).groups)

    def remove_from_group(self, user_id: str, group: str) -> None:
        self._by_id(user_id).groups.discard(group)

    def sign_out_user(self, user_id: str) -> None:
        self._by_id(user_id)
        self.calls.append(("sign_out_user", user_id))
        self._revoke(user_id)

    def _revoke(self, user_id: str) -> None:
        self.refresh_tokens = {t: u for t, u in self.refresh_tokens.items() if u != user_id}
        self.access_tokens = {t: u for t, u in self.access_tokens.items() if u != user_id}

    def sign_out(self, access_token: str) -> None:
        user_id = self.access_tokens.get(access_token)
        if user_id is None:
            raise SessionRevoked("This session has ended; sign in again.")
        self._revoke(user_id)

    def check_session(self, access_token: str) -> str:
        user_id = self.access_tokens.get(access_token)
        if user_id is None:
            raise SessionRevoked("This session has ended; sign in again.")
        return user_id

    def forgot_password(self, email: str) -> None:
        account = self.accounts.get(email)
        if account is None or account.status != "CONFIRMED":
            raise ResetNotStarted("No reset code was sent.")
        account.reset_code = GOOD_CODE

    def reset_password(self, email: str, code: str, new_password: str) -> None:
        account = self.accounts.get(email)
        if account is None or account.reset_code is None or code != account.reset_code:
            raise InvalidCode("The reset code is not correct.")
        account.password, account.reset_code = new_password, None

    def delete(self, email: str) -> None:
        """What an operator's AdminDeleteUser does: the account and every token of it are gone."""
        account = self.accounts.pop(email)
        self._revoke(account.user_id)


class InMemoryProfileRepository:
    """Profiles in a dict, with the same optimistic locking as the DynamoDB repository."""

    def __init__(self) -> None:
        self.items: dict[str, Profile] = {}
        self.correlation_ids: dict[str, str] = {}
        self.fail_saves = 0

    def get(self, user_id: str) -> Profile | None:
        return self.items.get(user_id)

    def save(self, profile: Profile, *, correlation_id: str = "") -> Profile:
        if self.fail_saves:
            self.fail_saves -= 1
            raise RuntimeError("storage unavailable")
        current = self.items.get(profile.user_id)
        if (current.version if current else 0) != profile.version:
            raise ConcurrentUpdate("The profile changed meanwhile; try again.")
        stored = replace(profile, version=profile.version + 1)
        self.items[profile.user_id] = stored
        self.correlation_ids[profile.user_id] = correlation_id
        return stored


class InMemoryAuditLog:
    """Role changes in a list; the same change recorded twice is kept once."""

    def __init__(self) -> None:
        self.changes: list[RoleChange] = []
        self.fail = False

    def record(self, change: RoleChange) -> None:
        if self.fail:
            raise RuntimeError("storage unavailable")
        if all(c.change_id != change.change_id for c in self.changes):
            self.changes.append(change)


@dataclass
class SentSms:
    phone: str
    text: str
    message_id: str


class FakeSmsSender:
    """SMS kept in a list. ``refuse`` holds numbers the provider will not send to (:class:`PhoneRefused`);
    ``fail_next`` makes the next sends fail as an outage would (:class:`SmsFailed`)."""

    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        self.refuse: set[str] = set()
        self.fail_next = 0

    def send(self, phone: str, text: str) -> str:
        if phone in self.refuse:
            raise PhoneRefused("This phone number cannot receive our SMS; check it or use another.")
        if self.fail_next:
            self.fail_next -= 1
            raise SmsFailed("The SMS could not be sent (ServiceUnavailable).")
        message = SentSms(phone=phone, text=text, message_id=uuid.uuid4().hex)
        self.sent.append(message)
        return message.message_id

    def codes_to(self, phone: str) -> list[str]:
        """The codes sent to ``phone``, oldest first."""
        return [m.text.split(" ", 1)[0] for m in self.sent if m.phone == phone]


class SteppingClock:
    """A clock that moves a second on each reading; :meth:`advance` moves it further by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        now = self.current
        self.current += timedelta(seconds=1)
        return now

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _fakes_implement_the_ports() -> None:
    """Never called: mypy checks here that the fakes keep up with the ports they stand in for."""
    from auth.service import AuditLog, IdentityProvider, ProfileRepository, SmsSender

    identity: IdentityProvider = FakeIdentityProvider()
    profiles: ProfileRepository = InMemoryProfileRepository()
    audit: AuditLog = InMemoryAuditLog()
    sms: SmsSender = FakeSmsSender()
    del identity, profiles, audit, sms
