"""Lambda event filtering (an event source mapping's ``FilterCriteria``), as the local pollers apply it.

A record is delivered when it matches any of the filters' patterns; Lambda drops the others (an SQS message is
deleted, a stream record is passed over) without invoking the function. A pattern is a JSON object whose keys are
the record's fields, nested as the record is; a leaf is a list of matchers, any of which may match the field's value
(or, for a list value, any of its elements):

- a string, number, boolean or ``null``: equal to it;
- ``{"prefix": s}``, ``{"suffix": s}``, ``{"equals-ignore-case": s}``;
- ``{"anything-but": v}`` (a value or a list of values; or ``{"prefix": s}``);
- ``{"exists": true|false}``;
- ``{"numeric": [op, n, (op, n)]}`` with ``=``, ``<``, ``<=``, ``>``, ``>=``.

For SQS the message body is matched as JSON under ``body`` when it is a JSON object (as Lambda does), else as the
string. These are the rules of the Lambda developer guide's "Lambda event filtering" page.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FilterError(ValueError):
    """A pattern Lambda would refuse."""


def parse_filters(criteria: Any) -> list[dict[str, Any]]:
    """The patterns of a ``FilterCriteria`` property (``{"Filters": [{"Pattern": "<json>"}, ...]}``)."""
    if not criteria:
        return []
    patterns = []
    for entry in criteria.get("Filters") or []:
        raw = entry.get("Pattern")
        pattern = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(pattern, dict) or not pattern:
            raise FilterError(f"a filter pattern is a JSON object: {raw!r}")
        patterns.append(pattern)
    return patterns


def delivered(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether Lambda would deliver ``record``: no filters, or one pattern that matches."""
    return not patterns or any(matches(p, record) for p in patterns)


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as filters see it: its body parsed when it is a JSON object."""
    body = record.get("body")
    try:
        parsed = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return record
    return {**record, "body": parsed} if isinstance(parsed, dict) else record


def matches(pattern: dict[str, Any], value: Any) -> bool:
    for key, expected in pattern.items():
        field = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(expected, dict):
            if not isinstance(field, dict) or not matches(expected, field):
                return False
        elif isinstance(expected, list):
            if not any(_leaf(m, field) for m in expected):
                return False
        else:
            raise FilterError(f"{key}: a pattern's leaf is a list of matchers, not {expected!r}")
    return True


def _leaf(matcher: Any, field: Any) -> bool:
    if isinstance(matcher, dict) and len(matcher) == 1 and "exists" in matcher:
        return (field is not _MISSING) == bool(matcher["exists"])
    if field is _MISSING:
        return False
    values = field if isinstance(field, list) else [field]
    return any(_one(matcher, v) for v in values)


def _one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return bool(matcher == value and type(matcher) is type(value)) or (
            isinstance(matcher, int | float) and isinstance(value, int | float) and matcher == value
        )
    if len(matcher) != 1:
        raise FilterError(f"a matcher has one operator: {matcher!r}")
    ((op, arg),) = matcher.items()
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if op == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(arg).lower()
    if op == "anything-but":
        if isinstance(arg, dict):
            return not _one(arg, value)
        return all(not _one(a, value) for a in (arg if isinstance(arg, list) else [arg]))
    if op == "numeric":
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        pairs = list(zip(arg[0::2], arg[1::2], strict=True))
        return all(_NUMERIC[o](value, float(n)) for o, n in pairs)
    raise FilterError(f"unknown matcher {op!r}")
