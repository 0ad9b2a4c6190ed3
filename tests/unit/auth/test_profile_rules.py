"""The profile's own rules, without I/O: names, phone numbers, locales, and the phone's confirmation code."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from auth.domain import (
    PHONE_CODE_MAX_ATTEMPTS,
    PHONE_CODES_PER_DAY,
    InvalidLocale,
    InvalidName,
    InvalidPhone,
    NoPendingPhone,
    PhoneCodeAttemptsExhausted,
    PhoneCodeExpired,
    PhoneCodeLimitReached,
    PhoneCodeRecentlySent,
    Profile,
    normalize_locale,
    normalize_name,
    normalize_phone,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PHONE = "+447700900123"
OTHER = "+447700900456"


def confirmed(**fields: object) -> Profile:
    profile = Profile.register("user-1", "ada@example.com", T0).confirm(T0)
    return replace(profile, **fields)  # type: ignore[arg-type]


# -- names ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("  Ada Lovelace ", "Ada Lovelace"),
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # decomposed: kept in NFC, so the same name is the same string
        ("<b>Ada</b> {{ 7*7 }}", "<b>Ada</b> {{ 7*7 }}"),  # data, never markup: whoever shows it escapes it
        ("\u0645\u06cc\u200c\u0631\u0632\u0627", "\u0645\u06cc\u200c\u0631\u0632\u0627"),  # a ZWNJ belongs to it
        ("x" * 100, "x" * 100),
    ],
)
def test_a_name_is_kept_trimmed_and_as_written(raw: str, kept: str) -> None:
    assert normalize_name(raw) == kept


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "x" * 101,
        "Ada\nLovelace",
        "Ada\x00",
        "Ada\x1b[31m",
        "Ada\u202eecalevol",
        "Ada\u2028King",
        "\ufeffAda",
    ],
    ids=["empty", "blank", "101", "newline", "nul", "escape", "bidi override", "line separator", "bom"],
)
def test_a_name_with_nothing_or_control_characters_is_refused(raw: str) -> None:
    with pytest.raises(InvalidName):
        normalize_name(raw)


# -- phones ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["+447700900123", " +12025550123 ", "+4915123456789", "+12345678"])
def test_an_e164_number_is_taken(raw: str) -> None:
    assert normalize_phone(raw) == raw.strip()


@pytest.mark.parametrize(
    "raw",
    ["447700900123", "+44 7700 900123", "+44-7700-900123", "+0447700900123", "+1234567", "+1234567890123456", "+44abc"],
)
def test_anything_but_e164_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


# -- locales --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("en-GB", "en-GB"),
        ("en-gb", "en-GB"),
        ("FR", "fr"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("de-CH-1996", "de-CH-1996"),
    ],
)
def test_a_bcp47_tag_is_kept_in_its_canonical_case(raw: str, canonical: str) -> None:
    assert normalize_locale(raw) == canonical


@pytest.mark.parametrize("raw", ["", "en_GB", "english", "e", "en-", "en-GB-", "1en", "en-GB-x-private", "a" * 36])
def test_anything_but_a_language_tag_is_refused(raw: str) -> None:
    with pytest.raises(InvalidLocale):
        normalize_locale(raw)


# -- the profile's fields ---------------------------------------------------------------------------------------------
def test_setting_a_field_to_what_it_is_changes_nothing() -> None:
    profile = confirmed(name="Ada", locale="en-GB")
    assert profile.with_name(" Ada ", T0 + timedelta(hours=1)) is profile
    assert profile.with_locale("en-gb", T0 + timedelta(hours=1)) is profile
    assert profile.with_name(None, T0).name is None
    assert profile.with_locale("fr-FR", T0).locale == "fr-FR"


def test_a_name_given_at_sign_up_is_checked_like_any_other() -> None:
    assert Profile.register("u", "a@example.com", T0, name="  Ada ").name == "Ada"
    with pytest.raises(InvalidName):
        Profile.register("u", "a@example.com", T0, name="\x07")


# -- the phone and its code ---------------------------------------------------------------------------------------
def test_a_new_phone_awaits_its_code_and_the_confirmed_one_stays_meanwhile() -> None:
    profile = confirmed(phone=OTHER).request_phone(PHONE, "123456", "salt", T0)
    assert (profile.phone, profile.pending_phone) == (OTHER, PHONE)
    assert profile.phone_code is not None
    assert "123456" not in repr(profile.phone_code)  # only a digest is kept
    assert profile.phone_code.expires_at == T0 + timedelta(minutes=10)


def test_the_right_code_confirms_the_pending_phone() -> None:
    profile = confirmed().request_phone(PHONE, "123456", "salt", T0)
    done, wrong = profile.attempt_phone_code(" 123456 ", T0 + timedelta(minutes=9))
    assert wrong is None
    assert (done.phone, done.pending_phone, done.phone_code, done.phone_verified) == (PHONE, None, None, True)


def test_a_wrong_code_is_counted_and_says_how_many_tries_are_left() -> None:
    profile = confirmed().request_phone(PHONE, "123456", "salt", T0)
    counted, wrong = profile.attempt_phone_code("654321", T0)
    assert wrong is not None
    assert wrong.extra == {"attemptsLeft": PHONE_CODE_MAX_ATTEMPTS - 1}
    assert counted.phone is None
    assert counted.pending_phone == PHONE
    assert counted.phone_code is not None
    assert counted.phone_code.attempts == 1


def test_after_five_wrong_codes_even_the_right_one_is_refused() -> None:
    profile = confirmed().request_phone(PHONE, "123456", "salt", T0)
    left = []
    for attempt in range(PHONE_CODE_MAX_ATTEMPTS):
        profile, wrong = profile.attempt_phone_code(f"00000{attempt}", T0)
        assert wrong is not None
        left.append(wrong.extra["attemptsLeft"])
    assert left == [4, 3, 2, 1, 0]
    with pytest.raises(PhoneCodeAttemptsExhausted):
        profile.attempt_phone_code("123456", T0)


def test_an_expired_code_is_refused_and_changes_nothing() -> None:
    profile = confirmed().request_phone(PHONE, "123456", "salt", T0)
    with pytest.raises(PhoneCodeExpired):
        profile.attempt_phone_code("123456", T0 + timedelta(minutes=10))


def test_a_code_confirms_only_the_number_it_was_sent_to() -> None:
    """The digest binds the user and the number: a code cannot be moved to another number or account."""
    sent = confirmed().request_phone(PHONE, "123456", "salt", T0)
    assert sent.phone_code is not None
    moved = replace(sent, pending_phone=OTHER)
    assert moved.attempt_phone_code("123456", T0)[1] is not None
    other_user = replace(sent, user_id="user-2")
    assert other_user.attempt_phone_code("123456", T0)[1] is not None


def test_no_pending_phone_no_code_to_check() -> None:
    with pytest.raises(NoPendingPhone):
        confirmed(phone=PHONE).attempt_phone_code("123456", T0)


def test_asking_again_replaces_the_code_but_not_within_a_minute() -> None:
    first = confirmed().request_phone(PHONE, "111111", "s1", T0)
    with pytest.raises(PhoneCodeRecentlySent) as refused:
        first.request_phone(PHONE, "222222", "s2", T0 + timedelta(seconds=20))
    assert refused.value.extra == {"retryAfterSeconds": 40}
    again = first.request_phone(PHONE, "222222", "s2", T0 + timedelta(seconds=60))
    assert again.attempt_phone_code("111111", T0 + timedelta(seconds=61))[1] is not None  # the old code is dead
    assert again.attempt_phone_code("222222", T0 + timedelta(seconds=61))[1] is None


def test_at_most_five_codes_a_day() -> None:
    profile, at = confirmed(), T0
    for n in range(PHONE_CODES_PER_DAY):
        profile = profile.request_phone(PHONE, f"{n:06d}", "s", at)
        at += timedelta(minutes=5)
    with pytest.raises(PhoneCodeLimitReached) as refused:
        profile.request_phone(PHONE, "999999", "s", at)
    assert refused.value.extra["retryAfterSeconds"] == int((timedelta(hours=24) - (at - T0)).total_seconds())
    later = profile.request_phone(PHONE, "999999", "s", T0 + timedelta(hours=24))  # the first has left the window
    assert len(later.codes_sent) == PHONE_CODES_PER_DAY


def test_the_confirmed_number_again_drops_the_pending_one_and_sends_nothing() -> None:
    profile = confirmed(phone=OTHER).request_phone(PHONE, "123456", "salt", T0)
    assert not profile.needs_code_for(OTHER)
    back = profile.without_pending_phone(T0)
    assert (back.phone, back.pending_phone, back.phone_code) == (OTHER, None, None)


def test_removing_the_phone_removes_both_numbers() -> None:
    profile = confirmed(phone=OTHER).request_phone(PHONE, "123456", "salt", T0)
    gone = profile.without_phone(T0)
    assert (gone.phone, gone.pending_phone, gone.phone_code, gone.phone_verified) == (None, None, None, False)
    assert gone.without_phone(T0) is gone
