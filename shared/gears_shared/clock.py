"""The one clock the use cases read by default (tests hand in their own), and the one way a moment is written."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_iso(moment: datetime) -> str:
    """A moment as the project writes it: ISO 8601 in UTC, milliseconds, ``Z`` (a moment without a zone is UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normal_iso(text: str) -> str:
    """An ISO 8601 time (``Z`` or an offset; none is UTC) written as :func:`utc_iso` writes it, so that times compare
    as strings (events' ``time``, kept to keep the newest)."""
    return utc_iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
