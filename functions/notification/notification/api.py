"""The notification service's HTTP functions, one resolver per permission profile: ``NotificationReadFunction``
(the caller's delivery log and preferences), ``NotificationPreferencesFunction`` (change them),
``NotificationDevicesFunction`` (push devices: SNS endpoints) and ``NotificationUnsubscribeFunction`` (the public,
token-signed one-click unsubscribe of RFC 8058).

Everything under ``/me`` is the caller's own, found by the caller's id: nobody reads or changes another's. Bad input
is a 400 problem, a change the rules refuse 422, and nothing is changed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from gears_shared.answers import Answer, Timestamp
from gears_shared.errors import BadRequest
from gears_shared.http import (
    create_resolver,
    current_caller,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    page_limit,
    query_param,
    request_body,
)
from notification import bootstrap, service
from notification.domain import Channel, ForgedToken, InvalidToken, Kind, Platform, PreferenceError
from notification.errors import InvalidCursor, InvalidUnsubscribeBody
from notification.service import DeviceRegistry, NotificationStore
from notification.store import log_partition

# The domain's rule errors; the service's own errors are shared kinds and carry their status already.
ERRORS: dict[type[BaseException], int] = {PreferenceError: 422, InvalidToken: 400, ForgedToken: 403}

Store = Annotated[NotificationStore, Depends(bootstrap.store)]
Registry = Annotated[DeviceRegistry, Depends(bootstrap.device_registry)]
Secret = Annotated[bytes, Depends(bootstrap.unsubscribe_secret)]

ChannelName = Literal["email", "sms", "push"]
KindName = Literal["orderUpdates", "support", "marketing", "alerts"]
StateName = Literal["sending", "sent", "delivered", "failed", "suppressed"]
DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FCM_TOKEN = re.compile(r"^[A-Za-z0-9_:-]{32,4096}$")
APNS_TOKEN = re.compile(r"^[0-9a-fA-F]{64,200}$")
MAX_CURSOR = 1024
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
ONE_CLICK = [("List-Unsubscribe", "One-Click")]


# -- bodies --------------------------------------------------------------------------------------------------------
class ChannelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orderUpdates: list[ChannelName] | None = Field(default=None, max_length=3)
    support: list[ChannelName] | None = Field(default=None, max_length=3)
    marketing: list[ChannelName] | None = Field(default=None, max_length=3)
    alerts: list[ChannelName] | None = Field(default=None, max_length=3)


class MarketingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: StrictBool
    source: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9:_-]{0,63}$",
        description="Where the customer gave or withdrew it (e.g. `signup-checkbox`, `settings`); "
        "`notification-preferences` when not said",
    )


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: ChannelsIn | None = Field(default=None, description="The kinds named take these channels")
    marketing: MarketingIn | None = None


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["fcm", "apns"]
    token: str = Field(min_length=32, max_length=4096, description="The FCM registration token or APNs device token")

    @model_validator(mode="after")
    def token_shape(self) -> DeviceIn:
        pattern = FCM_TOKEN if self.platform == "fcm" else APNS_TOKEN
        if not pattern.fullmatch(self.token):
            raise ValueError(f"not the shape of an {self.platform} token")
        return self


# -- answers -------------------------------------------------------------------------------------------------------
class NotificationAnswer(Answer):
    notificationId: str
    channel: ChannelName
    kind: KindName
    subject: str = Field(description="The email's subject; on SMS and push, what the message was about")
    state: StateName
    reason: str | None = Field(description="Why it was suppressed or failed")
    campaignId: str | None
    createdAt: Timestamp
    updatedAt: Timestamp
    sentAt: Timestamp | None
    deliveredAt: Timestamp | None = Field(description="Email only: when the receiving server took it")
    failedAt: Timestamp | None


class NotificationPage(Answer):
    items: list[NotificationAnswer]
    nextCursor: str | None = Field(description="The `cursor` of the next page; null on the last")


class ChannelsAnswer(Answer):
    orderUpdates: list[ChannelName]
    support: list[ChannelName]
    marketing: list[ChannelName]
    alerts: list[ChannelName]


class MarketingAnswer(Answer):
    consent: bool
    consentGivenAt: Timestamp | None
    consentSource: str | None
    consentWithdrawnAt: Timestamp | None
    withdrawnSource: str | None


class PreferencesAnswer(Answer):
    channels: ChannelsAnswer
    marketing: MarketingAnswer
    updatedAt: Timestamp | None = Field(description="null while the defaults apply")


class DeviceAnswer(Answer):
    deviceId: str
    platform: Literal["fcm", "apns"]
    registeredAt: Timestamp
    enabled: bool


class UnsubscribeAnswer(Answer):
    channel: ChannelName
    kind: KindName
    subscribed: bool = Field(description="Whether messages of this kind still go to this channel")
    changed: bool = Field(description="Whether this request changed anything (a repeat does not)")


# -- helpers -------------------------------------------------------------------------------------------------------


def _limit(app: APIGatewayHttpResolver) -> int:
    return page_limit(app, default=DEFAULT_LIMIT, maximum=MAX_LIMIT) or DEFAULT_LIMIT


def _start(app: APIGatewayHttpResolver, user_id: str) -> dict[str, Any] | None:
    """The position a cursor stands for, if it is one of this caller's pages (a cursor naming another's log is
    refused like any other bad cursor)."""
    raw = query_param(app, "cursor")
    if raw is None:
        return None
    if len(raw) > MAX_CURSOR:
        raise InvalidCursor("The cursor is not valid.")
    position = decode_cursor(raw) or {}
    keys = {"pk", "sk", "gsi1pk", "gsi1sk"}
    if (
        set(position) != keys
        or not all(isinstance(v, str) and 0 < len(v) <= 300 for v in position.values())
        or position["gsi1pk"] != log_partition(user_id)
    ):
        raise InvalidCursor("The cursor is not valid.")
    return position


def _device_id(device_id: str) -> str:
    if not DEVICE_ID.fullmatch(device_id):
        raise BadRequest("deviceId is 1 to 64 letters, digits, '-' or '_'.")
    return device_id


# -- the caller's log and preferences -------------------------------------------------------------------------------
read_app = create_resolver(ERRORS)


@read_app.get(
    "/me/notifications",
    summary="List my notifications",
    description="What was sent to the caller, newest first, a page at a time (`limit`, 1 to 100, default 20; "
    "`cursor` from `nextCursor`): each message's channel, kind, subject, state (`sending`, `sent`, `delivered`, "
    "`failed`, `suppressed`), the reason of a failure or suppression, and its times. `delivered` exists for email "
    "only (SES's delivery feedback); SMS and push stay `sent`.",
)
@documented(
    answers={200: NotificationPage},
    query={"limit": "Messages per page, 1 to 100", "cursor": "The previous page's `nextCursor`"},
)
def list_my_notifications(store: Store) -> Response[Any]:
    caller = current_caller(read_app)
    items, last = store.list_for_user(caller.user_id, limit=_limit(read_app), start=_start(read_app, caller.user_id))
    return json_response({"items": [n.to_dict() for n in items], "nextCursor": encode_cursor(last)})


@read_app.get(
    "/me/notification-preferences",
    summary="Get my notification preferences",
    description="The channels each kind of message goes on (order updates and support always include email; alerts "
    "are for admins, by email) and the marketing consent with when and how it was given or withdrawn. Without "
    "preferences saved, the defaults: email for everything, no marketing consent.",
)
@documented(answers={200: PreferencesAnswer})
def get_preferences(store: Store) -> Response[Any]:
    return json_response(store.preferences(current_caller(read_app).user_id).to_dict())


# -- changing them -------------------------------------------------------------------------------------------------
preferences_app = create_resolver(ERRORS)


@preferences_app.put(
    "/me/notification-preferences",
    summary="Set my notification preferences",
    description="`channels`: the kinds named take the channels given (the others keep theirs); order updates and "
    "support must keep email (else 422), alerts are email only. `marketing: {consent, source}` gives or withdraws "
    "marketing consent; the answer records when (`consentGivenAt`, `consentWithdrawnAt`) and how (`source`). "
    "Marketing goes only with consent, and only on the channels chosen for it; SMS needs a confirmed phone "
    "(`PATCH /me`), push a registered device.",
)
@documented(body=PreferencesIn, answers={200: PreferencesAnswer})
def put_preferences(store: Store) -> Response[Any]:
    app = preferences_app
    caller = current_caller(app)
    body = request_body(app, PreferencesIn)
    channels = None
    if body.channels is not None:
        channels = {
            Kind(kind): [Channel(c) for c in chosen]
            for kind, chosen in body.channels.model_dump(exclude_none=True).items()
        }
    cmd = service.UpdatePreferences(
        caller.user_id,
        channels=channels,
        marketing_consent=body.marketing.consent if body.marketing else None,
        consent_source=(body.marketing.source if body.marketing else None) or "notification-preferences",
    )
    return json_response(service.update_preferences(cmd, store).to_dict())


# -- devices -------------------------------------------------------------------------------------------------------
devices_app = create_resolver(ERRORS)


@devices_app.put(
    "/me/devices/<device_id>",
    summary="Register a device for push",
    description="The caller's device (`deviceId`: the app's own id for it, 1 to 64 of `A-Z a-z 0-9 - _`) with its "
    "push token (`fcm`: a registration token; `apns`: a hex device token). Registering again replaces the token. "
    "At most 10 devices. 422 (`push-not-configured`) when the shop has no push platform application.",
)
@documented(body=DeviceIn, answers={200: DeviceAnswer})
def put_device(device_id: str, store: Store, registry: Registry) -> Response[Any]:
    app = devices_app
    caller = current_caller(app)
    body = request_body(app, DeviceIn)
    cmd = service.RegisterDevice(caller.user_id, _device_id(device_id), Platform(body.platform), body.token)
    return json_response(service.register_device(cmd, store, registry).to_dict())


@devices_app.delete(
    "/me/devices/<device_id>",
    summary="Remove a device",
    description="Push stops going to the device; its endpoint is deleted. 204 whether or not it was registered.",
)
@documented(answers={204: None})
def delete_device(device_id: str, store: Store, registry: Registry) -> Response[Any]:
    caller = current_caller(devices_app)
    service.remove_device(service.RemoveDevice(caller.user_id, _device_id(device_id)), store, registry)
    return Response(status_code=204)


# -- one-click unsubscribe (public: the signed token is the authority) ---------------------------------------------
unsubscribe_app = create_resolver(ERRORS)

TOKEN_QUERY = {"token": "The signed token of the email's unsubscribe link"}


def _token(app: APIGatewayHttpResolver) -> str:
    token = query_param(app, "token")
    if not token:
        raise InvalidToken("The unsubscribe link has no token.")
    return token


@unsubscribe_app.get(
    "/notifications/unsubscribe",
    summary="What an unsubscribe link would do",
    description="The link of a marketing email's `List-Unsubscribe` header, opened: which channel and kind it "
    "would stop, and whether they are on now. Changes nothing (mail scanners open links); `POST` unsubscribes. A "
    "malformed token is 400, a forged or altered one 403.",
)
@documented(answers={200: UnsubscribeAnswer}, query=TOKEN_QUERY)
def preview_unsubscribe(store: Store, secret: Secret) -> Response[Any]:
    answer = service.preview_unsubscribe(_token(unsubscribe_app), secret, store)
    return json_response(answer.to_dict())


@unsubscribe_app.post(
    "/notifications/unsubscribe",
    summary="Unsubscribe (one click, RFC 8058)",
    description="The mail client's one-click unsubscribe: body `List-Unsubscribe=One-Click` "
    "(`application/x-www-form-urlencoded`) or empty. Takes the token's channel off marketing (for email: marketing "
    "email stops; with no marketing channel left, the consent is withdrawn, recorded with when and how). A repeat "
    "answers the same and changes nothing. A malformed token or body is 400, a forged token 403, nothing changed.",
)
@documented(answers={200: UnsubscribeAnswer}, query=TOKEN_QUERY)
def post_unsubscribe(store: Store, secret: Secret) -> Response[Any]:
    app = unsubscribe_app
    raw = (app.current_event.body or "").strip()
    if raw and parse_qsl(raw) != ONE_CLICK:
        raise InvalidUnsubscribeBody("The body is `List-Unsubscribe=One-Click` or nothing.")
    source = "one-click" if raw else "unsubscribe-link"
    return json_response(service.unsubscribe(_token(app), secret, store, source=source).to_dict())


# -- handlers ------------------------------------------------------------------------------------------------------
read_handler = http_handler(read_app)
preferences_handler = http_handler(preferences_app)
devices_handler = http_handler(devices_app)
unsubscribe_handler = http_handler(unsubscribe_app)
