"""The customer's profile through MeUpdateFunction and MeFunction against moto: the name given at sign-up, PATCH
/me, the phone's code sent by SNS (moto keeps it in its ``sms_messages``) and its confirmation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.auth.conftest import AuthApi, claims_of, code_in, sms_sent_to


def new_phone() -> str:
    """A number no other test uses (moto's SMS record is shared by the tests of one run)."""
    return "+4477009" + f"{uuid.uuid4().int % 10**5:05d}"


@pytest.fixture
def customer(auth_api: AuthApi, email: str, lambda_env: Any) -> str:
    """A confirmed, signed-in customer (with a name from sign-up) in MeUpdateFunction's environment; the token."""
    lambda_env("MeUpdateFunction")
    assert auth_api.post("/auth/signup", {"email": email, "password": "Correct1Horse", "name": "Ada"}).status == 201
    assert auth_api.confirm(email).status == 200
    return str(auth_api.login(email).body["accessToken"])


def test_the_name_given_at_sign_up_is_shown_by_me(auth_api: AuthApi, customer: str) -> None:
    me = auth_api.me(claims_of(customer)).body
    assert (me["name"], me["phone"], me["pendingPhone"], me["phoneVerified"], me["locale"]) == (
        "Ada",
        None,
        None,
        False,
        None,
    )


def test_a_phone_is_confirmed_by_the_code_sns_sent_it(auth_api: AuthApi, customer: str) -> None:
    phone = new_phone()
    answer = auth_api.patch_me(customer, {"phone": phone, "locale": "en-gb"})
    assert answer.status == 200, answer.body
    assert (answer.body["pendingPhone"], answer.body["phone"], answer.body["locale"]) == (phone, None, "en-GB")
    (text,) = sms_sent_to(phone)
    code = code_in(text)

    shown = auth_api.me(claims_of(customer)).body
    assert (shown["pendingPhone"], shown["phoneVerified"]) == (phone, False)

    confirmed = auth_api.confirm_phone(customer, code)
    assert confirmed.status == 200, confirmed.body
    assert (confirmed.body["phone"], confirmed.body["pendingPhone"], confirmed.body["phoneVerified"]) == (
        phone,
        None,
        True,
    )
    assert auth_api.me(claims_of(customer)).body["phone"] == phone

    again = auth_api.confirm_phone(customer, code)  # the code did its work: nothing awaits one now
    assert (again.status, again.body["type"].rsplit("/", 1)[-1]) == (409, "no-pending-phone")
    assert invariants_broken(auth_api) == []


def invariants_broken(auth_api: AuthApi) -> list[str]:
    """What ``gears check`` would report of the auth table as it is now (it reads the table the same way)."""
    from decimal import Decimal

    import boto3
    from boto3.dynamodb.types import TypeDeserializer

    from auth.invariants import checks
    from gears_shared.invariants import Shop

    def plain(value: Any) -> Any:
        return int(value) if isinstance(value, Decimal) else value

    deserialize = TypeDeserializer().deserialize
    raw = boto3.client("dynamodb").scan(TableName=auth_api.stack.ref("AuthTable"))["Items"]
    items = [{key: plain(deserialize(value)) for key, value in item.items()} for item in raw]
    return [problem for check in checks(items, Shop()) for problem in check.problems]


def test_a_wrong_code_is_400_and_the_phone_stays_unconfirmed(auth_api: AuthApi, customer: str) -> None:
    phone = new_phone()
    auth_api.patch_me(customer, {"phone": phone})
    code = code_in(sms_sent_to(phone)[0])
    wrong = "000000" if code != "000000" else "111111"
    answer = auth_api.confirm_phone(customer, wrong)
    assert (answer.status, answer.body["type"].rsplit("/", 1)[-1], answer.body["attemptsLeft"]) == (
        400,
        "invalid-code",
        4,
    )
    assert answer.content_type == "application/problem+json"
    me = auth_api.me(claims_of(customer)).body
    assert (me["phone"], me["pendingPhone"]) == (None, phone)
    for _ in range(4):
        auth_api.confirm_phone(customer, wrong)
    dead = auth_api.confirm_phone(customer, code)
    assert (dead.status, dead.body["type"].rsplit("/", 1)[-1]) == (400, "code-attempts-exhausted")
    assert auth_api.me(claims_of(customer)).body["phone"] is None
    assert invariants_broken(auth_api) == []


@pytest.mark.parametrize(
    "body",
    [{"phone": "+44 7700 900123"}, {"phone": "447700900123"}, {"email": "other@example.com"}, {"locale": "en_GB"}],
    ids=["spaces", "no plus", "email", "locale"],
)
def test_bad_input_is_400_and_sends_nothing(auth_api: AuthApi, customer: str, body: dict[str, Any]) -> None:
    answer = auth_api.patch_me(customer, body)
    assert answer.status == 400
    assert answer.content_type == "application/problem+json"
    for number in ("+44 7700 900123", "447700900123"):
        assert sms_sent_to(number) == []
    me = auth_api.me(claims_of(customer)).body
    assert (me["pendingPhone"], me["locale"]) == (None, None)


def test_null_removes_the_phone(auth_api: AuthApi, customer: str) -> None:
    phone = new_phone()
    auth_api.patch_me(customer, {"phone": phone})
    auth_api.confirm_phone(customer, code_in(sms_sent_to(phone)[0]))
    answer = auth_api.patch_me(customer, {"phone": None, "name": None})
    assert answer.status == 200
    assert (answer.body["phone"], answer.body["phoneVerified"], answer.body["name"]) == (None, False, None)


def test_a_second_code_within_a_minute_is_429_and_not_sent(auth_api: AuthApi, customer: str) -> None:
    phone = new_phone()
    auth_api.patch_me(customer, {"phone": phone})
    again = auth_api.patch_me(customer, {"phone": phone})
    assert (again.status, again.body["type"].rsplit("/", 1)[-1]) == (429, "code-recently-sent")
    assert len(sms_sent_to(phone)) == 1


def test_the_code_is_kept_hashed(auth_api: AuthApi, customer: str) -> None:
    import boto3

    phone = new_phone()
    auth_api.patch_me(customer, {"phone": phone})
    code = code_in(sms_sent_to(phone)[0])
    table = auth_api.stack.ref("AuthTable")
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"USER#{claims_of(customer)['sub']}"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    assert item["pendingPhone"] == {"S": phone}
    assert code not in [value.get("S") for value in item.values()]
    assert len(item["phoneCodeDigest"]["S"]) == 64  # a SHA-256, salted with phoneCodeSalt
