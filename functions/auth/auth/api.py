"""HTTP functions of the auth service: the public routes (AuthPublicFunction), reading /me (MeFunction), changing
it and confirming its phone (MeUpdateFunction), logout (AuthSessionFunction) and user administration
(AuthAdminFunction).

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
from auth.domain import (
    EMAIL_MAX_LENGTH,
    PASSWORD_POLICY,
    InvalidEmail,
    InvalidLocale,
    InvalidName,
    InvalidPhone,
    NoPendingPhone,
    PhoneCodeAttemptsExhausted,
    PhoneCodeExpired,
    PhoneCodeLimitReached,
    PhoneCodeRecentlySent,
    Tokens,
    WeakPassword,
    WrongPhoneCode,
    utc_iso,
)
from auth.errors import InvalidCredentials, SignInLockedOut, UserNotFound
from auth.service import AuditLog, IdentityProvider, Me, ProfileRepository, SmsSender
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
ERRORS = {
    InvalidEmail: 400,
    WeakPassword: 400,
    InvalidName: 400,
    InvalidPhone: 400,
    InvalidLocale: 400,
    WrongPhoneCode: 400,
    PhoneCodeExpired: 400,
    PhoneCodeAttemptsExhausted: 400,  # like an expired code: a new one is needed, waiting does not help
    NoPendingPhone: 409,
    PhoneCodeRecentlySent: 429,
    PhoneCodeLimitReached: 429,
}

public_app = create_resolver(ERRORS)
me_app = create_resolver(ERRORS)
me_update_app = create_resolver(ERRORS)
session_app = create_resolver(ERRORS)
# Admins only: the role is checked before the body is read, so who may not do this learns nothing of valid input.
admin_app = create_resolver(ERRORS, roles=(ADMIN,))

UserPool = Annotated[IdentityProvider, Depends(bootstrap.identity_provider)]
Profiles = Annotated[ProfileRepository, Depends(bootstrap.profiles)]
Audit = Annotated[AuditLog, Depends(bootstrap.audit_log)]
Sms = Annotated[SmsSender, Depends(bootstrap.sms_sender)]

# Token and profile answers are for their owner only: no shared cache may keep them (RFC 6749, section 5.1).
PRIVATE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Request(BaseModel):
    """A request body. Secrets are left out of its repr, which Powertools' debug logging would print."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Bounds on what is read at all; the domain's rules (trimmed, 1..100 characters, E.164, BCP 47) say what is valid.
NAME_INPUT_MAX_LENGTH = 400
PHONE_INPUT_MAX_LENGTH = 32
LOCALE_INPUT_MAX_LENGTH = 64


class SignUpRequest(Request):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str = Field(min_length=1, max_length=PASSWORD_POLICY.max_length, repr=False)
    name: str | None = Field(
        default=None,
        max_length=NAME_INPUT_MAX_LENGTH,
        description="Optional: how the shop addresses you (1 to 100 characters, trimmed; no control characters)",
    )


class UpdateMeRequest(Request):
    """The fields to change; a field left out stays as it is, and ``null`` removes it. Email is not changed here."""

    name: str | None = Field(
        default=None, max_length=NAME_INPUT_MAX_LENGTH, description="1 to 100 characters, trimmed; null removes it"
    )
    phone: str | None = Field(
        default=None,
        max_length=PHONE_INPUT_MAX_LENGTH,
        description="E.164 (+447700900123): a new number is confirmed by a 6-digit code sent to it by SMS; null "
        "removes the phone",
    )
    locale: str | None = Field(
        default=None, max_length=LOCALE_INPUT_MAX_LENGTH, description="A BCP 47 tag such as en-GB; null removes it"
    )


