"""Typed errors and their RFC 9457 problem details.

A service raises its own error types and says nothing of HTTP in them: each one has a ``title``, a ``code`` (the
last part of the problem ``type``), a ``detail`` and, where a client can use them, ``extra`` fields. Which status
each type answers is said once per service, in the table its API hands to
:func:`gears_shared.http.create_resolver`; the kinds below carry a status there already (:data:`STATUS`), so a
service error that *is* one of them (``class ProductNotFound(NotFound)``) needs no row of its own.

Domain modules import nothing but the standard library, so their rule errors subclass plain ``Exception`` and may
set the same ``title``/``code``/``extra`` attributes; the HTTP layer reads them by name. Nobody matches on message
text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gears.dev/problems/"


class GearsError(Exception):
    """Base of every error a service raises on purpose: what went wrong, in the shop's words (no status)."""

    title: ClassVar[str] = "Internal error"
    code: ClassVar[str] = "internal-error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The problem body for this error, with the status its kind answers (see :data:`STATUS`)."""
        return problem(status_of(self), self.title, self.detail, code=self.code, instance=instance, **self.extra)


class BadRequest(GearsError):
    title = "Bad request"
    code = "bad-request"


class Unauthorized(GearsError):
    title = "Unauthorized"
    code = "unauthorized"


class Forbidden(GearsError):
    title = "Forbidden"
    code = "forbidden"


class NotFound(GearsError):
    title = "Not found"
    code = "not-found"


class Conflict(GearsError):
    title = "Conflict"
    code = "conflict"


class PayloadTooLarge(GearsError):
    title = "Payload too large"
    code = "payload-too-large"


class UnsupportedMediaType(GearsError):
    title = "Unsupported media type"
    code = "unsupported-media-type"


class BusinessRuleViolation(GearsError):
    title = "Business rule violated"
    code = "business-rule"


class Throttled(GearsError):
    title = "Too many requests"
    code = "throttled"


class DependencyFailed(GearsError):
    """A downstream the service relies on failed in a way the caller cannot fix (answers 502)."""

    title = "Dependency failed"
    code = "dependency-failed"


# The status of each kind; a service's own table (its API's ``ERRORS``) comes first, then this one.
STATUS: Mapping[type[BaseException], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    BusinessRuleViolation: 422,
    Throttled: 429,
    DependencyFailed: 502,
}


def status_of(error: BaseException, table: Mapping[type[BaseException], int] | None = None) -> int:
    """The status ``error`` answers: the nearest of its types in ``table``, then in :data:`STATUS`; else 500."""
    return status_for(type(error), table)


def status_for(error_type: type[BaseException], table: Mapping[type[BaseException], int] | None = None) -> int:
    """The status an error of ``error_type`` answers (see :func:`status_of`)."""
    for kind in error_type.__mro__:
        if table and kind in table:
            return table[kind]
        if kind in STATUS:
            return STATUS[kind]
    return 500


def problem(
    status: int, title: str, detail: str, *, code: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 problem details object."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body
