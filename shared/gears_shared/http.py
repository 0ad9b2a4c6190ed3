"""The HTTP face every service shares: one resolver factory that maps errors once, one handler factory.

A service's ``api.py`` does::

    ERRORS = {InsufficientStock: 422, InvalidSku: 400}     # its own error types; shared kinds need no row
    admin_app = create_resolver(ERRORS, roles=(ADMIN,))

    @admin_app.post("/inventory/<sku>/restock", summary="Receive stock")
    def restock(sku: str, repo: Annotated[StockRepository, Depends(bootstrap.stock_repository)]) -> Response: ...

    inventory_admin_handler = http_handler(admin_app)

:func:`http_handler` installs, once for every function: the correlation id read from ``x-correlation-id`` (else
the gateway's request id) on every log line and echoed on every answer; tracing (responses are not captured: they
hold tokens and addresses); metrics flushed; and the edge's rules for a body: whatever its declared type, a body
is read as JSON (``curl -d`` declares a form), and one that is not UTF-8 text is a 400 problem, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from gears_shared.auth import Caller, caller_from_event, require_role
from gears_shared.errors import PROBLEM_CONTENT_TYPE, BadRequest, GearsError, NotFound, problem, status_of
from gears_shared.observability import logger, metrics, tracer

ErrorTable = Mapping[type[BaseException], int]
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

JSON = "application/json"
CORRELATION_HEADER = "x-correlation-id"
# The same rule as :func:`correlation_id`, as the JMESPath Powertools' ``inject_lambda_context`` takes.
CORRELATION_ID_PATH = 'headers."x-correlation-id" || requestContext.requestId'


def problem_response(
    error: BaseException, instance: str | None = None, table: ErrorTable | None = None
) -> Response[str]:
    """The problem+json answer for ``error``: its status from ``table`` (then the shared kinds), its title, code,
    detail and extra fields from the error itself (a domain error may set them as plain attributes)."""
    status = status_of(error, table)
    title = getattr(error, "title", None) or HTTPStatus(status).phrase
    code = getattr(error, "code", None) or _kebab(type(error).__name__)
    detail = getattr(error, "detail", None) or str(error) or title
    extra = getattr(error, "extra", None) or {}
    body = problem(status, title, detail, code=code, instance=instance, **extra)
    return Response(status_code=status, content_type=PROBLEM_CONTENT_TYPE, body=json.dumps(body, default=str))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, default=str), headers=headers)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


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


class ServiceResolver(APIGatewayHttpResolver):
    """A service's resolver; it keeps its error table and roles, which ``gears openapi`` documents."""

    def __init__(self, errors: ErrorTable, roles: tuple[str, ...]) -> None:
        super().__init__(enable_validation=True)
        self.errors = errors
        self.roles = roles


def create_resolver(errors: ErrorTable | None = None, *, roles: tuple[str, ...] = ()) -> ServiceResolver:
    """An HTTP API (payload 2.0) resolver with pydantic validation and every error mapped to problem+json once.

    ``errors`` is the service's one table from its own error types (domain rule errors included) to a status; the
    shared kinds (:data:`gears_shared.errors.STATUS`) need no row. An error in neither is a 500, logged.
    ``roles``: only callers holding one of them reach any route (403 before a body is read).
    """
    table = dict(errors or {})
    app = ServiceResolver(table, roles)
    if roles:
        app.use(middlewares=[require_roles(*roles)])

    def instance() -> str | None:
        try:
            return app.current_event.path
        except Exception:  # noqa: BLE001 - the path is decoration; never let it mask the real error
            return None

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        errors = _validation_errors(error.errors())
        malformed = any(e.get("type") == "json_invalid" for e in errors)
        detail = "The request body is not valid JSON." if malformed else "The request is invalid."
        return problem_response(BadRequest(detail, errors=errors), instance())

    @app.not_found
    def _no_route(_: NotFoundError) -> Response[str]:
        return problem_response(RouteNotFound("No such route."), instance())

    @app.exception_handler(Exception)
    def _error(error: Exception) -> Response[str]:
        if isinstance(error, DependencyResolutionError) and isinstance(error.__cause__, Exception):
            error = error.__cause__  # a port that could not be built says why in its own words (and status)
        if status_of(error, table) >= 500:
            logger.exception("request failed", extra={"error": type(error).__name__})
            if not isinstance(error, GearsError) or type(error) is GearsError:
                error = GearsError("An unexpected error occurred; it has been logged.")
        return problem_response(error, instance(), table)

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
    try:
        response = app.resolve(_as_json_text(event), context)
    except BadBody as error:
        problem_ = problem_response(error, event.get("rawPath"))
        response = {
            "statusCode": problem_.status_code,
            "headers": {"Content-Type": problem_.content_type},
            "body": problem_.body,
            "isBase64Encoded": False,
        }
    response.setdefault("headers", {})[CORRELATION_HEADER] = correlation_id(event)
    return response


