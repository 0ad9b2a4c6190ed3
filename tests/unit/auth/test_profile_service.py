"""Changing /me and confirming its phone, over the in-memory fakes: what the customer sees and what an SMS costs."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from auth import service
from auth.domain import (
    InvalidLocale,
    InvalidName,
    InvalidPhone,
    NoPendingPhone,
    PhoneCodeAttemptsExhausted,
    PhoneCodeExpired,
    PhoneCodeRecentlySent,
    Profile,
    WrongPhoneCode,
)
from auth.errors import ConcurrentUpdate, PhoneRefused, ProfileNotFound, SmsFailed
from gears_shared.auth import Caller
from tests.unit.auth.fakes import FakeSmsSender, InMemoryProfileRepository, SteppingClock

PHONE = "+447700900123"
OTHER = "+447700900456"


@pytest.fixture
def profiles() -> InMemoryProfileRepository:
    return InMemoryProfileRepository()


@pytest.fixture
def sms() -> FakeSmsSender:
    return FakeSmsSender()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def caller(profiles: InMemoryProfileRepository, clock: SteppingClock) -> Caller:
    user_id = str(uuid.uuid4())
    at = clock()
    profiles.save(Profile.register(user_id, f"{user_id[:8]}@example.com", at, name="Ada").confirm(at))
    return Caller(user_id=user_id, roles=frozenset({"customer"}), token_use="access")


def update(
    caller: Caller, profiles: InMemoryProfileRepository, sms: FakeSmsSender, clock: SteppingClock, **fields: Any
) -> service.Me:
    command = service.UpdateMe(caller=caller, given=frozenset(fields), correlation_id="corr-1", **fields)
    return service.update_me(command, profiles, sms, now=clock)


def confirm(caller: Caller, profiles: InMemoryProfileRepository, code: str, clock: SteppingClock) -> service.Me:
    return service.confirm_phone(service.ConfirmPhone(caller=caller, code=code), profiles, now=clock)


def test_name_and_locale_change_and_what_is_left_out_stays(caller, profiles, sms, clock) -> None:
    me = update(caller, profiles, sms, clock, locale="en-gb")
    assert (me.name, me.locale, me.phone, me.pending_phone) == ("Ada", "en-GB", None, None)
    me = update(caller, profiles, sms, clock, name="  Ada King ")
    assert (me.name, me.locale) == ("Ada King", "en-GB")
    me = update(caller, profiles, sms, clock, name=None, locale=None)
    assert (me.name, me.locale) == (None, None)
    assert sms.sent == []
    assert profiles.correlation_ids[caller.user_id] == "corr-1"


def test_nothing_to_change_writes_nothing(caller, profiles, sms, clock) -> None:
    version = profiles.items[caller.user_id].version
    update(caller, profiles, sms, clock)
    update(caller, profiles, sms, clock, name="Ada")
    assert profiles.items[caller.user_id].version == version


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "Ada", "phone": "07700 900123"}, InvalidPhone),
        ({"phone": PHONE, "locale": "en_GB"}, InvalidLocale),
        ({"phone": PHONE, "name": "\x00"}, InvalidName),
    ],
)
def test_one_bad_field_changes_nothing_and_sends_nothing(caller, profiles, sms, clock, fields, error) -> None:
    before = profiles.items[caller.user_id]
    with pytest.raises(error):
        update(caller, profiles, sms, clock, **fields)
    assert profiles.items[caller.user_id] == before
    assert sms.sent == []


def test_a_new_phone_gets_a_code_by_sms_and_the_code_confirms_it(caller, profiles, sms, clock) -> None:
    me = update(caller, profiles, sms, clock, phone=PHONE)
    assert (me.phone, me.pending_phone, me.phone_verified) == (None, PHONE, False)
    assert me.phone_code_expires_at is not None
    (code,) = sms.codes_to(PHONE)
    assert len(code) == 6
    assert code.isdigit()
    assert "expires in 10 minutes" in sms.sent[0].text
    me = confirm(caller, profiles, code, clock)
    assert (me.phone, me.pending_phone, me.phone_verified, me.phone_code_expires_at) == (PHONE, None, True, None)


def test_a_wrong_code_changes_no_phone_and_the_sixth_try_needs_a_new_code(caller, profiles, sms, clock) -> None:
    update(caller, profiles, sms, clock, phone=PHONE)
    (code,) = sms.codes_to(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in range(4, -1, -1):
        with pytest.raises(WrongPhoneCode) as refused:
            confirm(caller, profiles, wrong, clock)
        assert refused.value.extra == {"attemptsLeft": left}
    with pytest.raises(PhoneCodeAttemptsExhausted):
        confirm(caller, profiles, code, clock)
    assert profiles.items[caller.user_id].phone is None
    clock.advance(minutes=1)
    update(caller, profiles, sms, clock, phone=PHONE)  # a new code
    me = confirm(caller, profiles, sms.codes_to(PHONE)[-1], clock)
    assert me.phone == PHONE


def test_an_expired_code_is_refused(caller, profiles, sms, clock) -> None:
    update(caller, profiles, sms, clock, phone=PHONE)
    clock.advance(minutes=10)
    with pytest.raises(PhoneCodeExpired):
        confirm(caller, profiles, sms.codes_to(PHONE)[0], clock)
    assert profiles.items[caller.user_id].phone is None


def test_confirming_with_no_phone_awaiting_a_code(caller, profiles, clock) -> None:
    with pytest.raises(NoPendingPhone):
        confirm(caller, profiles, "123456", clock)


def test_a_second_code_within_a_minute_is_refused_and_not_sent(caller, profiles, sms, clock) -> None:
    update(caller, profiles, sms, clock, phone=PHONE)
    with pytest.raises(PhoneCodeRecentlySent):
        update(caller, profiles, sms, clock, phone=PHONE)
    with pytest.raises(PhoneCodeRecentlySent):  # another number is no way round it
        update(caller, profiles, sms, clock, phone=OTHER)
    assert len(sms.sent) == 1


def test_a_changed_number_keeps_the_confirmed_one_until_its_code_comes(caller, profiles, sms, clock) -> None:
    update(caller, profiles, sms, clock, phone=PHONE)
    confirm(caller, profiles, sms.codes_to(PHONE)[0], clock)
    clock.advance(minutes=1)
    me = update(caller, profiles, sms, clock, phone=OTHER)
    assert (me.phone, me.pending_phone) == (PHONE, OTHER)
    me = update(caller, profiles, sms, clock, phone=PHONE)  # changed their mind: nothing sent
    assert (me.phone, me.pending_phone) == (PHONE, None)
    assert len(sms.sent) == 2


def test_null_removes_the_phone(caller, profiles, sms, clock) -> None:
    update(caller, profiles, sms, clock, phone=PHONE)
    confirm(caller, profiles, sms.codes_to(PHONE)[0], clock)
    me = update(caller, profiles, sms, clock, phone=None)
    assert (me.phone, me.pending_phone, me.phone_verified) == (None, None, False)


def test_a_number_the_provider_refuses_changes_nothing(caller, profiles, sms, clock) -> None:
    sms.refuse.add(PHONE)
    before = profiles.items[caller.user_id]
    with pytest.raises(PhoneRefused):
        update(caller, profiles, sms, clock, phone=PHONE, name="Ada King")
    after = profiles.items[caller.user_id]
    assert replace(after, version=before.version, updated_at=before.updated_at) == before  # as it was, name included
    assert after.updated_at > before.updated_at  # later than the write it undid: consumers keep the newest
    sms.refuse.clear()
    update(caller, profiles, sms, clock, phone=PHONE)  # and the failed send held no one back
    assert len(sms.sent) == 1


def test_an_sms_outage_changes_nothing_and_the_customer_may_try_again_at_once(caller, profiles, sms, clock) -> None:
    sms.fail_next = 1
    with pytest.raises(SmsFailed):
        update(caller, profiles, sms, clock, phone=PHONE)
    assert profiles.items[caller.user_id].pending_phone is None
    me = update(caller, profiles, sms, clock, phone=PHONE)
    assert me.pending_phone == PHONE
    assert len(sms.codes_to(PHONE)) == 1


def test_an_account_without_a_profile_has_nothing_to_change(profiles, sms, clock) -> None:
    operator_made = Caller(user_id="operator-made", roles=frozenset({"admin"}), token_use="access")
    with pytest.raises(ProfileNotFound):
        update(operator_made, profiles, sms, clock, name="Root")
    with pytest.raises(ProfileNotFound):
        confirm(operator_made, profiles, "123456", clock)


class StaleReads(InMemoryProfileRepository):
    """Hands out the profile as it was when :meth:`hold` was called: a request that read before another wrote."""

    def __init__(self, inner: InMemoryProfileRepository) -> None:
        super().__init__()
        self.items, self.correlation_ids = inner.items, inner.correlation_ids
        self.held: Profile | None = None

    def hold(self, user_id: str) -> None:
        self.held = self.items[user_id]

    def get(self, user_id: str) -> Profile | None:
        return self.held or super().get(user_id)


def test_a_guess_whose_count_cannot_be_stored_gets_no_answer(caller, profiles, sms, clock) -> None:
    """Guesses sent at once read the same profile; only one may store its count, and only a stored guess is
    answered. The others are 409, right code or wrong: the attempt limit cannot be outrun."""
    update(caller, profiles, sms, clock, phone=PHONE)
    (code,) = sms.codes_to(PHONE)
    racing = StaleReads(profiles)
    racing.hold(caller.user_id)
    with pytest.raises(WrongPhoneCode):
        confirm(caller, racing, "000000" if code != "000000" else "111111", clock)
    with pytest.raises(ConcurrentUpdate):
        confirm(caller, racing, code, clock)  # the right code, in the same race: no answer about it
    assert profiles.items[caller.user_id].phone is None
    code_kept = profiles.items[caller.user_id].phone_code
    assert code_kept is not None
    assert code_kept.attempts == 1


def test_get_me_shows_the_profile_fields(caller, profiles, sms, clock) -> None:
    update(caller, profiles, sms, clock, phone=PHONE, locale="fr-FR")
    me = service.get_me(service.GetMe(caller=caller), profiles)
    assert (me.name, me.phone, me.pending_phone, me.locale, me.phone_verified) == ("Ada", None, PHONE, "fr-FR", False)
    assert me.phone_code_expires_at is not None
    assert me.phone_code_expires_at - clock.current < timedelta(minutes=10)
