"""The SNS SMS sender: a transactional Publish to the number, and each SNS refusal as the error a client reads."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from auth.errors import PhoneRefused, SmsFailed, SmsThrottled
from auth.sms import SMS_ATTRIBUTES, SnsSmsSender

PHONE = "+447700900123"


@pytest.fixture
def client() -> Any:
    return boto3.client("sns", region_name="eu-west-2", aws_access_key_id="x", aws_secret_access_key="x")


def test_a_code_goes_as_a_transactional_sms_to_the_number(client: Any) -> None:
    with Stubber(client) as stub:
        stub.add_response(
            "publish",
            {"MessageId": "m-1"},
            {"PhoneNumber": PHONE, "Message": "123456 is your code", "MessageAttributes": SMS_ATTRIBUTES},
        )
        assert SnsSmsSender(client).send(PHONE, "123456 is your code") == "m-1"
        stub.assert_no_pending_responses()
    assert SMS_ATTRIBUTES["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("InvalidParameter", PhoneRefused),
        ("InvalidParameterValue", PhoneRefused),
        ("Throttling", SmsThrottled),
        ("InternalError", SmsFailed),
        ("AuthorizationError", SmsFailed),
    ],
)
def test_each_sns_error_is_the_services_own(client: Any, code: str, error: type[Exception]) -> None:
    with Stubber(client) as stub:
        stub.add_client_error("publish", service_error_code=code, http_status_code=400)
        with pytest.raises(error):
            SnsSmsSender(client).send(PHONE, "text")


def test_an_unreachable_sns_is_a_failed_dependency() -> None:
    class Unreachable:
        def publish(self, **_: object) -> None:
            raise EndpointConnectionError(endpoint_url="https://sns.eu-west-2.amazonaws.com")

    with pytest.raises(SmsFailed):
        SnsSmsSender(Unreachable()).send(PHONE, "text")
