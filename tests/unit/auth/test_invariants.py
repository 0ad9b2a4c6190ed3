"""The auth table's invariants (``gears check``) over items as the table holds them."""

from __future__ import annotations

from typing import Any

import pytest

from auth.invariants import checks
from gears_shared.invariants import Shop


def profile(**extra: Any) -> dict[str, Any]:
    return {
        "pk": "USER#u1",
        "sk": "PROFILE",
        "entity": "Profile",
        "userId": "u1",
        "email": "ada@example.com",
        "status": "CONFIRMED",
        "name": "Ada",
        "phone": "+447700900123",
        "locale": "en-GB",
        "version": 3,
    } | extra


def sent(*hours: int) -> list[str]:
    return [f"2025-01-01T{h:02d}:00:00.000000+0000" for h in hours]


def problems(*items: dict[str, Any]) -> list[int]:
    return [c.problem_count for c in checks(items, Shop())]


def test_a_sound_profile_and_other_items_pass() -> None:
    pending = profile(pendingPhone="+447700900456", phoneCodeDigest="ab" * 32, phoneCodeAttempts=2)
    role_change = {"pk": "USER#u1", "sk": "ROLES#x", "entity": "RoleChange", "name": "\x00 not a profile"}
    assert problems(profile(), pending | {"codesSent": sent(1, 2, 3, 4, 5)}, role_change) == [0, 0]


@pytest.mark.parametrize(
    "extra",
    [{"name": " Ada "}, {"name": "Ada\x1b"}, {"phone": "07700900123"}, {"locale": "en-gb"}, {"pendingPhone": "x"}],
    ids=["untrimmed name", "control character", "not e164", "locale case", "pending not e164"],
)
def test_a_field_its_rule_would_not_keep_is_reported(extra: dict[str, Any]) -> None:
    assert problems(profile(**extra))[0] == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"pendingPhone": "+447700900456"},  # no code
        {"phoneCodeDigest": "ab" * 32},  # a code for nothing
        {"pendingPhone": "+447700900456", "phoneCodeDigest": "ab" * 32, "phoneCodeAttempts": 6},
        {"codesSent": sent(1, 2, 3, 4, 5, 6)},
    ],
    ids=["pending without code", "code without pending", "too many tries", "six codes in a day"],
)
def test_a_code_out_of_its_rules_is_reported(extra: dict[str, Any]) -> None:
    assert problems(profile(**extra))[1] == 1
