from __future__ import annotations

import pytest

from auth import service
from auth.api import ERRORS
from auth.domain import AccountStatus, InvalidEmail, Profile, WeakPassword
from auth.errors import (
    AccountAlreadyConfirmed,
    AccountNotConfirmed,
    ConfirmationRefused,
    InvalidCode,
    InvalidCredentials,
    InvalidRefreshToken,
    UserAlreadyExists,
)
from gears_shared.auth import Caller
from gears_shared.errors import status_of
from tests.unit.auth.fakes import (
    GOOD_CODE,
    Account,
    FakeIdentityProvider,
    InMemoryProfileRepository,
    SteppingClock,
)

PASSWORD = "Correct1Horse"


@pytest.fixture
def identity() -> FakeIdentityProvider:
    return FakeIdentityProvider()


@pytest.fixture
def profiles() -> InMemoryProfileRepository:
    return InMemoryProfileRepository()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


def sign_up(
    identity: FakeIdentityProvider,
    profiles: InMemoryProfileRepository,
    clock: SteppingClock,
    email: str = "ada@example.com",
) -> service.SignedUp:
    return service.sign_up(service.SignUp(email=email, password=PASSWORD), identity, profiles, now=clock)


def confirm(
    identity: FakeIdentityProvider,
    profiles: InMemoryProfileRepository,
    clock: SteppingClock,
    email: str = "ada@example.com",
    code: str = GOOD_CODE,
) -> Profile:
    return service.confirm_sign_up(service.ConfirmSignUp(email=email, code=code), identity, profiles, now=clock)


# -- sign-up ---------------------------------------------------------------------------------------------------------
def test_sign_up_creates_the_account_and_an_unconfirmed_profile(identity, profiles, clock) -> None:
    result = sign_up(identity, profiles, clock, email=" Ada@Example.com ")
    account = identity.account("ada@example.com")
    assert result.profile.user_id == account.user_id == result.registration.user_id
    assert result.profile.email == "ada@example.com"
    assert result.profile.status is AccountStatus.UNCONFIRMED
    assert result.registration.code_delivery is not None
    assert profiles.get(account.user_id) == result.profile
    assert account.groups == set()  # a customer only once confirmed


def test_sign_up_checks_the_password_before_the_user_pool_sees_it(identity, profiles, clock) -> None:
    with pytest.raises(WeakPassword):
        service.sign_up(service.SignUp(email="ada@example.com", password="weak"), identity, profiles, now=clock)
    assert identity.accounts == {}
    assert profiles.items == {}


def test_sign_up_refuses_a_malformed_email(identity, profiles, clock) -> None:
    with pytest.raises(InvalidEmail):
        sign_up(identity, profiles, clock, email="not-an-email")
    assert identity.accounts == {}


def test_sign_up_twice_with_the_same_email_in_any_case_conflicts(identity, profiles, clock) -> None:
    sign_up(identity, profiles, clock)
    with pytest.raises(UserAlreadyExists) as caught:
        sign_up(identity, profiles, clock, email="ADA@example.com")
    assert status_of(caught.value, ERRORS) == 409
    assert len(profiles.items) == 1


def test_sign_up_on_an_auto_confirming_pool_stores_a_confirmed_profile(profiles, clock) -> None:
    identity = FakeIdentityProvider(auto_confirm=True)
    result = sign_up(identity, profiles, clock)
    assert result.profile.is_confirmed
    assert result.registration.code_delivery is None


# -- confirmation ----------------------------------------------------------------------------------------------------
def test_confirm_makes_a_customer_and_confirms_the_profile(identity, profiles, clock) -> None:
    signed_up = sign_up(identity, profiles, clock)
    profile = confirm(identity, profiles, clock, email="ADA@example.com ")
    account = identity.account("ada@example.com")
    assert account.status == "CONFIRMED"
    assert account.groups == {"customer"}
    assert profile.is_confirmed
    assert profile.created_at == signed_up.profile.created_at
    assert profile.confirmed_at is not None
    assert profile.confirmed_at > profile.created_at
    assert profiles.get(account.user_id) == profile


