"""Use cases of issue 3 with in-memory fakes: password reset, logout, and an admin setting a user's roles."""

from __future__ import annotations

import pytest

from auth import service
from auth.api import ERRORS
from auth.domain import InvalidEmail, WeakPassword
from auth.errors import (
    CannotRemoveOwnAdmin,
    InvalidCode,
    InvalidCredentials,
    InvalidRefreshToken,
    SessionRevoked,
    SignInLockedOut,
    UserNotFound,
)
from gears_shared.auth import Caller
from gears_shared.errors import Forbidden, status_of
from tests.unit.auth.fakes import (
    GOOD_CODE,
    LOCKOUT_AFTER,
    FakeIdentityProvider,
    InMemoryAuditLog,
    InMemoryProfileRepository,
    SteppingClock,
)

PASSWORD = "Correct1Horse"
NEW_PASSWORD = "Battery9Staple"


@pytest.fixture
def identity() -> FakeIdentityProvider:
    return FakeIdentityProvider()


@pytest.fixture
def audit() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


def customer(identity: FakeIdentityProvider, email: str, *groups: str) -> tuple[str, str, str]:
    """A confirmed account in ``groups`` (customer always); its user id, access token and refresh token."""
    profiles, clock = InMemoryProfileRepository(), SteppingClock()
    service.sign_up(service.SignUp(email=email, password=PASSWORD), identity, profiles, now=clock)
    service.confirm_sign_up(service.ConfirmSignUp(email=email, code=GOOD_CODE), identity, profiles, now=clock)
    account = identity.account(email)
    account.groups.update(groups)
    tokens = identity.login(email, PASSWORD)
    assert tokens.refresh_token
    return account.user_id, tokens.access_token, tokens.refresh_token


def caller(user_id: str, *roles: str) -> Caller:
    return Caller(user_id=user_id, roles=frozenset(roles), token_use="access")


# -- forgotten password ----------------------------------------------------------------------------------------------
def test_forgot_password_sends_a_code_to_a_known_account(identity) -> None:
    customer(identity, "ada@example.com")
    service.forgot_password(service.ForgotPassword(email=" ADA@example.com"), identity)
    assert identity.account("ada@example.com").reset_code == GOOD_CODE


def test_forgot_password_for_an_unknown_email_ends_the_same_way(identity) -> None:
    assert service.forgot_password(service.ForgotPassword(email="nobody@example.com"), identity) is None


def test_forgot_password_refuses_what_is_not_an_email(identity) -> None:
    with pytest.raises(InvalidEmail):
        service.forgot_password(service.ForgotPassword(email="not an email"), identity)


def test_reset_sets_the_new_password_and_ends_every_session(identity) -> None:
    user_id, _, refresh = customer(identity, "ada@example.com")
    service.forgot_password(service.ForgotPassword(email="ada@example.com"), identity)
    service.reset_password(
        service.ResetPassword(email="ada@example.com", code=f" {GOOD_CODE} ", new_password=NEW_PASSWORD), identity
    )
    assert identity.calls == [("sign_out_user", user_id)]
    with pytest.raises(InvalidRefreshToken):
        identity.refresh(refresh)
    with pytest.raises(InvalidCredentials):
        identity.login("ada@example.com", PASSWORD)
    assert identity.login("ada@example.com", NEW_PASSWORD).access_token


def test_reset_with_a_wrong_code_changes_nothing(identity) -> None:
    customer(identity, "ada@example.com")
    service.forgot_password(service.ForgotPassword(email="ada@example.com"), identity)
    with pytest.raises(InvalidCode):
        service.reset_password(
            service.ResetPassword(email="ada@example.com", code="999999", new_password=NEW_PASSWORD), identity
        )
    assert identity.calls == []
    assert identity.login("ada@example.com", PASSWORD).access_token


def test_reset_checks_the_password_rules_before_the_code(identity) -> None:
    customer(identity, "ada@example.com")
    service.forgot_password(service.ForgotPassword(email="ada@example.com"), identity)
    with pytest.raises(WeakPassword):
        service.reset_password(
            service.ResetPassword(email="ada@example.com", code=GOOD_CODE, new_password="weak"), identity
        )
    assert identity.account("ada@example.com").reset_code == GOOD_CODE  # not spent


# -- lockout and logout ----------------------------------------------------------------------------------------------
def test_repeated_wrong_passwords_lock_the_sign_in_even_for_the_right_one(identity) -> None:
    customer(identity, "ada@example.com")
    for _ in range(LOCKOUT_AFTER):
        with pytest.raises(InvalidCredentials):
            service.login(service.Login(email="ada@example.com", password="Wrong1Password"), identity)
    with pytest.raises(SignInLockedOut) as locked:
        service.login(service.Login(email="ada@example.com", password=PASSWORD), identity)
    assert status_of(locked.value, ERRORS) == 429


