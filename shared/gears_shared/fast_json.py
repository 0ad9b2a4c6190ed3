"""AWS JSON answers read without botocore's walk over the output shape, where the walk would change nothing.

botocore reads a JSON-protocol answer (DynamoDB, SQS, Cognito, SSM ...) in two steps: ``json.loads``, then a walk
of the result against the operation's output shape that turns blobs into bytes and timestamps into datetimes,
renames members whose wire name differs, and drops JSON ``null``\\ s. For a DynamoDB answer of items that walk is
most of the client's work: every attribute value is a structure of ten possible members, looked up one by one.
Profiled on ``GET /products`` (20 items a page) it was 11 of the handler's 25 ms, more than PynamoDB, Powertools
and the query itself; the same share of every DynamoDB read in every function, on Lambda as locally.

:func:`install` replaces botocore's parser for the ``json`` protocol with one that skips the walk when it is known to
change nothing: the output shape (computed once per shape) renames no member, holds no document type, and its blob
and timestamp members are absent from this answer (their wire names do not appear in the body at all; a DynamoDB
binary attribute ``"B"`` sends the answer the usual way). JSON ``null``\\ s are dropped as the walk drops them.
Anything else, every error answer (modeled or not) and every event stream, is botocore's own code. One difference
is accepted: a key the shape does not know is kept instead of dropped (AWS does not send them; our code reads the
keys it knows).

Installed by the services' ``bootstrap`` modules, so it covers boto3's clients and PynamoDB's alike; idempotent.
"""

from __future__ import annotations

import json
from typing import Any

_SCALARS = frozenset({"string", "integer", "long", "float", "double", "boolean"})


def _drop_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    if None in obj.values():
        return {k: v for k, v in obj.items() if v is not None}
    return obj


class _Plan:
    """Whether a shape's answers can be read as plain JSON, and the wire names that would make one not so."""

    __slots__ = ("plain", "sensitive")

    def __init__(self, plain: bool, sensitive: tuple[bytes, ...]) -> None:
        self.plain = plain
        self.sensitive = sensitive


class _Walk:
    """Judges a shape tree once: plain (the walk would change nothing) or not, and the sensitive wire names."""

    def __init__(self) -> None:
        self.sensitive: set[str] = set()
        self.seen: set[str] = set()

    def plain(self, s: Any, name: str | None) -> bool:
        kind = s.type_name
        if kind in _SCALARS:
            return True
        if kind in ("blob", "timestamp"):
            if name is not None:
                self.sensitive.add(name)
            return name is not None  # a map's blob values have no name to look for
        if kind == "list":
            return self.plain(s.member, name)
        if kind == "map":
            return bool(s.key.type_name == "string" and self.plain(s.value, None))
        return kind == "structure" and self.structure(s)

    def structure(self, s: Any) -> bool:
        if getattr(s, "is_document_type", False):
            return False
        if s.name in self.seen:
            return True  # recursive (DynamoDB's AttributeValue): judged where it was first met
        self.seen.add(s.name)  # by name: botocore makes a new Shape object at every member lookup
        return all(
            member.serialization.get("name", member_name) == member_name and self.plain(member, member_name)
            for member_name, member in s.members.items()
        )


def plan_for(shape: Any) -> _Plan:
    walk = _Walk()
    ok = walk.plain(shape, None)
    return _Plan(ok, tuple(f'"{n}"'.encode() for n in sorted(walk.sensitive)))


_plans: dict[int, tuple[Any, _Plan]] = {}


def plain_answer(body: bytes, shape: Any) -> dict[str, Any] | None:
    """The answer read as plain JSON, or ``None`` where botocore's walk over ``shape`` would change something."""
    cached = _plans.get(id(shape))
    if cached is None or cached[0] is not shape:
        cached = (shape, plan_for(shape))
        _plans[id(shape)] = cached
    plan = cached[1]
    if not plan.plain or any(name in body for name in plan.sensitive):
        return None
    try:
        parsed = json.loads(body, object_hook=_drop_nulls)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def install() -> None:
    """Put the fast reader in place of botocore's JSON-protocol parser (once per process)."""
    from botocore import parsers

    base = parsers.PROTOCOL_PARSERS.get("json")
    if base is None or getattr(base, "gears_fast", False) or not hasattr(base, "_inject_response_metadata"):
        return  # in place already, or a botocore this was not written for: its own parser stays

    class FastJSONParser(base):  # type: ignore[misc, valid-type]
        gears_fast = True

        def _do_parse(self, response: dict[str, Any], shape: Any) -> Any:
            body = response.get("body")
            if shape is not None and body and not shape.event_stream_name:
                parsed = plain_answer(body, shape)
                if parsed is not None:
                    self._inject_response_metadata(parsed, response["headers"])
                    return parsed
            return super()._do_parse(response, shape)

    parsers.PROTOCOL_PARSERS["json"] = FastJSONParser
