"""What must hold of the auth table once the shop is quiet (``gears check``; see :mod:`gears_shared.invariants`).

- **profile fields**: a kept name, phone and locale are what the rules of ``auth.domain`` would keep (a name
  trimmed and free of control characters, phones in E.164, a canonical BCP 47 locale).
- **phone codes**: a pending phone has its code and a code its pending phone; no code took more wrong tries than
  allowed, and no account was sent more codes in 24 hours than its allowance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from auth.domain import (
    CODES_WINDOW,
    PHONE_CODE_MAX_ATTEMPTS,
    PHONE_CODES_PER_DAY,
    normalize_locale,
    normalize_name,
    normalize_phone,
)
from auth.store import PROFILE_ENTITY
from gears_shared.invariants import Check, Shop

_STORED_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"  # PynamoDB's UTCDateTimeAttribute


def checks(items: Iterable[dict[str, Any]], shop: Shop) -> list[Check]:
    fields = Check("auth: profile names, phones and locales are as the rules keep them")
    codes = Check("auth: a pending phone has its code, within its tries and the day's allowance")
    for item in items:
        if item.get("entity") != PROFILE_ENTITY:
            continue
        fields.saw()
        codes.saw()
        who = str(item.get("userId"))
        _fields(who, item, fields)
        _codes(who, item, codes)
    return [fields, codes]


def _kept_as_is(value: Any, rule: Callable[[str], str]) -> bool:
    try:
        return rule(str(value)) == value
    except ValueError:
        return False


def _fields(who: str, item: dict[str, Any], check: Check) -> None:
    for field, rule in (
        ("name", normalize_name),
        ("phone", normalize_phone),
        ("pendingPhone", normalize_phone),
        ("locale", normalize_locale),
    ):
        value = item.get(field)
        if value is not None and not _kept_as_is(value, rule):
            check.fail(f"{who}: {field} {value!r} breaks its rule")


def _codes(who: str, item: dict[str, Any], check: Check) -> None:
    pending, digest = item.get("pendingPhone"), item.get("phoneCodeDigest")
    if bool(pending) != bool(digest):
        check.fail(f"{who}: pending phone {pending!r} with{'' if digest else 'out'} a code")
    if int(item.get("phoneCodeAttempts") or 0) > PHONE_CODE_MAX_ATTEMPTS:
        check.fail(f"{who}: the code took {item.get('phoneCodeAttempts')} wrong tries")
    sent = sorted(datetime.strptime(str(at), _STORED_TIME) for at in item.get("codesSent") or ())
    for first, last in zip(sent, sent[PHONE_CODES_PER_DAY:], strict=False):
        if last - first < CODES_WINDOW:
            check.fail(f"{who}: more than {PHONE_CODES_PER_DAY} codes sent within 24 hours from {first.isoformat()}")
            break