class ConfirmPhoneRequest(Request):
    code: str = Field(min_length=1, max_length=32, repr=False, description="The 6-digit code sent by SMS")


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
    name: str | None
    phone: str | None = Field(description="E.164, confirmed by its code: the number SMS go to")
    pendingPhone: str | None = Field(description="A number awaiting its code (POST /me/phone/confirm)")
    phoneCodeExpiresAt: Timestamp | None = Field(description="When the pending number's code expires")
    phoneVerified: bool
    locale: str | None


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
    description="Body: `{email, password, name?}`; a weak password is 400 with every unmet rule in `unmet`; a "
    "taken email is 409; an invalid name is 400.",
)
@documented(answers={201: SignUpAnswer})
def signup(body: Annotated[SignUpRequest, Body()], identity: UserPool, profiles: Profiles) -> Response[str]:
    command = service.SignUp(
        email=body.email, password=body.password, correlation_id=current_correlation_id(public_app), name=body.name
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


def _me_body(me: Me) -> dict[str, Any]:
    return {
        "userId": me.user_id,
        "email": me.email,
        "roles": sorted(me.roles),
        "status": me.status.value,
        "createdAt": utc_iso(me.created_at) if me.created_at else None,
        "confirmedAt": utc_iso(me.confirmed_at) if me.confirmed_at else None,
        "name": me.name,
        "phone": me.phone,
        "pendingPhone": me.pending_phone,
        "phoneCodeExpiresAt": utc_iso(me.phone_code_expires_at) if me.phone_code_expires_at else None,
        "phoneVerified": me.phone_verified,
        "locale": me.locale,
    }


@me_app.get("/me", summary="The signed-in caller's profile and roles")
@documented(answers={200: MeAnswer})
def get_me(profiles: Profiles) -> Response[str]:
    me = service.get_me(service.GetMe(caller=current_caller(me_app)), profiles)
    return json_response(_me_body(me), headers=PRIVATE)


@me_update_app.patch(
    "/me",
    summary="Change the caller's name, phone or locale; a new phone is confirmed by a code sent to it by SMS",
    description="Body: any of `{name, phone, locale}` (null removes one; unknown fields are 400). A new phone "
    "becomes `pendingPhone` and a 6-digit code goes to it by SMS, valid 10 minutes and for 5 tries; confirm it "
    "with `POST /me/phone/confirm`. Sending the pending number again sends a new code: at most one a minute and "
    "5 a day (429 with `retryAfterSeconds`). A number the SMS provider refuses is 400 (`phone-refused`) and "
    "changes nothing. An account made outside sign-up has no profile (404).",
)
@documented(body=UpdateMeRequest, answers={200: MeAnswer})
def update_me(profiles: Profiles, sms: Sms) -> Response[str]:
    caller = current_caller(me_update_app)
    body = request_body(me_update_app, UpdateMeRequest, empty=UpdateMeRequest())
    command = service.UpdateMe(
        caller=caller,
        given=frozenset(body.model_fields_set),
        name=body.name,
        phone=body.phone,
        locale=body.locale,
        correlation_id=current_correlation_id(me_update_app),
    )
    me = service.update_me(command, profiles, sms)
    if "phone" in command.given and me.pending_phone:
        _count("PhoneCodesSent")
    return json_response(_me_body(me), headers=PRIVATE)


@me_update_app.post(
    "/me/phone/confirm",
    summary="Confirm the pending phone with the code sent to it by SMS",
    description="Body: `{code}`. A wrong code is 400 (`invalid-code`, with `attemptsLeft`); an expired one 400 "
    "(`expired-code`); after 5 wrong codes 400 (`code-attempts-exhausted`) until a new code is asked for with "
    "`PATCH /me`; no phone awaiting a code is 409. The phone is unchanged by any of them.",
)
@documented(body=ConfirmPhoneRequest, answers={200: MeAnswer})
def confirm_phone(profiles: Profiles) -> Response[str]:
    caller = current_caller(me_update_app)
    body = request_body(me_update_app, ConfirmPhoneRequest)
    command = service.ConfirmPhone(caller=caller, code=body.code, correlation_id=current_correlation_id(me_update_app))
    try:
        me = service.confirm_phone(command, profiles)
    except WrongPhoneCode:
        _count("WrongPhoneCodes")
        raise
    _count("PhonesConfirmed")
    return json_response(_me_body(me), headers=PRIVATE)


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
me_update_handler = http_handler(me_update_app)
session_handler = http_handler(session_app)
admin_handler = http_handler(admin_app)
