"""HTTP functions of the auth service: the public routes (AuthPublicFunction), /me (MeFunction), logout
(AuthSessionFunction) and user administration (AuthAdminFunction).

Every signed-in route reads its caller through ``gears_shared`` (an access token, roles from ``cognito:groups``).
The two that act on the user pool with the caller's own token (logout, roles) take it from the ``Authorization``
header the authorizer verified: the claims alone cannot be presented to Cognito.

Bodies are pydantic models that forbid unknown fields: a client cannot slip in roles, a user id or a status.
Passwords and tokens never reach a log or a trace: ``http_handler`` logs no event and captures no response, and
the commands leave them out of their repr.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from auth import bootstrap, service
from auth.domain import EMAIL_MAX_LENGTH, PASSWORD_POLICY, InvalidEmail, Tokens, WeakPassword, utc_iso
from auth.errors import InvalidCredentials, SignInLockedOut, UserNotFound
from auth.service import AuditLog, IdentityProvider, ProfileRepository
from gears_shared.answers import Answer, Timestamp
from gears_shared.auth import ADMIN, CUSTOMER, SUPPORT
from gears_shared.errors import Unauthorized
from gears_shared.http import (
    create_resolver,
    current_caller,
    current_correlation_id,
    documented,
    http_handler,
    json_response,
    request_body,
)
from gears_shared.observability import metrics

# The account rules' errors, from the domain; the service's own errors are shared kinds and need no row.
ERRORS = {InvalidEmail: 400, WeakPassword: 400}

public_app = create_resolver(ERRORS)
me_app = create_resolver(ERRORS)
session_app = create_resolver(ERRORS)
# Admins only: the role is checked before the body is read, so who may not do this learns nothing of valid input.
admin_app = create_resolver(ERRORS, roles=(ADMIN,))

UserPool = Annotated[IdentityProvider, Depends(bootstrap.identity_provider)]
Profiles = Annotated[ProfileRepository, Depends(bootstrap.profiles)]
Audit = Annotated[AuditLog, Depends(bootstrap.audit_log)]

# Token and profile answers are for their owner only: no shared cache may keep them (RFC 6749, section 5.1).
PRIVATE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Request(BaseModel):
    """A request body. Secrets are left out of its repr, which Powertools' debug logging would print."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SignUpRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_POLICY.max_length, repr=False)


class ConfirmRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    code: str = Field(min_length=1, max_length=32, repr=False)


class LoginRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_POLICY.max_length, repr=False)


class RefreshRequest(Request):
    refresh_token: str = Field(alias="refreshToken", min_length=1, max_length=8192, repr=False)


class ForgotPasswordRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)


class ResetPasswordRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    code: str = Field(min_length=1, max_length=32, repr=False)
    new_password: str = Field(alias="newPassword", min_length=1, max_length=PASSWORD_POLICY.max_length, repr=False)


Role = Literal["customer", "support", "admin"]
assert {CUSTOMER, SUPPORT, ADMIN} == set(Role.__args__)  # type: ignore[attr-defined]


class SetRolesRequest(Request):
    """The roles the user should hold; ``customer`` is kept whether or not it is listed."""

    roles: list[Role] = Field(max_length=10)


# A Cognito username is at most 128 characters: anything longer is no user of ours.
USER_ID_MAX_LENGTH = 128

AccountStatusValue = Literal["UNCONFIRMED", "CONFIRMED"]


class CodeDeliveryAnswer(Answer):
    """Where the confirmation code went, masked as the user pool reports it (``a***@e***``)."""

    destination: str
    medium: Literal["EMAIL", "SMS"]  # Cognito's DeliveryMediumType


class SignUpAnswer(Answer):
    userId: str
    email: str
    status: AccountStatusValue  # CONFIRMED only where the user pool confirms sign-ups itself
    codeDelivery: CodeDeliveryAnswer | None  # null when no code was sent (an account confirmed at once)
    message: str


class ConfirmAnswer(Answer):
    email: str
    status: Literal["CONFIRMED"]
    message: str


class TokensAnswer(Answer):
    accessToken: str
    idToken: str
    expiresIn: int = Field(description="Seconds the access and id tokens are valid for")
    tokenType: str  # as the user pool says it: "Bearer"
    # A login always brings one; a refresh brings none unless the user pool rotates refresh tokens.
    refreshToken: str | None = None


class AuthMessageAnswer(Answer):
    message: str


class MeAnswer(Answer):
    userId: str
    email: str | None  # null for an account made outside sign-up (no profile, and access tokens carry no email)
    # The token's cognito:groups as they are, not filtered to the roles (the user pool defines only those three).
    roles: list[str]
    status: AccountStatusValue
    createdAt: Timestamp | None  # null for an account made outside sign-up
    confirmedAt: Timestamp | None


class RoleChangeAnswer(Answer):
    userId: str
    roles: list[Role]
    previousRoles: list[Role]
    changeId: str
    signedOut: bool  # true when the roles changed: the user's refresh tokens were revoked


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
@public_app.post(
    "/auth/signup",
    summary="Create a customer account; a confirmation code is emailed (201)",
    description="Body: `{email, password}`; a weak password is 400 with every unmet rule in `unmet`; a taken "
    "email is 409.",
)
@documented(answers={201: SignUpAnswer})
def signup(body: Annotated[SignUpRequest, Body()], identity: UserPool, profiles: Profiles) -> Response[str]:
    command = service.SignUp(
        email=body.email, password=body.password, correlation_id=current_correlation_id(public_app)
    )
    result = service.sign_up(command, identity, profiles)
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