def test_confirm_with_a_wrong_code_changes_nothing(identity, profiles, clock) -> None:
    signed_up = sign_up(identity, profiles, clock)
    with pytest.raises(InvalidCode):
        confirm(identity, profiles, clock, code="000000")
    assert identity.account("ada@example.com").groups == set()
    assert profiles.get(signed_up.profile.user_id) == signed_up.profile


def test_confirm_of_an_unknown_email_looks_like_a_wrong_code(identity, profiles, clock) -> None:
    with pytest.raises(InvalidCode):
        confirm(identity, profiles, clock, email="nobody@example.com")


def test_confirm_writes_the_profile_that_sign_up_failed_to_write(identity, profiles, clock) -> None:
    profiles.fail_saves = 1
    with pytest.raises(RuntimeError):
        sign_up(identity, profiles, clock)
    assert profiles.items == {}
    profile = confirm(identity, profiles, clock)
    assert profile.is_confirmed
    assert profile.email == "ada@example.com"
    assert profiles.get(identity.account("ada@example.com").user_id) == profile


def test_confirming_again_repairs_a_half_finished_confirmation_then_conflicts(identity, profiles, clock) -> None:
    signed_up = sign_up(identity, profiles, clock)
    profiles.fail_saves = 1  # the pool confirmed the account, the profile write then failed
    with pytest.raises(RuntimeError):
        confirm(identity, profiles, clock)
    identity.account("ada@example.com").groups.clear()  # and, say, the group was never added either

    with pytest.raises(AccountAlreadyConfirmed) as caught:
        confirm(identity, profiles, clock)
    assert status_of(caught.value, ERRORS) == 409
    assert identity.account("ada@example.com").groups == {"customer"}
    stored = profiles.get(signed_up.profile.user_id)
    assert stored is not None
    assert stored.is_confirmed


def test_confirming_a_confirmed_account_twice_keeps_its_profile(identity, profiles, clock) -> None:
    sign_up(identity, profiles, clock)
    first = confirm(identity, profiles, clock)
    with pytest.raises(AccountAlreadyConfirmed):
        confirm(identity, profiles, clock)
    assert profiles.get(first.user_id) == first


@pytest.mark.parametrize("code", [GOOD_CODE, "000000"])
def test_a_pool_that_would_confirm_twice_is_not_asked_to(profiles, clock, code: str) -> None:
    identity = FakeIdentityProvider(lax=True)  # confirms any account again, with any code, as moto did
    sign_up(identity, profiles, clock)
    first = confirm(identity, profiles, clock)
    with pytest.raises(AccountAlreadyConfirmed) as caught:
        confirm(identity, profiles, clock, code=code)
    assert status_of(caught.value, ERRORS) == 409
    assert identity.confirm_calls == 1
    assert profiles.get(first.user_id) == first


def test_an_account_its_profile_says_is_confirmed_is_not_confirmed_again(profiles, clock) -> None:
    identity = FakeIdentityProvider(lax=True)
    signed_up = sign_up(identity, profiles, clock)
    confirmed = profiles.save(signed_up.profile.confirm(clock()))  # the profile store knows better than the pool
    with pytest.raises(AccountAlreadyConfirmed):
        confirm(identity, profiles, clock, code="000000")
    assert identity.confirm_calls == 0
    assert identity.account("ada@example.com").status == "UNCONFIRMED"
    assert profiles.get(signed_up.profile.user_id) == confirmed


def test_an_account_made_by_an_operator_is_never_confirmed_by_a_code(profiles, clock) -> None:
    identity = FakeIdentityProvider(lax=True)
    identity.accounts["staff@example.com"] = Account(
        "staff-1", "staff@example.com", "Temp1Password", "FORCE_CHANGE_PASSWORD"
    )
    with pytest.raises(ConfirmationRefused) as caught:
        confirm(identity, profiles, clock, email="staff@example.com")
    assert type(caught.value) is ConfirmationRefused
    assert status_of(caught.value, ERRORS) == 409
    assert identity.account("staff@example.com").status == "FORCE_CHANGE_PASSWORD"
    assert identity.account("staff@example.com").groups == set()
    assert profiles.items == {}


