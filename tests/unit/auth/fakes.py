"""In-memory implementations of the auth service's ports, with the same typed errors as the real adapters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from auth.domain import CodeDelivery, Identity, Profile, Registration, Tokens
from auth.errors import (
    AccountNotConfirmed,
    ConcurrentUpdate,
    ConfirmationRefused,
    InvalidCode,
    InvalidCredentials,
    InvalidRefreshToken,
    UserAlreadyExists,
    UserNotFound,
)

GOOD_CODE = "123456"


@dataclass
class Account:
    user_id: str
    email: str
    password: str
    status: str = "UNCONFIRMED"
    groups: set[str] = field(default_factory=set)


class FakeIdentityProvider:
    """A user pool in memory. Every account's confirmation code is :data:`GOOD_CODE`."""

    def __init__(self, *, auto_confirm: bool = False) -> None:
        self.accounts: dict[str, Account] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.auto_confirm = auto_confirm
        self.confirm_calls = 0

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

    def login(self, email: str, password: str) -> Tokens:
        account = self.accounts.get(email)
        if account is None or account.password != password:
            raise InvalidCredentials("The email or password is not correct.")
        if account.status != "CONFIRMED":
            raise AccountNotConfirmed("Confirm the account with the emailed code first.")
        refresh = "refresh-" + uuid.uuid4().hex
        self.refresh_tokens[refresh] = account.user_id
        return Tokens(
            access_token="access-" + account.user_id,
            id_token="id-" + account.user_id,
            expires_in=3600,
            refresh_token=refresh,
        )

    def refresh(self, refresh_token: str) -> Tokens:
        user_id = self.refresh_tokens.get(refresh_token)
        if user_id is None:
            raise InvalidRefreshToken("The refresh token is not valid; sign in again.")
        return Tokens(access_token="access2-" + user_id, id_token="id2-" + user_id, expires_in=3600)


class InMemoryProfileRepository:
    """Profiles in a dict, with the same optimistic locking as the DynamoDB repository."""

    def __init__(self) -> None:
        self.items: dict[str, Profile] = {}
        self.fail_saves = 0

    def get(self, user_id: str) -> Profile | None:
        return self.items.get(user_id)

    def save(self, profile: Profile) -> Profile:
        if self.fail_saves:
            self.fail_saves -= 1
            raise RuntimeError("storage unavailable")
        current = self.items.get(profile.user_id)
        if (current.version if current else 0) != profile.version:
            raise ConcurrentUpdate("The profile changed meanwhile; try again.")
        stored = replace(profile, version=profile.version + 1)
        self.items[profile.user_id] = stored
        return stored


class SteppingClock:
    """A clock that moves a second on each reading."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        now = self.current
        self.current += timedelta(seconds=1)
        return now


def _fakes_implement_the_ports() -> None:
    """Never called: mypy checks here that the fakes keep up with the ports they stand in for."""
    from auth.service import IdentityProvider, ProfileRepository

    identity: IdentityProvider = FakeIdentityProvider()
    profiles: ProfileRepository = InMemoryProfileRepository()
    del identity, profiles