def test_logout_revokes_the_refresh_token_and_the_session(identity) -> None:
    _, access, refresh = customer(identity, "ada@example.com")
    service.log_out(service.LogOut(access_token=access), identity)
    with pytest.raises(InvalidRefreshToken):
        service.refresh_tokens(service.RefreshTokens(refresh_token=refresh), identity)
    with pytest.raises(SessionRevoked):
        service.log_out(
            service.LogOut(access_token=access), identity
        )  # the same token a second time: it no longer counts


# -- roles -----------------------------------------------------------------------------------------------------------
def set_roles(
    identity: FakeIdentityProvider,
    audit: InMemoryAuditLog,
    admin: tuple[str, str, str],
    user_id: str,
    *roles: str,
    clock: SteppingClock | None = None,
    actor_roles: tuple[str, ...] = ("admin", "customer"),
):
    admin_id, admin_access, _ = admin
    return service.set_roles(
        service.SetRoles(
            user_id=user_id,
            roles=frozenset(roles),
            caller=caller(admin_id, *actor_roles),
            access_token=admin_access,
            correlation_id="corr-1",
        ),
        identity,
        audit,
        now=clock or SteppingClock(),
    )


def test_an_admin_gives_a_customer_the_support_role(identity, audit, clock) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    user_id, _, refresh = customer(identity, "ada@example.com")
    change = set_roles(identity, audit, admin, user_id, "support", clock=clock)
    assert identity.groups_of(user_id) == {"customer", "support"}
    assert (change.before, change.after, change.added, change.removed) == (
        {"customer"},
        {"customer", "support"},
        {"support"},
        frozenset(),
    )
    assert audit.changes == [change]
    assert (change.changed_by, change.correlation_id) == (admin[0], "corr-1")
    with pytest.raises(InvalidRefreshToken):  # tokens with the old roles cannot be refreshed
        identity.refresh(refresh)


def test_roles_are_set_exactly_and_customer_is_always_kept(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    user_id, _, _ = customer(identity, "ada@example.com", "support", "admin", "beta-testers")
    change = set_roles(identity, audit, admin, user_id)  # an empty list: back to a plain customer
    assert change.after == {"customer"}
    assert change.removed == {"support", "admin"}
    assert identity.groups_of(user_id) == {"customer", "beta-testers"}  # groups that are not roles stay


def test_setting_the_roles_a_user_has_audits_but_signs_nobody_out(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    user_id, _, refresh = customer(identity, "ada@example.com")
    change = set_roles(identity, audit, admin, user_id, "customer")
    assert not change.changed
    assert len(audit.changes) == 1
    assert identity.refresh(refresh).access_token


@pytest.mark.parametrize("roles", [("customer",), ("customer", "support"), ()])
def test_only_an_admin_may_set_roles(identity, audit, roles: tuple[str, ...]) -> None:
    someone = customer(identity, "ada@example.com", *roles)
    with pytest.raises(Forbidden):
        set_roles(identity, audit, someone, someone[0], "admin", actor_roles=roles)
    assert identity.groups_of(someone[0]) == {"customer", *roles}
    assert audit.changes == []


def test_an_admin_whose_session_was_revoked_is_refused(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    user_id, _, _ = customer(identity, "ada@example.com")
    identity.sign_out_user(admin[0])  # e.g. demoted by another admin; the token still passes the gateway
    with pytest.raises(SessionRevoked) as refused:
        set_roles(identity, audit, admin, user_id, "admin")
    assert status_of(refused.value, ERRORS) == 401
    assert identity.groups_of(user_id) == {"customer"}


def test_a_token_of_someone_else_does_not_make_an_admin(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    user_id, user_access, _ = customer(identity, "ada@example.com")
    with pytest.raises(SessionRevoked):
        set_roles(identity, audit, (admin[0], user_access, ""), user_id, "admin")


def test_an_unknown_user_is_404_and_nothing_is_audited(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    with pytest.raises(UserNotFound) as missing:
        set_roles(identity, audit, admin, "no-such-user", "support")
    assert status_of(missing.value, ERRORS) == 404
    assert audit.changes == []


def test_an_admin_cannot_take_the_admin_role_from_themselves(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    with pytest.raises(CannotRemoveOwnAdmin) as refused:
        set_roles(identity, audit, admin, admin[0], "support")
    assert status_of(refused.value, ERRORS) == 422
    assert identity.groups_of(admin[0]) == {"customer", "admin"}


def test_no_change_is_made_when_it_cannot_be_audited(identity, audit) -> None:
    admin = customer(identity, "boss@example.com", "admin")
    user_id, _, _ = customer(identity, "ada@example.com")
    audit.fail = True
    with pytest.raises(RuntimeError):
        set_roles(identity, audit, admin, user_id, "admin")
    assert identity.groups_of(user_id) == {"customer"}
