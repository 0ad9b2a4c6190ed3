"""HTTP functions of the auth service.

- ``public_handler`` (AuthPublicFunction): POST /auth/signup, /auth/confirm, /auth/login, /auth/refresh.
- ``me_handler`` (MeFunction): GET /me, behind the API's JWT authorizer.

Bodies are pydantic models that forbid unknown fields: a client cannot slip in roles, a user id or a status.
Passwords and tokens never reach a log or a trace: the event is not logged and responses are not captured.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from auth import bootstrap, service
from auth.domain import EMAIL_MAX_LENGTH, PASSWORD_POLICY, Tokens
from auth.errors import InvalidCredentials
from gears_shared.http import create_resolver, current_caller, json_response
from gears_shared.observability import setup

logger, tracer, metrics = setup()
public_app = create_resolver(logger)
me_app = create_resolver(logger)

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
        service.SignUp(email=body.email, password=body.password), deps.identity, deps.profiles, now=deps.clock
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
        service.ConfirmSignUp(email=body.email, code=body.code), deps.identity, deps.profiles, now=deps.clock
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


# -- signed-in routes ----------------------------------------------------------------------------------------------
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
