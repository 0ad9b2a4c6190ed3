"""HTTP functions of the auth service.

- ``public_handler`` (AuthPublicFunction): POST /auth/signup, /auth/confirm, /auth/login, /auth/refresh,
  /auth/password/forgot, /auth/password/reset.
- ``me_handler`` (MeFunction): GET /me, behind the API's JWT authorizer.
- ``session_handler`` (AuthSessionFunction): POST /auth/logout, behind the authorizer.
- ``admin_handler`` (AuthAdminFunction): PUT /admin/users/{userId}/roles, behind the authorizer, admins only.

Every signed-in route reads its caller through ``gears_shared`` (an access token, roles from ``cognito:groups``).
The two that act on the user pool with the caller's own token (logout, roles) take it from the ``Authorization``
header the authorizer verified: the claims alone cannot be presented to Cognito.

Bodies are pydantic models that forbid unknown fields: a client cannot slip in roles, a user id or a status.
Passwords and tokens never reach a log or a trace: the event is not logged and responses are not captured.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auth import bootstrap, service
from auth.domain import EMAIL_MAX_LENGTH, PASSWORD_POLICY, Tokens
from auth.errors import InvalidCredentials, SignInLockedOut, UserNotFound
from gears_shared.auth import ADMIN, CUSTOMER, SUPPORT, require_role
from gears_shared.errors import Unauthorized
from gears_shared.http import correlation_id, create_resolver, current_caller, current_correlation_id, json_response
from gears_shared.observability import setup

logger, tracer, metrics = setup()
public_app = create_resolver(logger)
me_app = create_resolver(logger)
session_app = create_resolver(logger)
admin_app = create_resolver(logger)

# Built once per cold start; tests replace it (``monkeypatch.setattr(api, "deps", ...)``).
deps = bootstrap.from_env()

# Token and profile answers are for their owner only: no shared cache may keep them (RFC 6749, section 5.1).
PRIVATE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignUpRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_POLICY.max_length)


class ConfirmRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    code: str = Field(min_length=1, max_length=32)


class LoginRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_POLICY.max_length)


class RefreshRequest(Request):
    refresh_token: str = Field(alias="refreshToken", min_length=1, max_length=8192)


class ForgotPasswordRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)


class ResetPasswordRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    code: str = Field(min_length=1, max_length=32)
    new_password: str = Field(alias="newPassword", min_length=1, max_length=PASSWORD_POLICY.max_length)


Role = Literal["customer", "support", "admin"]
assert {CUSTOMER, SUPPORT, ADMIN} == set(Role.__args__)  # type: ignore[attr-defined]


class SetRolesRequest(Request):
    """The roles the user should hold; ``customer`` is kept whether or not it is listed."""

    roles: list[Role] = Field(max_length=10)


# A Cognito username is at most 128 characters: anything longer is no user of ours.
USER_ID_MAX_LENGTH = 128

Model = TypeVar("Model", bound=BaseModel)


def _body(model: type[Model], raw: str | None) -> Model:
    """The request body as ``model``, validated in the handler (after the role check) rather than by the resolver."""
    try:
        return model.model_validate_json(raw or "")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from exc


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _tokens_body(tokens: Tokens) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accessToken": tokens.access_token,
        "idToken": tokens.id_token,
        "expiresIn": tokens.expires_in,
        "tokenType": tokens.token_type,
    }
    if tokens.refresh_token:
        body["refreshToken"] = tokens.refresh_token
    return body


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


# -- public routes -------------------------------------------------------------------------------------------------
@public_app.post("/auth/signup")
def signup(body: Annotated[SignUpRequest, Body()]) -> Response[str]:
    result = service.sign_up(
        service.SignUp(email=body.email, password=body.password),
        deps.identity,
        deps.profiles,
        now=deps.clock,
        correlation_id=current_correlation_id(public_app),
    )
    _count("SignUps")
    delivery = result.registration.code_delivery
    confirmed = result.profile.is_confirmed
    return json_response(
        {
            "userId": result.profile.user_id,
            "email": result.profile.email,
            "status": result.profile.status.value,
            "codeDelivery": {"destination": delivery.destination, "medium": delivery.medium} if delivery else None,
            "message": "Account created; sign in."
            if confirmed
            else "Account created; a confirmation code was sent to your email. Confirm it at /auth/confirm.",
        },
        status=201,
    )


@public_app.post("/auth/confirm")
def confirm(body: Annotated[ConfirmRequest, Body()]) -> Response[str]:
    profile = service.confirm_sign_up(
        service.ConfirmSignUp(email=body.email, code=body.code),
        deps.identity,
        deps.profiles,
        now=deps.clock,
        correlation_id=current_correlation_id(public_app),
    )
    _count("Confirmations")
    return json_response(
        {
            "userId": profile.user_id,
            "email": profile.email,
            "status": profile.status.value,
            "message": "Account confirmed; sign in.",
        }
    )


@public_app.post("/auth/login")
def login(body: Annotated[LoginRequest, Body()]) -> Response[str]:
    try:
        tokens = service.login(service.Login(email=body.email, password=body.password), deps.identity)
    except SignInLockedOut:
        _count("LockedOutLogins")
        raise
    except InvalidCredentials:
        _count("FailedLogins")
        raise
    _count("Logins")
    return json_response(_tokens_body(tokens), headers=PRIVATE)


@public_app.post("/auth/refresh")
def refresh(body: Annotated[RefreshRequest, Body()]) -> Response[str]:
    tokens = service.refresh_tokens(service.RefreshTokens(refresh_token=body.refresh_token), deps.identity)
    _count("TokenRefreshes")
    return json_response(_tokens_body(tokens), headers=PRIVATE)


@public_app.post("/auth/password/forgot")
def forgot_password(body: Annotated[ForgotPasswordRequest, Body()]) -> Response[str]:
    service.forgot_password(service.ForgotPassword(email=body.email), deps.identity)
    _count("PasswordResetRequests")
    # The same answer whether or not the email has an account: this route must not tell who shops here.
    return json_response(
        {"message": "If an account exists for this email, a reset code has been sent to it."}, status=202
    )


@public_app.post("/auth/password/reset")
def reset_password(body: Annotated[ResetPasswordRequest, Body()]) -> Response[str]:
    service.reset_password(
        service.ResetPassword(email=body.email, code=body.code, new_password=body.new_password), deps.identity
    )
    _count("PasswordResets")
    return json_response(
        {"message": "Password changed; every session was signed out. Sign in with the new password."},
        headers=PRIVATE,
    )


# -- signed-in routes ----------------------------------------------------------------------------------------------
def bearer_token(event: dict[str, Any]) -> str:
    """The access token of the ``Authorization`` header, the one the JWT authorizer verified."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    token = headers.get("authorization", "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Unauthorized("This route needs a signed-in user.")
    return token


