"""The :class:`~auth.service.IdentityProvider` over an Amazon Cognito user pool (boto3 ``cognito-idp``).

Every Cognito error becomes one of the service's typed errors in :func:`translate`, the only place that knows
Cognito's error codes. A code means different things to different operations (``UserNotFoundException`` is a
bad login, a bad confirmation code, or a 404 for an operator), so the table is keyed by operation first and by
code second. Details are ours, never Cognito's message, which can say more than a client should learn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auth.domain import CodeDelivery, Identity, Registration, Tokens
from auth.errors import (
    AccountNotConfirmed,
    ChallengeRequired,
    ConfirmationRefused,
    ExpiredCode,
    IdentityProviderFailed,
    InvalidAuthRequest,
    InvalidCode,
    InvalidCredentials,
    InvalidRefreshToken,
    TooManyAttempts,
    UserAlreadyExists,
    UserNotFound,
    WeakPassword,
)
from gears_shared.errors import GearsError

# Operation names: the methods of CognitoIdentityProvider.
SIGN_UP = "sign_up"
CONFIRM_SIGN_UP = "confirm_sign_up"
GET_IDENTITY = "get_identity"
ADD_TO_GROUP = "add_to_group"
LOGIN = "login"
REFRESH = "refresh"

_BAD_LOGIN = InvalidCredentials("The email or password is not correct.")
_BAD_CODE = InvalidCode("The confirmation code is not correct.")

# What a Cognito error code means wherever an operation has no meaning of its own for it.
_DEFAULT: dict[str, GearsError] = {
    "UsernameExistsException": UserAlreadyExists("An account with this email already exists."),
    "AliasExistsException": UserAlreadyExists("An account with this email already exists."),
    "InvalidPasswordException": WeakPassword("The password does not meet the password rules."),
    "NotAuthorizedException": _BAD_LOGIN,
    "UserNotFoundException": _BAD_LOGIN,
    "UserNotConfirmedException": AccountNotConfirmed("Confirm the account with the emailed code first."),
    "PasswordResetRequiredException": ChallengeRequired("A password reset is required.", challenge="PASSWORD_RESET"),
    "CodeMismatchException": _BAD_CODE,
    "ExpiredCodeException": ExpiredCode("The confirmation code has expired; ask for a new one."),
    "TooManyRequestsException": TooManyAttempts("Too many requests; try again shortly."),
    "LimitExceededException": TooManyAttempts("Too many attempts; try again later."),
    "TooManyFailedAttemptsException": TooManyAttempts("Too many failed attempts; try again later."),
    "InvalidParameterException": InvalidAuthRequest("The identity provider refused the request as invalid."),
}

# Where an operation gives a code a meaning of its own.
_BY_OPERATION: dict[str, dict[str, GearsError]] = {
    CONFIRM_SIGN_UP: {
        # Unknown email: the same answer as a wrong code, so confirmation cannot probe for accounts.
        "UserNotFoundException": _BAD_CODE,
        "NotAuthorizedException": ConfirmationRefused("This account cannot be confirmed."),
    },
    REFRESH: {
        "NotAuthorizedException": InvalidRefreshToken("The refresh token is not valid; sign in again."),
        "UserNotFoundException": InvalidRefreshToken("The refresh token is not valid; sign in again."),
    },
    GET_IDENTITY: {"UserNotFoundException": UserNotFound("No such user.")},
    ADD_TO_GROUP: {"UserNotFoundException": UserNotFound("No such user.")},
}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(operation: str, error: ClientError | BotoCoreError) -> GearsError:
    """The typed error for a failed Cognito call; :class:`IdentityProviderFailed` (502) for anything a client
    cannot fix (an unknown code, a network failure, our own misconfiguration)."""
    if isinstance(error, ClientError):
        code = error_code(error)
        known = _BY_OPERATION.get(operation, {}).get(code) or _DEFAULT.get(code)
        if known is not None:
            # A fresh instance each time: the table's are templates, and raised exceptions carry tracebacks.
            return type(known)(known.detail, **known.extra)
        return IdentityProviderFailed(f"The identity provider failed ({code or 'unknown error'}).", operation=operation)
    return IdentityProviderFailed("The identity provider could not be reached.", operation=operation)


@contextmanager
def cognito_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(operation, exc) from exc


class CognitoIdentityProvider:
    """Accounts in one user pool, through one app client without a secret (``USER_PASSWORD_AUTH`` enabled)."""

    def __init__(self, client: Any, user_pool_id: str, client_id: str) -> None:
        self.client = client
        self.user_pool_id = user_pool_id
        self.client_id = client_id

    def sign_up(self, email: str, password: str) -> Registration:
        with cognito_errors(SIGN_UP):
            response = self.client.sign_up(
                ClientId=self.client_id,
                Username=email,
                Password=password,
                UserAttributes=[{"Name": "email", "Value": email}],
            )
        details = response.get("CodeDeliveryDetails") or {}
        delivery = (
            CodeDelivery(destination=details.get("Destination", ""), medium=details.get("DeliveryMedium", "EMAIL"))
            if details
            else None
        )
        return Registration(
            user_id=response["UserSub"], confirmed=bool(response.get("UserConfirmed")), code_delivery=delivery
        )

    def confirm_sign_up(self, email: str, code: str) -> None:
        with cognito_errors(CONFIRM_SIGN_UP):
            self.client.confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode=code)

    def get_identity(self, email: str) -> Identity:
        with cognito_errors(GET_IDENTITY):
            response = self.client.admin_get_user(UserPoolId=self.user_pool_id, Username=email)
        attributes = {a["Name"]: a["Value"] for a in response.get("UserAttributes", [])}
        return Identity(
            # With email as the username attribute, Username is the immutable sub; prefer the attribute anyway.
            user_id=attributes.get("sub") or response["Username"],
            email=attributes.get("email", email),
            status=response.get("UserStatus", ""),
            enabled=bool(response.get("Enabled", True)),
        )

    def add_to_group(self, user_id: str, group: str) -> None:
        with cognito_errors(ADD_TO_GROUP):
            self.client.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=user_id, GroupName=group)

    def login(self, email: str, password: str) -> Tokens:
        with cognito_errors(LOGIN):
            response = self.client.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        return _tokens(response)

    def refresh(self, refresh_token: str) -> Tokens:
        with cognito_errors(REFRESH):
            response = self.client.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        return _tokens(response)


def _tokens(response: dict[str, Any]) -> Tokens:
    result = response.get("AuthenticationResult")
    if not result:
        challenge = str(response.get("ChallengeName") or "UNKNOWN")
        raise ChallengeRequired(f"The sign-in needs a further step ({challenge}).", challenge=challenge)
    return Tokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        expires_in=int(result.get("ExpiresIn", 3600)),
        token_type=result.get("TokenType", "Bearer"),
        refresh_token=result.get("RefreshToken"),
    )
