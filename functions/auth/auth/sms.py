"""The :class:`~auth.service.SmsSender` over Amazon SNS: ``Publish`` straight to a phone number, as a
transactional SMS (the account codes of the auth service, like the user pool's own emailed codes).

SNS errors become the service's typed errors here, and nowhere else: a number SNS refuses is the client's to fix
(:class:`~auth.errors.PhoneRefused`, 400), throttling is a 429, anything else a 502. SNS answers a message id
without a delivery receipt; an account still in the SMS sandbox sends only to the numbers verified for it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auth.errors import PhoneRefused, SmsFailed, SmsThrottled

# Transactional: delivered with the higher reliability SNS offers one-time codes (Promotional may be dropped).
SMS_ATTRIBUTES = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
_REFUSED = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "EndpointDisabled"})
_THROTTLED = frozenset({"Throttling", "ThrottledException", "ThrottlingException"})


class SnsSmsSender:
    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, phone: str, text: str) -> str:
        try:
            response = self.client.publish(PhoneNumber=phone, Message=text, MessageAttributes=SMS_ATTRIBUTES)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _REFUSED:
                raise PhoneRefused("This phone number cannot receive our SMS; check it or use another.") from exc
            if code in _THROTTLED:
                raise SmsThrottled("Too many SMS are going out just now; try again shortly.") from exc
            raise SmsFailed(f"The SMS could not be sent ({code or 'unknown error'}).") from exc
        except BotoCoreError as exc:
            raise SmsFailed("The SMS provider could not be reached.") from exc
        return str(response.get("MessageId", ""))