def http_handler(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda handler of an HTTP function: ``catalog_read_handler = http_handler(read_app)``."""

    @logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return answer(app, event, context)

    return handler


class BadBody(BadRequest):
    title = "Unreadable body"
    code = "unreadable-body"


def _as_json_text(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body as UTF-8 text declared as JSON: API Gateway base64-encodes a body it does not take
    for text, and a client may declare any type (``curl -d`` says form). Not UTF-8: :class:`BadBody`."""
    body = event.get("body")
    if not body:
        return event
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    declared = headers.get("content-type", "")
    text = body
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise BadBody("The request body is not UTF-8 text; send JSON.") from exc
    if text is body and declared.split(";")[0].strip() == JSON:
        return event
    return {**event, "body": text, "isBase64Encoded": False, "headers": {**headers, "content-type": JSON}}


Body = TypeVar("Body", bound=BaseModel)


def request_body(app: APIGatewayHttpResolver, model: type[Body], *, empty: Body | None = None) -> Body:
    """The request body as ``model``, validated in the route rather than by the resolver so that the role check
    comes first: someone who may not write learns nothing about what a valid write looks like (403, never 400).
    An empty body is ``empty`` when one is given (a body that is all optional fields), else invalid like any other.
    """
    raw = app.current_event.body or ""
    if empty is not None and not raw.strip():
        return empty
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from exc


OPENAPI_ATTRIBUTE = "__gears_openapi__"
RouteFunction = TypeVar("RouteFunction", bound=Callable[..., Any])


def documented(
    *,
    body: type[BaseModel] | None = None,
    answers: dict[int, type[BaseModel] | None] | None = None,
    headers: dict[str, str] | None = None,
    required_headers: tuple[str, ...] = (),
    answer_headers: dict[int, dict[str, str]] | None = None,
    query: dict[str, str] | None = None,
) -> Callable[[RouteFunction], RouteFunction]:
    """What a route takes and answers, for the API's spec (``make openapi``), under its route decorator::

        @app.post("/checkout")
        @documented(body=CheckoutRequest, answers={202: CheckoutAccepted}, headers={"Idempotency-Key": "..."},
                    required_headers=("Idempotency-Key",), answer_headers={202: {"Location": "..."}})
        def checkout() -> Response[str]:
            command = request_body(app, CheckoutRequest)

    ``body``: the model its JSON body is read as (:func:`request_body`); ``answers``: each success status and the
    model of its JSON body (``None`` for none, as a 204); ``headers``: the request headers it reads, by name, with
    what each is; ``answer_headers``: the headers a success answer carries; ``query``: the query parameters it reads
    by hand (not as typed parameters), by name, with what each is. Documentation only: nothing at run time
    reads it, and the spec's contract tests (schemathesis against the local shop) hold the route to it.
    """
    spec = {
        "body": body,
        "answers": dict(answers or {}),
        "headers": dict(headers or {}),
        "required_headers": tuple(required_headers),
        "answer_headers": dict(answer_headers or {}),
        "query": dict(query or {}),
    }

    def mark(fn: RouteFunction) -> RouteFunction:
        setattr(fn, OPENAPI_ATTRIBUTE, spec)
        return fn

    return mark


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


def query_param(app: APIGatewayHttpResolver, name: str) -> str | None:
    """A query string parameter of the current request; ``None`` when absent or empty. Read inside the route (after
    the role check), so a caller without the role learns nothing from a malformed parameter."""
    value = app.current_event.get_query_string_value(name)
    return value if value not in (None, "") else None


def whole_number(text: str) -> int | None:
    """``text`` as a whole number written in ASCII digits (``"12"``), else ``None``. ``str.isdigit`` alone is not
    enough: it accepts ``"²"`` and other digits that ``int`` refuses."""
    return int(text) if text.isascii() and text.isdigit() else None


def page_limit(app: APIGatewayHttpResolver, *, default: int | None = None, maximum: int | None = None) -> int | None:
    """The request's ``limit``: ``default`` when absent; a 400 unless a whole number from 1 (to ``maximum``)."""
    raw = query_param(app, "limit")
    if raw is None:
        return default
    number = whole_number(raw)
    if number is None or number < 1 or (maximum is not None and number > maximum):
        upper = f" to {maximum}" if maximum is not None else ""
        raise BadRequest(f"limit is a whole number from 1{upper}.")
    return number
