from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auth.api import ERRORS
from auth.domain import (
    PASSWORD_POLICY,
    AccountStatus,
    Identity,
    InvalidEmail,
    PasswordPolicy,
    Profile,
    WeakPassword,
    normalize_email,
)
from gears_shared.errors import status_of

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+shop@Example.COM ", "ada.lovelace+shop@example.com"),
        ("o'neil@sub.example.co.uk", "o'neil@sub.example.co.uk"),
    ],
)
def test_normalize_email_trims_and_lowercases(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "a da@example.com",
        "ada@example..com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_normalize_email_refuses_what_is_not_an_address(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_policy_accepts_a_password_meeting_every_rule() -> None:
    assert PASSWORD_POLICY.unmet("Correct1Horse") == []
    PASSWORD_POLICY.check("Correct1Horse")


def test_policy_lists_every_unmet_rule_at_once() -> None:
    with pytest.raises(WeakPassword) as caught:
        PASSWORD_POLICY.check("short")
    assert caught.value.extra["unmet"] == ["at least 10 characters", "an upper-case letter", "a digit"]
    assert status_of(caught.value, ERRORS) == 400


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("alllowercase1", "an upper-case letter"),
        ("ALLUPPERCASE1", "a lower-case letter"),
        ("NoDigitsHereAtAll", "a digit"),
        (" Leading1space", "no space at the start or end"),
        ("Trailing1space ", "no space at the start or end"),
        ("A1" + "a" * 255, "at most 256 characters"),
    ],
)
def test_policy_names_the_rule_a_password_breaks(password: str, rule: str) -> None:
    assert PASSWORD_POLICY.unmet(password) == [rule]


def test_a_stricter_policy_can_require_symbols() -> None:
    policy = PasswordPolicy(require_symbol=True)
    assert policy.unmet("Correct1Horse") == ["a symbol"]
    assert policy.unmet("Correct1Horse!") == []


def test_register_makes_an_unconfirmed_profile_with_a_normalized_email() -> None:
    profile = Profile.register("u-1", " Ada@Example.com", T0)
    assert profile.email == "ada@example.com"
    assert profile.status is AccountStatus.UNCONFIRMED
    assert not profile.is_confirmed
    assert profile.created_at == profile.updated_at == T0
    assert profile.confirmed_at is None
    assert profile.version == 0


def test_confirm_records_when_and_is_idempotent() -> None:
    later = T0 + timedelta(minutes=5)
    confirmed = Profile.register("u-1", "ada@example.com", T0).confirm(later)
    assert confirmed.is_confirmed
    assert confirmed.confirmed_at == confirmed.updated_at == later
    assert confirmed.created_at == T0
    assert confirmed.confirm(later + timedelta(days=1)) is confirmed


def test_identity_is_confirmed_only_in_the_confirmed_state() -> None:
    assert Identity("u", "a@b.co", "CONFIRMED").is_confirmed
    assert not Identity("u", "a@b.co", "UNCONFIRMED").is_confirmed
    assert not Identity("u", "a@b.co", "FORCE_CHANGE_PASSWORD").is_confirmed
