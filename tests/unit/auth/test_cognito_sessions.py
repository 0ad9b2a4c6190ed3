"""The Cognito adapter's issue-3 operations against botocore's Stubber, and how their errors are mapped."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from auth.api import ERRORS
from auth.cognito import CognitoIdentityProvider, translate
from auth.domain import WeakPassword
from auth.errors import (
    ExpiredCode,
    InvalidCode,
    InvalidCredentials,
    ResetNotStarted,
    SessionRevoked,
    SignInLockedOut,
    TooManyAttempts,
    UserNotFound,
)
from gears_shared.errors import status_of

POOL = "us-east-1_TestPool"
CLIENT = "test-client-id"
SUB = "7d1f0a9e-0000-4000-8000-000000000001"
ACCESS = "eyJ.access.token"


@pytest.fixture
def stubbed() -> Iterator[tuple[CognitoIdentityProvider, Stubber]]:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield CognitoIdentityProvider(client, POOL, CLIENT), stubber
        stubber.assert_no_pending_responses()


def client_error(code: str, message: str = "Cognito says something revealing") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Op")


def test_find_user_accepts_a_sub_only(stubbed) -> None:
    idp, stubber = stubbed
    user = {
        "Username": SUB,
        "UserAttributes": [{"Name": "sub", "Value": SUB}, {"Name": "email", "Value": "ada@example.com"}],
        "UserStatus": "CONFIRMED",
        "Enabled": True,
    }
    stubber.add_response("admin_get_user", user, {"UserPoolId": POOL, "Username": SUB})
    stubber.add_response("admin_get_user", user, {"UserPoolId": POOL, "Username": "ada@example.com"})
    assert idp.find_user(SUB).email == "ada@example.com"
    with pytest.raises(UserNotFound):  # Cognito resolves the alias; a user id is the sub and nothing else
        idp.find_user("ada@example.com")


def test_groups_of_reads_every_page(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "admin_list_groups_for_user",
        {"Groups": [{"GroupName": "customer"}], "NextToken": "page-2"},
        {"UserPoolId": POOL, "Username": SUB},
    )
    stubber.add_response(
        "admin_list_groups_for_user",
        {"Groups": [{"GroupName": "support"}]},
        {"UserPoolId": POOL, "Username": SUB, "NextToken": "page-2"},
    )
    assert idp.groups_of(SUB) == {"customer", "support"}


def test_role_and_session_operations_send_what_cognito_expects(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response(
        "admin_remove_user_from_group", {}, {"UserPoolId": POOL, "Username": SUB, "GroupName": "support"}
    )
    stubber.add_response("admin_user_global_sign_out", {}, {"UserPoolId": POOL, "Username": SUB})
    stubber.add_response("global_sign_out", {}, {"AccessToken": ACCESS})
    stubber.add_response(
        "get_user", {"Username": SUB, "UserAttributes": [{"Name": "sub", "Value": SUB}]}, {"AccessToken": ACCESS}
    )
    idp.remove_from_group(SUB, "support")
    idp.sign_out_user(SUB)
    idp.sign_out(ACCESS)
    assert idp.check_session(ACCESS) == SUB


def test_password_reset_operations_send_what_cognito_expects(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_response("forgot_password", {}, {"ClientId": CLIENT, "Username": "ada@example.com"})
    stubber.add_response(
        "confirm_forgot_password",
        {},
        {"ClientId": CLIENT, "Username": "ada@example.com", "ConfirmationCode": "123456", "Password": "Battery9Staple"},
    )
    idp.forgot_password("ada@example.com")
    idp.reset_password("ada@example.com", "123456", "Battery9Staple")


def test_a_revoked_token_cannot_sign_out_again(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_client_error("global_sign_out", "NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(SessionRevoked) as revoked:
        idp.sign_out(ACCESS)
    assert status_of(revoked.value, ERRORS) == 401


def test_a_locked_out_sign_in_is_429_and_a_wrong_password_401(stubbed) -> None:
    idp, stubber = stubbed
    stubber.add_client_error("initiate_auth", "NotAuthorizedException", "Password attempts exceeded")
    stubber.add_client_error("initiate_auth", "NotAuthorizedException", "Incorrect username or password.")
    with pytest.raises(SignInLockedOut) as locked:
        idp.login("ada@example.com", "Correct1Horse")
    assert status_of(locked.value, ERRORS) == 429
    with pytest.raises(InvalidCredentials):
        idp.login("ada@example.com", "Wrong1Password")


@pytest.mark.parametrize(
    ("operation", "code", "expected", "status"),
    [
        ("forgot_password", "UserNotFoundException", ResetNotStarted, None),
        ("forgot_password", "InvalidParameterException", ResetNotStarted, None),
        ("forgot_password", "NotAuthorizedException", ResetNotStarted, None),
        ("forgot_password", "LimitExceededException", ResetNotStarted, None),
        ("forgot_password", "CodeDeliveryFailureException", ResetNotStarted, None),
        ("forgot_password", "TooManyRequestsException", TooManyAttempts, 429),
        ("reset_password", "CodeMismatchException", InvalidCode, 400),
        ("reset_password", "UserNotFoundException", InvalidCode, 400),
        ("reset_password", "ExpiredCodeException", ExpiredCode, 400),
        ("reset_password", "InvalidPasswordException", WeakPassword, 400),
        ("reset_password", "LimitExceededException", TooManyAttempts, 429),
        ("sign_out", "NotAuthorizedException", SessionRevoked, 401),
        ("check_session", "NotAuthorizedException", SessionRevoked, 401),
        ("check_session", "UserNotFoundException", SessionRevoked, 401),
        ("get_user", "UserNotFoundException", UserNotFound, 404),
        ("groups_of", "UserNotFoundException", UserNotFound, 404),
        ("remove_from_group", "UserNotFoundException", UserNotFound, 404),
        ("sign_out_user", "UserNotFoundException", UserNotFound, 404),
    ],
)
def test_translate_maps_each_new_cognito_code_once(
    operation: str, code: str, expected: type[Exception], status: int | None
) -> None:
    error = translate(operation, client_error(code))
    assert type(error) is expected
    if status is not None:
        assert status_of(error, ERRORS) == status
    assert "revealing" not in str(error)


def test_forgot_password_errors_say_the_same_for_every_account() -> None:
    problems = {
        str(translate("forgot_password", client_error(code)).to_problem())
        for code in ("UserNotFoundException", "InvalidParameterException", "NotAuthorizedException")
    }
    assert len(problems) == 1
