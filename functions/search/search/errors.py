"""Search's errors that are not rules of its domain."""

from __future__ import annotations

from gears_shared.errors import BadRequest, DependencyFailed


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    code = "invalid-cursor"


class IndexUnavailable(DependencyFailed):
    """A query function with no copy of the index yet could not read the bucket (answers 502)."""

    title = "Search unavailable"
    code = "search-unavailable"