@me_app.get("/me")
def get_me() -> Response[str]:
    me = service.get_me(current_caller(me_app), deps.profiles)
    return json_response(
        {
            "userId": me.user_id,
            "email": me.email,
            "roles": sorted(me.roles),
            "status": me.status.value,
            "createdAt": _iso(me.created_at),
            "confirmedAt": _iso(me.confirmed_at),
        },
        headers=PRIVATE,
    )


@session_app.post("/auth/logout")
def logout() -> Response[None]:
    current_caller(session_app)  # an access token, not an id token: 401 before Cognito is asked
    service.log_out(bearer_token(session_app.current_event.raw_event), deps.identity)
    _count("Logouts")
    return Response(status_code=204, headers=PRIVATE)


@admin_app.put("/admin/users/<user_id>/roles")
def set_roles(user_id: str) -> Response[str]:
    event = admin_app.current_event.raw_event
    caller = current_caller(admin_app)
    # The role first, the body after: who may not do this learns nothing of what a valid request looks like.
    require_role(caller, ADMIN)
    body = _body(SetRolesRequest, admin_app.current_event.decoded_body)
    if len(user_id) > USER_ID_MAX_LENGTH:
        raise UserNotFound("No such user.")
    change = service.set_roles(
        service.SetRoles(user_id=user_id, roles=frozenset(body.roles)),
        caller,
        bearer_token(event),
        deps.identity,
        deps.audit,
        now=deps.clock,
        correlation_id=correlation_id(event),
    )
    _count("RoleChanges")
    return json_response(
        {
            "userId": change.user_id,
            "roles": sorted(change.after),
            "previousRoles": sorted(change.before),
            "changeId": change.change_id,
            "signedOut": change.changed,
        }
    )


# -- handlers ------------------------------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def public_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return public_app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def me_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return me_app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def session_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return session_app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def admin_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return admin_app.resolve(event, context)