class ConfirmedMeanwhile(FakeIdentityProvider):
    """A pool on which another request confirms the account between our look at it and our confirmation."""

    def confirm_sign_up(self, email: str, code: str) -> None:
        super().confirm_sign_up(email, code)
        super().confirm_sign_up(email, code)  # ours, second: refused (ConfirmationRefused)


def test_when_the_pool_refuses_a_confirmation_done_meanwhile_it_is_already_confirmed(profiles, clock) -> None:
    identity = ConfirmedMeanwhile()
    signed_up = sign_up(identity, profiles, clock)
    with pytest.raises(AccountAlreadyConfirmed):
        confirm(identity, profiles, clock)
    assert identity.account("ada@example.com").groups == {"customer"}  # what the other request may not have done
    stored = profiles.get(signed_up.profile.user_id)
    assert stored is not None
    assert stored.is_confirmed


# -- login and refresh -----------------------------------------------------------------------------------------------
def confirmed_account(identity, profiles, clock, email: str = "ada@example.com") -> None:
    sign_up(identity, profiles, clock, email=email)
    confirm(identity, profiles, clock, email=email)


def test_login_returns_tokens_for_the_right_password(identity, profiles, clock) -> None:
    confirmed_account(identity, profiles, clock)
    tokens = service.login(service.Login(email="Ada@Example.com", password=PASSWORD), identity)
    assert tokens.access_token
    assert tokens.id_token
    assert tokens.refresh_token
    assert tokens.token_type == "Bearer"


def test_wrong_password_and_unknown_email_fail_alike(identity, profiles, clock) -> None:
    confirmed_account(identity, profiles, clock)
    with pytest.raises(InvalidCredentials) as wrong_password:
        service.login(service.Login(email="ada@example.com", password="Wrong1Password"), identity)
    with pytest.raises(InvalidCredentials) as unknown_user:
        service.login(service.Login(email="nobody@example.com", password=PASSWORD), identity)
    assert wrong_password.value.to_problem() == unknown_user.value.to_problem()


def test_login_before_confirmation_is_refused(identity, profiles, clock) -> None:
    sign_up(identity, profiles, clock)
    with pytest.raises(AccountNotConfirmed):
        service.login(service.Login(email="ada@example.com", password=PASSWORD), identity)


def test_refresh_gives_new_tokens(identity, profiles, clock) -> None:
    confirmed_account(identity, profiles, clock)
    tokens = service.login(service.Login(email="ada@example.com", password=PASSWORD), identity)
    assert tokens.refresh_token is not None
    renewed = service.refresh_tokens(service.RefreshTokens(refresh_token=tokens.refresh_token), identity)
    assert renewed.access_token != tokens.access_token


def test_refresh_with_an_unknown_token_is_unauthorized(identity) -> None:
    with pytest.raises(InvalidRefreshToken) as caught:
        service.refresh_tokens(service.RefreshTokens(refresh_token="forged"), identity)
    assert status_of(caught.value, ERRORS) == 401


# -- me --------------------------------------------------------------------------------------------------------------
def test_me_joins_the_token_roles_with_the_stored_profile(identity, profiles, clock) -> None:
    confirmed_account(identity, profiles, clock)
    user_id = identity.account("ada@example.com").user_id
    me = service.get_me(service.GetMe(Caller(user_id=user_id, roles=frozenset({"customer"}))), profiles)
    assert me.user_id == user_id
    assert me.email == "ada@example.com"
    assert me.roles == frozenset({"customer"})
    assert me.status is AccountStatus.CONFIRMED
    assert me.created_at is not None
    assert me.confirmed_at is not None


def test_me_without_a_profile_is_shown_from_the_token(profiles) -> None:
    caller = Caller(user_id="staff-1", roles=frozenset({"admin"}), email="boss@example.com")
    me = service.get_me(service.GetMe(caller), profiles)
    assert (me.user_id, me.email, me.roles, me.status) == (
        "staff-1",
        "boss@example.com",
        frozenset({"admin"}),
        AccountStatus.CONFIRMED,
    )
    assert me.created_at is None