@public_app.post(
    "/auth/confirm",
    summary="Confirm an account with its emailed code",
    description="Body: `{email, code}`; answers the email and status, never the account's id. A wrong code or an "
    "unknown email is the same 400; an account already confirmed is 409, whatever the code.",
)
@documented(answers={200: ConfirmAnswer})
def confirm(body: Annotated[ConfirmRequest, Body()], identity: UserPool, profiles: Profiles) -> Response[str]:
    command = service.ConfirmSignUp(email=body.email, code=body.code, correlation_id=current_correlation_id(public_app))
    profile = service.confirm_sign_up(command, identity, profiles)
    _count("Confirmations")
    # No user id: whoever knows an email and its code is not yet signed in (the id comes with the tokens).
    return json_response(
        {"email": profile.email, "status": profile.status.value, "message": "Account confirmed; sign in."}
    )


@public_app.post(
    "/auth/login",
    summary="Sign in with email and password: access, id and refresh tokens",
    description="A wrong password and an unknown email are the same 401; repeated failures lock the sign-in (429).",
)
@documented(answers={200: TokensAnswer})
def login(body: Annotated[LoginRequest, Body()], identity: UserPool) -> Response[str]:
    try:
        tokens = service.login(service.Login(email=body.email, password=body.password), identity)
    except SignInLockedOut:
        _count("LockedOutLogins")
        raise
    except InvalidCredentials:
        _count("FailedLogins")
        raise
    _count("Logins")
    return json_response(_tokens_body(tokens), headers=PRIVATE)


@public_app.post("/auth/refresh", summary="New access and id tokens for a refresh token")
@documented(answers={200: TokensAnswer})
def refresh(body: Annotated[RefreshRequest, Body()], identity: UserPool) -> Response[str]:
    tokens = service.refresh_tokens(service.RefreshTokens(refresh_token=body.refresh_token), identity)
    _count("TokenRefreshes")
    return json_response(_tokens_body(tokens), headers=PRIVATE)


@public_app.post(
    "/auth/password/forgot",
    summary="Email a password reset code (202 whether or not the email has an account)",
)
@documented(answers={202: AuthMessageAnswer})
def forgot_password(body: Annotated[ForgotPasswordRequest, Body()], identity: UserPool) -> Response[str]:
    service.forgot_password(service.ForgotPassword(email=body.email), identity)
    _count("PasswordResetRequests")
    # The same answer whether or not the email has an account: this route must not tell who shops here.
    return json_response(
        {"message": "If an account exists for this email, a reset code has been sent to it."}, status=202
    )


@public_app.post(
    "/auth/password/reset",
    summary="Set a new password with the emailed reset code; every session of the account is signed out",
)
@documented(answers={200: AuthMessageAnswer})
def reset_password(body: Annotated[ResetPasswordRequest, Body()], identity: UserPool) -> Response[str]:
    command = service.ResetPassword(email=body.email, code=body.code, new_password=body.new_password)
    service.reset_password(command, identity)
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


@me_app.get("/me", summary="The signed-in caller's profile and roles")
@documented(answers={200: MeAnswer})
def get_me(profiles: Profiles) -> Response[str]:
    me = service.get_me(service.GetMe(caller=current_caller(me_app)), profiles)
    return json_response(
        {
            "userId": me.user_id,
            "email": me.email,
            "roles": sorted(me.roles),
            "status": me.status.value,
            "createdAt": utc_iso(me.created_at) if me.created_at else None,
            "confirmedAt": utc_iso(me.confirmed_at) if me.confirmed_at else None,
        },
        headers=PRIVATE,
    )


@session_app.post(
    "/auth/logout",
    summary="Sign out everywhere: every refresh token of the caller is revoked (204)",
)
@documented(answers={204: None})
def logout(identity: UserPool) -> Response[None]:
    current_caller(session_app)  # an access token, not an id token: 401 before Cognito is asked
    service.log_out(service.LogOut(access_token=bearer_token(session_app.current_event.raw_event)), identity)
    _count("Logouts")
    return Response(status_code=204, headers=PRIVATE)


@admin_app.put(
    "/admin/users/<user_id>/roles",
    summary="Set a user's roles (customer is always kept); audited, and the user is signed out everywhere",
    description="Body: `{roles: [customer|support|admin]}`; an unknown user is 404; an admin cannot drop their "
    "own admin role (422).",
)
@documented(body=SetRolesRequest, answers={200: RoleChangeAnswer})
def set_roles(user_id: str, identity: UserPool, audit: Audit) -> Response[str]:
    body = request_body(admin_app, SetRolesRequest)
    if len(user_id) > USER_ID_MAX_LENGTH:
        raise UserNotFound("No such user.")
    command = service.SetRoles(
        user_id=user_id,
        roles=frozenset(body.roles),
        caller=current_caller(admin_app),
        access_token=bearer_token(admin_app.current_event.raw_event),
        correlation_id=current_correlation_id(admin_app),
    )
    change = service.set_roles(command, identity, audit)
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


public_handler = http_handler(public_app)
me_handler = http_handler(me_app)
session_handler = http_handler(session_app)
admin_handler = http_handler(admin_app)
