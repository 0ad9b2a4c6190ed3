"""The providers behind the service's ports: SES v2 for email, SNS for SMS (``Publish`` to a phone number) and mobile
push (``Publish`` to a platform endpoint, endpoints made under the deployment's platform application).

Each provider's answer is sorted once, here: an accepted message gives its provider id; a refusal that will never
change (an invalid number, a disabled endpoint, a rejected address) is :class:`PermanentRefusal` with a reason the log
shows; anything else (throttling, a 5xx, the network) is :class:`ProviderUnavailable`, which the consumer retries
with backoff and then parks in its dead-letter queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from notification.errors import InvalidDeviceToken, PermanentRefusal, ProviderUnavailable

# SES v2 and SNS error codes that mean "never": the message is failed, not retried.
PERMANENT = {
    "MessageRejected": "rejected",
    "BadRequestException": "rejected",
    "InvalidParameterValue": "invalid-address",
    "InvalidParameter": "invalid-address",
    "InvalidParameterException": "invalid-address",
    "EndpointDisabled": "endpoint-disabled",
    "EndpointDisabledException": "endpoint-disabled",
}
SMS_TYPE = "AWS.SNS.SMS.SMSType"


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code") or "")


def _sorted_out(exc: Exception) -> Exception:
    """The service's error for a provider's exception (see the module's docstring)."""
    code = _code(exc)
    if code in PERMANENT:
        return PermanentRefusal(PERMANENT[code], str(exc)[:300])
    return ProviderUnavailable(f"{code or type(exc).__name__}: {str(exc)[:300]}")


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # beyond From/To/Subject: sends it raw (MIME)
    tags: dict[str, str] = field(default_factory=dict)


def mime(sender: str, email: OutgoingEmail) -> bytes:
    """The email as a MIME message (text and HTML alternatives, with its extra headers)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message.as_bytes(policy=SMTP)


class SesEmailSender:
    """Email through SES v2 ``SendEmail``, naming the configuration set (whose event destination sends delivery,
    bounce and complaint feedback to the service) and tagging the message with its notification id."""

    def __init__(self, client: Any, sender: str, configuration_set: str) -> None:
        self.client = client
        self.sender = sender
        self.configuration_set = configuration_set

    def send(self, email: OutgoingEmail) -> str:
        args: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "EmailTags": [{"Name": k, "Value": v} for k, v in email.tags.items()],
        }
        if self.configuration_set:
            args["ConfigurationSetName"] = self.configuration_set
        if email.headers:
            # Raw, to carry headers SES's simple content cannot (List-Unsubscribe); the recipients are its To.
            args["Content"] = {"Raw": {"Data": mime(self.sender, email)}}
        else:
            body: dict[str, Any] = {"Text": {"Data": email.text, "Charset": "UTF-8"}}
            if email.html:
                body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
            args["Destination"] = {"ToAddresses": [email.to]}
            args["Content"] = {"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}}
        try:
            return str(self.client.send_email(**args)["MessageId"])
        except Exception as exc:
            raise _sorted_out(exc) from exc


class SnsTextSender:
    """SMS and push through SNS ``Publish``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send_sms(self, phone: str, text: str, *, transactional: bool) -> str:
        attributes = {
            SMS_TYPE: {"DataType": "String", "StringValue": "Transactional" if transactional else "Promotional"}
        }
        try:
            return str(self.client.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)["MessageId"])
        except Exception as exc:
            raise _sorted_out(exc) from exc

    def send_push(self, endpoint_arn: str, text: str) -> str:
        try:
            return str(self.client.publish(TargetArn=endpoint_arn, Message=text)["MessageId"])
        except Exception as exc:
            raise _sorted_out(exc) from exc


_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:[^\s]+) already exists")


class SnsDeviceRegistry:
    """Platform endpoints under the deployment's SNS platform application (none: push is off)."""

    def __init__(self, client: Any, application_arn: str) -> None:
        self.client = client
        self.application_arn = application_arn

    @property
    def enabled(self) -> bool:
        return bool(self.application_arn)

    def register(self, token: str, user_id: str) -> str:
        """The endpoint for ``token``, made or taken over for ``user_id`` (a phone that changed hands keeps its
        token; SNS answers with the existing endpoint's ARN, which is then given the new owner and enabled)."""
        try:
            answer = self.client.create_platform_endpoint(
                PlatformApplicationArn=self.application_arn, Token=token, CustomUserData=user_id
            )
            return str(answer["EndpointArn"])
        except Exception as exc:
            found = (
                _EXISTING_ENDPOINT.search(str(exc))
                if _code(exc) in ("InvalidParameter", "InvalidParameterException")
                else None
            )
            if found is None:
                error = _sorted_out(exc)
                if isinstance(error, PermanentRefusal):
                    raise InvalidDeviceToken("The push provider does not accept this token.") from exc
                raise error from exc
        arn = found.group(1).rstrip(".")
        try:
            self.client.set_endpoint_attributes(
                EndpointArn=arn, Attributes={"CustomUserData": user_id, "Enabled": "true", "Token": token}
            )
        except Exception as exc:
            raise _sorted_out(exc) from exc
        return arn

    def remove(self, endpoint_arn: str) -> None:
        try:
            self.client.delete_endpoint(EndpointArn=endpoint_arn)
        except Exception as exc:
            raise _sorted_out(exc) from exc
