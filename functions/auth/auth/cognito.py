"""The :class:`~auth.service.IdentityProvider` over an Amazon Cognito user pool (boto3 ``cognito-idp``).

Every Cognito error becomes one of the service's typed errors (or the domain's, for a password the pool refuses)
in :func:`translate`, the only place that knows Cognito's error codes. A code means different things to different
operations (``UserNotFoundException`` is a bad login, a bad confirmation code, or a 404 for an operator), so the
table is keyed by operation first and by code second. Details are ours, never Cognito's message, which can say
more than a client should learn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auth.domain import CodeDelivery, Identity, Registration, Tokens, WeakPassword
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
    ResetNotStarted,
    SessionRevoked,
    SignInLockedOut,
    TooManyAttempts,
    UserAlreadyExists,
    UserNotFound,
)

# Operation names: the methods of CognitoIdentityProvider.
SIGN_UP = "sign_up"
CONFIRM_SIGN_UP = "confirm_sign_up"
GET_IDENTITY = "get_identity"
ADD_TO_GROUP = "add_to_group"
LOGIN = "login"
REFRESH = "refresh"
FORGOT_PASSWORD = "forgot_password"  # noqa: S105 - an operation name
RESET_PASSWORD = "reset_password"  # noqa: S105 - an operation name
SIGN_OUT = "sign_out"
SIGN_OUT_USER = "sign_out_user"
CHECK_SESSION = "check_session"
GET_USER = "get_user"
GROUPS_OF = "groups_of"
REMOVE_FROM_GROUP = "remove_from_group"

# Cognito answers a locked-out sign-in with the same code as a wrong password (NotAuthorizedException); only its
# message, documented as "Password attempts exceeded", tells the two apart. The one place a message is read.
LOCKOUT_MESSAGE = "Password attempts exceeded"

# Each row of the tables below makes a fresh error when called: a raised exception carries its traceback, so
# none may be shared between requests.
ErrorFactory = Callable[[], Exception]

_BAD_LOGIN = partial(InvalidCredentials, "The email or password is not correct.")
_BAD_CODE = partial(InvalidCode, "The confirmation code is not correct.")
_BAD_RESET_CODE = partial(InvalidCode, "The reset code is not correct.")
_REVOKED = partial(SessionRevoked, "This session has ended; sign in again.")
_NO_USER = partial(UserNotFound, "No such user.")
_NO_RESET = partial(ResetNotStarted, "No reset code was sent.")
_TAKEN = partial(UserAlreadyExists, "An account with this email already exists.")
_BAD_REFRESH_TOKEN = partial(InvalidRefreshToken, "The refresh token is not valid; sign in again.")

# What a Cognito error code means wherever an operation has no meaning of its own for it.
_DEFAULT: dict[str, ErrorFactory] = {
    "UsernameExistsException": _TAKEN,
    "AliasExistsException": _TAKEN,
    "InvalidPasswordException": partial(WeakPassword, "The password does not meet the password rules."),
    "NotAuthorizedException": _BAD_LOGIN,
    "UserNotFoundException": _BAD_LOGIN,
    "UserNotConfirmedException": partial(AccountNotConfirmed, "Confirm the account with the emailed code first."),
    "PasswordResetRequiredException": partial(
        ChallengeRequired, "A password reset is required.", challenge="PASSWORD_RESET"
    ),
    "CodeMismatchException": _BAD_CODE,
    "ExpiredCodeException": partial(ExpiredCode, "The confirmation code has expired; ask for a new one."),
    "TooManyRequestsException": partial(TooManyAttempts, "Too many requests; try again shortly."),
    "LimitExceededException": partial(TooManyAttempts, "Too many attempts; try again later."),
    "TooManyFailedAttemptsException": partial(TooManyAttempts, "Too many failed attempts; try again later."),
    "InvalidParameterException": partial(InvalidAuthRequest, "The identity provider refused the request as invalid."),
}

# Where an operation gives a code a meaning of its own.
_BY_OPERATION: dict[str, dict[str, ErrorFactory]] = {
    CONFIRM_SIGN_UP: {
        # Unknown email: the same answer as a wrong code, so confirmation cannot probe for accounts.
        "UserNotFoundException": _BAD_CODE,
        # Cognito confirms a sign-up once: "User cannot be confirmed. Current status is CONFIRMED" (or a disabled
        # user). The use case tells an already confirmed account apart by asking for the account's status.
        "NotAuthorizedException": partial(ConfirmationRefused, "This account cannot be confirmed."),
    },
    REFRESH: {"NotAuthorizedException": _BAD_REFRESH_TOKEN, "UserNotFoundException": _BAD_REFRESH_TOKEN},
    GET_IDENTITY: {"UserNotFoundException": _NO_USER},
    ADD_TO_GROUP: {"UserNotFoundException": _NO_USER},
    GET_USER: {"UserNotFoundException": _NO_USER},
    GROUPS_OF: {"UserNotFoundException": _NO_USER},
    REMOVE_FROM_GROUP: {"UserNotFoundException": _NO_USER},
    SIGN_OUT_USER: {"UserNotFoundException": _NO_USER},
    # A forgotten-password request must not tell who has an account: every "not for this user" is the same.
    FORGOT_PASSWORD: {
        "UserNotFoundException": _NO_RESET,
        "InvalidParameterException": _NO_RESET,  # unconfirmed, or no verified email to send to
        "NotAuthorizedException": _NO_RESET,  # disabled
        "LimitExceededException": _NO_RESET,  # per user: would tell that the user exists
        "CodeDeliveryFailureException": _NO_RESET,
    },
    RESET_PASSWORD: {
        "UserNotFoundException": _BAD_RESET_CODE,  # the same answer as a wrong code: no probing for accounts
        "NotAuthorizedException": _BAD_RESET_CODE,
        "CodeMismatchException": _BAD_RESET_CODE,
        "ExpiredCodeException": partial(ExpiredCode, "The reset code has expired; ask for a new one."),
    },
    # The caller's own access token, refused by the user pool: revoked by a sign-out, or its user deleted.
    SIGN_OUT: {"NotAuthorizedException": _REVOKED, "UserNotFoundException": _REVOKED},
    CHECK_SESSION: {"NotAuthorizedException": _REVOKED, "UserNotFoundException": _REVOKED},
}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(operation: str, error: ClientError | BotoCoreError) -> Exception:
    """The typed error for a failed Cognito call; :class:`IdentityProviderFailed` (502) for anything a client
    cannot fix (an unknown code, a network failure, our own misconfiguration)."""
    if isinstance(error, ClientError):
        code = error_code(error)
        if operation == LOGIN and code == "NotAuthorizedException" and _is_lockout(error):
            return SignInLockedOut("Too many failed sign-ins for this account; wait a while and try again.")
        known = _BY_OPERATION.get(operation, {}).get(code) or _DEFAULT.get(code)
        if known is not None:
            return known()
        return IdentityProviderFailed(f"The identity provider failed ({code or 'unknown error'}).", operation=operation)
    return IdentityProviderFailed("The identity provider could not be reached.", operation=operation)


def _is_lockout(error: ClientError) -> bool:
    return LOCKOUT_MESSAGE.lower() in str(error.response.get("Error", {}).get("Message", "")).lower()


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

    def find_user(self, user_id: str) -> Identity:
        """The account whose ``sub`` is ``user_id``; :class:`UserNotFound` for any other name (an email is an alias
        Cognito would accept, but a user id is the sub and nothing else)."""
        with cognito_errors(GET_USER):
            response = self.client.admin_get_user(UserPoolId=self.user_pool_id, Username=user_id)
        attributes = {a["Name"]: a["Value"] for a in response.get("UserAttributes", [])}
        sub = attributes.get("sub") or response["Username"]
        if sub != user_id:
            raise UserNotFound("No such user.")
        return Identity(
            user_id=sub,
            email=attributes.get("email", ""),
            status=response.get("UserStatus", ""),
            enabled=bool(response.get("Enabled", True)),
        )

    def groups_of(self, user_id: str) -> frozenset[str]:
        groups: set[str] = set()
        kwargs: dict[str, Any] = {"UserPoolId": self.user_pool_id, "Username": user_id}
        with cognito_errors(GROUPS_OF):
            while True:
                response = self.client.admin_list_groups_for_user(**kwargs)
                groups.update(g["GroupName"] for g in response.get("Groups", []))
                if not response.get("NextToken"):
                    break
                kwargs["NextToken"] = response["NextToken"]
        return frozenset(groups)

    def remove_from_group(self, user_id: str, group: str) -> None:
        with cognito_errors(REMOVE_FROM_GROUP):
            self.client.admin_remove_user_from_group(UserPoolId=self.user_pool_id, Username=user_id, GroupName=group)

    def sign_out_user(self, user_id: str) -> None:
        with cognito_errors(SIGN_OUT_USER):
            self.client.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=user_id)

    def sign_out(self, access_token: str) -> None:
        with cognito_errors(SIGN_OUT):
            self.client.global_sign_out(AccessToken=access_token)

    def check_session(self, access_token: str) -> str:
        with cognito_errors(CHECK_SESSION):
            response = self.client.get_user(AccessToken=access_token)
        attributes = {a["Name"]: a["Value"] for a in response.get("UserAttributes", [])}
        return str(attributes.get("sub") or response["Username"])

    def forgot_password(self, email: str) -> None:
        with cognito_errors(FORGOT_PASSWORD):
            self.client.forgot_password(ClientId=self.client_id, Username=email)

    def reset_password(self, email: str, code: str, new_password: str) -> None:
        with cognito_errors(RESET_PASSWORD):
            self.client.confirm_forgot_password(
                ClientId=self.client_id, Username=email, ConfirmationCode=code, Password=new_password
            )

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
