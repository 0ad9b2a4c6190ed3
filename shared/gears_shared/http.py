"""The HTTP face every service shares: one resolver factory that maps errors once, and small helpers.

A service's ``api.py`` does::

    app = create_resolver()

    @app.get("/products/<product_id>")
    def get_product(product_id: str) -> dict: ...

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    def handler(event, context):
        return app.resolve(event, context)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from gears_shared.auth import Caller, caller_from_event, require_role
from gears_shared.errors import PROBLEM_CONTENT_TYPE, BadRequest, GearsError, NotFound

JSON = "application/json"
CORRELATION_HEADER = "x-correlation-id"
# The same rule as :func:`correlation_id`, as the JMESPath Powertools' ``inject_lambda_context`` takes.
CORRELATION_ID_PATH = 'headers."x-correlation-id" || requestContext.requestId'


def problem_response(error: GearsError, instance: str | None = None) -> Response:
    return Response(
        status_code=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(error.to_problem(instance)),
    )


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, default=str), headers=headers)


def _validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors, cut to what is safe and useful to show a client (no echo of the input)."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"] if isinstance(err, dict) else []
        if isinstance(err, dict) and err.get("type") == "json_invalid":
            loc = []  # the position in the text, not a field
        out.append(
            {
                "field": ".".join(loc) or None,
                "message": err.get("msg", "invalid") if isinstance(err, dict) else str(err),
                "type": err.get("type") if isinstance(err, dict) else None,
            }
        )
    return out


def create_resolver(logger: Logger | None = None, *, strip_prefixes: list[str] | None = None) -> APIGatewayHttpResolver:
    """An HTTP API (payload 2.0) resolver with pydantic validation and every error mapped to problem+json."""
    app = APIGatewayHttpResolver(enable_validation=True, strip_prefixes=strip_prefixes)  # type: ignore[arg-type]

    def instance() -> str | None:
        try:
            return app.current_event.path
        except Exception:  # noqa: BLE001 - the path is decoration; never let it mask the real error
            return None

    @app.exception_handler(GearsError)
    def _gears_error(error: GearsError) -> Response:
        if error.status >= 500 and logger:
            logger.exception("request failed", extra={"error": type(error).__name__})
        return problem_response(error, instance())

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        errors = _validation_errors(error.errors())
        malformed = any(e.get("type") == "json_invalid" for e in errors)
        detail = "The request body is not valid JSON." if malformed else "The request is invalid."
        return problem_response(BadRequest(detail, errors=errors), instance())

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return problem_response(RouteNotFound("No such route."), instance())

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        if logger:
            logger.exception("unhandled error")
        return problem_response(GearsError("An unexpected error occurred; it has been logged."), instance())

    return app


class RouteNotFound(NotFound):
    code = "no-route"


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    """The signed-in caller of the request being resolved."""
    return caller_from_event(app.current_event.raw_event)


def current_correlation_id(app: APIGatewayHttpResolver) -> str:
    """The correlation id of the request being resolved (see :func:`correlation_id`)."""
    return correlation_id(app.current_event.raw_event)


def require_roles(*roles: str) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response]:
    """A resolver middleware that lets only callers with one of ``roles`` reach the routes. It runs before any
    route parses its body, so someone who may not call a route learns nothing about valid input (403, never 400)."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        require_role(current_caller(app), *roles)
        return next_middleware(app)

    return middleware


def correlation_id(event: dict[str, Any]) -> str:
    """The correlation id a request carries (``x-correlation-id``), else the gateway's request id."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return str(headers.get(CORRELATION_HEADER) or (event.get("requestContext") or {}).get("requestId") or "")


def answer(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve the request; every answer, problems included, carries the request's correlation id."""
    response = app.resolve(event, context)
    response.setdefault("headers", {})[CORRELATION_HEADER] = correlation_id(event)
    return response


Body = TypeVar("Body", bound=BaseModel)


def request_body(app: APIGatewayHttpResolver, model: type[Body], *, empty: Body | None = None) -> Body:
    """The request body as ``model``, validated in the route rather than by the resolver so that the role check
    comes first: someone who may not write learns nothing about what a valid write looks like (403, never 400).
    An empty body is ``empty`` when one is given (a body that is all optional fields), else invalid like any other.
    """
    raw = app.current_event.decoded_body or ""
    if empty is not None and not raw.strip():
        return empty
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from exc


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """An opaque page cursor from a storage position (``None`` at the end)."""
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The storage position behind a cursor; 400 for a cursor that was not ours."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise BadRequest("The cursor is not valid.") from exc
    if not isinstance(value, dict):
        raise BadRequest("The cursor is not valid.")
    return value
