"""Campaign batches (raw MIME with RFC 8058 headers), one-click unsubscribe, preferences, devices and the log's
paging, against moto."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import ModuleType
from urllib.parse import parse_qs, urlparse

from gears.local.lambda_context import LambdaContext
from gears_shared.events import CloudEvent
from tests.functional.notification.conftest import Answer, claims, event, mails_to, registered, sqs_event


def ctx() -> LambdaContext:
    """A fresh invocation\'s context (its deadline runs from now)."""
    return LambdaContext("NotificationCampaignConsumerFunction", timeout_s=60)


def customers(consumers: ModuleType, n: int) -> list[str]:
    ids = [f"user-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    envelopes = [registered(u, f"{u}@example.com", name=f"Cust{i} Omer") for i, u in enumerate(ids)]
    assert consumers.handler(sqs_event(*envelopes), ctx()) == {"batchItemFailures": []}
    return ids


def consent(call: Callable[..., Answer], user_id: str) -> Answer:
    answer = call(
        "PUT",
        "/me/notification-preferences",
        claims=claims(user_id),
        body={"marketing": {"consent": True, "source": "signup-checkbox"}},
    )
    assert answer.status == 200, answer
    return answer


def batch(recipients: list[str], campaign_id: str, **data: object) -> CloudEvent:
    return event(
        "CampaignBatchReady.v1",
        "gears.crm",
        {
            "campaignId": campaign_id,
            "batchId": f"{campaign_id}-0",
            "name": "Spring",
            "subject": "{{ first_name }}, spring is here",
            "body": "Hi {{ name }}!\nUse {{ discount_code }} today.",
            "discountCode": "SPRING10",
            "channels": ["email"],
            "recipients": recipients,
            **data,
        },
    )


def test_a_campaign_reaches_only_the_consenting_with_a_working_one_click_unsubscribe(
    consumers: ModuleType, call: Callable[..., Answer], env: dict[str, str]
) -> None:
    keen, shy = customers(consumers, 2)
    recorded = consent(call, keen).body["marketing"]
    assert recorded["consent"]
    assert recorded["consentSource"] == "signup-checkbox"
    assert recorded["consentGivenAt"]
    campaign_id = f"camp-{uuid.uuid4().hex[:8]}"
    assert consumers.handler(sqs_event(batch([keen, shy], campaign_id)), ctx()) == {"batchItemFailures": []}

    [mail] = mails_to(f"{keen}@example.com")
    assert mail.subject == "Cust0, spring is here"
    assert "Hi Cust0 Omer!" in mail.text
    assert "SPRING10" in mail.text
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail.headers["List-Unsubscribe"].strip("<>")
    assert link.startswith(env["PUBLIC_API_URL"].rstrip("/") + "/notifications/unsubscribe?token=")
    assert mails_to(f"{shy}@example.com") == []
    [shy_item] = call("GET", "/me/notifications", claims=claims(shy)).body["items"]
    assert (shy_item["state"], shy_item["reason"], shy_item["campaignId"]) == ("suppressed", "no-consent", campaign_id)

    token = parse_qs(urlparse(link).query)["token"][0]
    query = {"token": token}
    preview = call("GET", "/notifications/unsubscribe", query=query)
    assert preview.status == 200
    assert preview.body == {
        "channel": "email",
        "kind": "marketing",
        "subscribed": True,
        "changed": False,
    }
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused = call(
        "POST",
        "/notifications/unsubscribe",
        query={"token": forged},
        body="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert refused.status == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert call("POST", "/notifications/unsubscribe", query=query, body="unsubscribe=please").status == 400
    assert call("GET", "/me/notification-preferences", claims=claims(keen)).body["marketing"]["consent"]

    done = call(
        "POST",
        "/notifications/unsubscribe",
        query=query,
        body="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status == 200
    assert (done.body["subscribed"], done.body["changed"]) == (False, True)
    again = call("POST", "/notifications/unsubscribe", query=query)
    assert again.status == 200
    assert (again.body["subscribed"], again.body["changed"]) == (False, False)
    marketing = call("GET", "/me/notification-preferences", claims=claims(keen)).body["marketing"]
    assert not marketing["consent"]
    assert marketing["withdrawnSource"] == "one-click"

    # The next campaign does not reach the one who left.
    consumers.handler(sqs_event(batch([keen], f"camp-{uuid.uuid4().hex[:8]}")), ctx())
    assert len(mails_to(f"{keen}@example.com")) == 1


def test_a_full_batch_of_fifty_is_sent_once_even_when_delivered_twice(
    consumers: ModuleType, call: Callable[..., Answer]
) -> None:
    people = customers(consumers, 50)
    for user_id in people[:10]:
        consent(call, user_id)
    campaign_id = f"camp-{uuid.uuid4().hex[:8]}"
    message = batch(people, campaign_id)
    assert consumers.handler(sqs_event(message), ctx()) == {"batchItemFailures": []}
    assert consumers.handler(sqs_event(message), ctx()) == {"batchItemFailures": []}
    assert sum(len(mails_to(f"{u}@example.com")) for u in people) == 10
    states = [call("GET", "/me/notifications", claims=claims(u)).body["items"][0]["state"] for u in people]
    assert states.count("sent") == 10
    assert states.count("suppressed") == 40


def test_a_batch_that_breaks_the_contract_goes_to_the_dead_letter_queue(consumers: ModuleType) -> None:
    too_many = [f"u-{i}" for i in range(51)]
    answer = consumers.handler(sqs_event(batch(too_many, "camp-x")), ctx())
    assert len(answer["batchItemFailures"]) == 1


def test_preferences_refuse_bad_input_with_a_problem_and_change_nothing(
    consumers: ModuleType, call: Callable[..., Answer]
) -> None:
    [ann] = customers(consumers, 1)
    me = claims(ann)
    for body, status in [
        ({"channels": {"orderUpdates": ["sms"]}}, 422),
        ({"channels": {"alerts": ["push"]}}, 422),
        ({"channels": {"orderUpdates": ["fax"]}}, 400),
        ({"marketing": {"consent": True}, "role": "admin"}, 400),
        ({"marketing": {"consent": "yes please"}}, 400),
        ({"marketing": {"consent": "yes"}}, 400),  # no truthy strings: consent is a yes said as true
        ({"marketing": {"consent": 1}}, 400),
        ("not json", 400),
    ]:
        answer = call("PUT", "/me/notification-preferences", claims=me, body=body)
        assert answer.status == status, (body, answer)
        assert answer.headers["content-type"] == "application/problem+json"
    prefs = call("GET", "/me/notification-preferences", claims=me).body
    assert prefs["updatedAt"] is None
    assert prefs["channels"]["orderUpdates"] == ["email"]
    assert call("GET", "/me/notification-preferences").status == 401


def test_devices_are_validated_and_removed(consumers: ModuleType, call: Callable[..., Answer]) -> None:
    [ann] = customers(consumers, 1)
    me = claims(ann)
    route = "/me/devices/{deviceId}"

    def put(device_id: str, body: object) -> Answer:
        return call(
            "PUT",
            f"/me/devices/{device_id}",
            route=route,
            path_parameters={"deviceId": device_id},
            claims=me,
            body=body,
        )

    assert put("ipad", {"platform": "apns", "token": "not-hex" * 10}).status == 400
    assert put("bad id!", {"platform": "apns", "token": "a" * 64}).status == 400
    ok = put("ipad", {"platform": "apns", "token": "ab" * 32})
    assert ok.status == 200
    assert ok.body["deviceId"] == "ipad"
    assert ok.body["enabled"]
    gone = call("DELETE", "/me/devices/ipad", route=route, path_parameters={"deviceId": "ipad"}, claims=me)
    assert gone.status == 204
    from notification import bootstrap

    assert bootstrap.store().devices(ann) == ()


def test_the_log_pages_newest_first_and_a_cursor_never_opens_another_log(
    consumers: ModuleType, call: Callable[..., Answer]
) -> None:
    ann, bob = customers(consumers, 2)
    for i in range(3):
        paid = event("OrderPaid.v1", "gears.orders", {"orderId": f"o-page-{i}", "userId": ann})
        consumers.handler(sqs_event(paid), ctx())
    first = call("GET", "/me/notifications", claims=claims(ann), query={"limit": "2"})
    assert first.status == 200
    assert len(first.body["items"]) == 2
    assert first.body["nextCursor"]
    rest = call("GET", "/me/notifications", claims=claims(ann), query={"cursor": first.body["nextCursor"]})
    subjects = [i["subject"] for i in first.body["items"] + rest.body["items"]]
    assert sorted(subjects) == ["Order o-page-0 is paid", "Order o-page-1 is paid", "Order o-page-2 is paid"]
    assert rest.body["nextCursor"] is None
    stolen = call("GET", "/me/notifications", claims=claims(bob), query={"cursor": first.body["nextCursor"]})
    assert stolen.status == 400
    assert call("GET", "/me/notifications", claims=claims(ann), query={"limit": "0"}).status == 400
    assert call("GET", "/me/notifications", claims=claims(bob)).body["items"] == []
