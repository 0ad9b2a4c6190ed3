"""The Cognito adapter against botocore's Stubber: requests as Cognito expects them, and every error code it can
answer mapped to the service's typed errors (no network)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from auth.api import ERRORS
from auth.cognito import CognitoIdentityProvider, translate
from auth.domain import WeakPassword
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
)
from gears_shared.errors import status_of

POOL = "us-east-1_TestPool"
CLIENT = "test-client-id"
SUB = "7d1f0a9e-0000-4000-8000-000000000001"


@pytest.fixture
def stubbed() -> Iterator[tuple[CognitoIdentityProvider, Stubber]]:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield CognitoIdentityProvider(client, POOL, CLIENT), stubber
        stubber.assert_no_pending_responses()


def client_error(code: str, operation: str = "Op") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "Cognito says something revealing"}}, operation)


def test_sign_up_sends_the_email_as_username_and_attribute(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "sign_up",
        {
            "UserSub": SUB,
            "UserConfirmed": False,
            "CodeDeliveryDetails": {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"},
        },
        {
            "ClientId": CLIENT,
            "Username": "ada@example.com",
            "Password": "Correct1Horse",
            "UserAttributes": [{"Name": "email", "Value": "ada@example.com"}],
        },
    )
    registration = idp.sign_up("ada@example.com", "Correct1Horse")
    assert registration.user_id == SUB
    assert not registration.confirmed
    assert registration.code_delivery is not None
    assert registration.code_delivery.destination == "a***@e***"


def test_confirm_then_get_identity_and_group(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "confirm_sign_up", {}, {"ClientId": CLIENT, "Username": "ada@example.com", "ConfirmationCode": "123456"}
    )
    stubber.add_response(
        "admin_get_user",
        {
            "Username": SUB,
            "UserStatus": "CONFIRMED",
            "Enabled": True,
            "UserAttributes": [{"Name": "sub", "Value": SUB}, {"Name": "email", "Value": "ada@example.com"}],
        },
        {"UserPoolId": POOL, "Username": "ada@example.com"},
    )
    stubber.add_response("admin_add_user_to_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "customer"})
    idp.confirm_sign_up("ada@example.com", "123456")
    identity = idp.get_identity("ada@example.com")
    assert (identity.user_id, identity.email, identity.is_confirmed) == (SUB, "ada@example.com", True)
    idp.add_to_group(identity.user_id, "customer")


def test_login_uses_user_password_auth_and_returns_tokens(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "initiate_auth",
        {
            "AuthenticationResult": {
                "AccessToken": "a",
                "IdToken": "i",
                "RefreshToken": "r",
                "ExpiresIn": 3600,
                "TokenType": "Bearer",
            }
        },
        {
            "ClientId": CLIENT,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ada@example.com", "PASSWORD": "Correct1Horse"},
        },
    )
    tokens = idp.login("ada@example.com", "Correct1Horse")
    assert (tokens.access_token, tokens.id_token, tokens.refresh_token, tokens.expires_in) == ("a", "i", "r", 3600)


def test_refresh_uses_refresh_token_auth(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "initiate_auth",
        {"AuthenticationResult": {"AccessToken": "a2", "IdToken": "i2", "ExpiresIn": 3600, "TokenType": "Bearer"}},
        {"ClientId": CLIENT, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": "r"}},
    )
    tokens = idp.refresh("r")
    assert (tokens.access_token, tokens.refresh_token) == ("a2", None)


def test_a_login_challenge_is_a_typed_error(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "initiate_auth", {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s" * 20, "ChallengeParameters": {}}
    )
    with pytest.raises(ChallengeRequired) as caught:
        idp.login("staff@example.com", "Temporary1Pass")
    assert caught.value.extra == {"challenge": "NEW_PASSWORD_REQUIRED"}


def test_wrong_password_and_unknown_user_give_the_same_problem(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_client_error("initiate_auth", "NotAuthorizedException", "Incorrect username or password.")
    stubber.add_client_error("initiate_auth", "UserNotFoundException", "User does not exist.")
    with pytest.raises(InvalidCredentials) as wrong_password:
        idp.login("ada@example.com", "Wrong1Password")
    with pytest.raises(InvalidCredentials) as unknown_user:
        idp.login("nobody@example.com", "Wrong1Password")
    assert wrong_password.value.to_problem() == unknown_user.value.to_problem()
    assert isinstance(wrong_password.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("operation", "code", "expected", "status"),
    [
        ("sign_up", "UsernameExistsException", UserAlreadyExists, 409),
        ("sign_up", "InvalidPasswordException", WeakPassword, 400),
        ("sign_up", "InvalidParameterException", InvalidAuthRequest, 400),
        ("sign_up", "TooManyRequestsException", TooManyAttempts, 429),
        ("confirm_sign_up", "CodeMismatchException", InvalidCode, 400),
        ("confirm_sign_up", "ExpiredCodeException", ExpiredCode, 400),
        ("confirm_sign_up", "UserNotFoundException", InvalidCode, 400),
        ("confirm_sign_up", "NotAuthorizedException", ConfirmationRefused, 409),
        ("confirm_sign_up", "LimitExceededException", TooManyAttempts, 429),
        ("confirm_sign_up", "TooManyFailedAttemptsException", TooManyAttempts, 429),
        ("login", "NotAuthorizedException", InvalidCredentials, 401),
        ("login", "UserNotFoundException", InvalidCredentials, 401),
        ("login", "UserNotConfirmedException", AccountNotConfirmed, 403),
        ("login", "PasswordResetRequiredException", ChallengeRequired, 403),
        ("login", "TooManyRequestsException", TooManyAttempts, 429),
        ("refresh", "NotAuthorizedException", InvalidRefreshToken, 401),
        ("get_identity", "UserNotFoundException", UserNotFound, 404),
        ("add_to_group", "UserNotFoundException", UserNotFound, 404),
        ("login", "InternalErrorException", IdentityProviderFailed, 502),
        ("sign_up", "ResourceNotFoundException", IdentityProviderFailed, 502),
    ],
)
def test_translate_maps_each_cognito_code_once(
    operation: str, code: str, expected: type[Exception], status: int
) -> None:
    error = translate(operation, client_error(code))
    assert type(error) is expected
    assert status_of(error, ERRORS) == status
    assert "revealing" not in str(error)  # Cognito's own message never reaches the client


def test_translate_gives_a_fresh_error_each_time() -> None:
    first = translate("login", client_error("NotAuthorizedException"))
    assert first is not translate("login", client_error("NotAuthorizedException"))


def test_an_unreachable_user_pool_is_a_dependency_failure() -> None:
    error = translate("login", EndpointConnectionError(endpoint_url="https://cognito-idp.example"))
    assert isinstance(error, IdentityProviderFailed)
    assert status_of(error, ERRORS) == 502
