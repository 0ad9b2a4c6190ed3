"""Typed errors and their RFC 9457 problem details.

Services raise subclasses of these (``class ProductNotFound(NotFound)``); one handler in :mod:`gears_shared.http`
maps them to a status and an ``application/problem+json`` body. Nobody matches on message text.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gears.dev/problems/"


class GearsError(Exception):
    """Base of every error a service raises on purpose; ``status`` and ``title`` are the HTTP face of it."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    code: ClassVar[str] = "internal-error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return problem(self.status, self.title, self.detail, code=self.code, instance=instance, **self.extra)


class BadRequest(GearsError):
    status = 400
    title = "Bad request"
    code = "bad-request"


class Unauthorized(GearsError):
    status = 401
    title = "Unauthorized"
    code = "unauthorized"


class Forbidden(GearsError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


class NotFound(GearsError):
    status = 404
    title = "Not found"
    code = "not-found"


class Conflict(GearsError):
    status = 409
    title = "Conflict"
    code = "conflict"


class PayloadTooLarge(GearsError):
    status = 413
    title = "Payload too large"
    code = "payload-too-large"


class BusinessRuleViolation(GearsError):
    status = 422
    title = "Business rule violated"
    code = "business-rule"


class Throttled(GearsError):
    status = 429
    title = "Too many requests"
    code = "throttled"


class DependencyFailed(GearsError):
    """A downstream the service relies on failed in a way the caller cannot fix (answers 502)."""

    status = 502
    title = "Dependency failed"
    code = "dependency-failed"


def problem(
    status: int, title: str, detail: str, *, code: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 problem details object."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body
