"""The sample events in events/Notification*/ (for `gears invoke -e`, `sam local invoke -e`) work against the
functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.conftest import ROOT
from tests.functional.notification.conftest import cold, mails_to
from tests.support.topics import drain, subscribe_queue

EVENTS = ROOT / "events"


def load(path: str) -> dict[str, Any]:
    return json.loads(Path(EVENTS / path).read_text())


def answer(handler: Callable[..., dict[str, Any]], path: str) -> tuple[int, Any]:
    raw = handler(load(path), LambdaContext("Notification", timeout_s=30))
    return raw["statusCode"], json.loads(raw["body"]) if raw.get("body") else None


def test_the_consumer_and_http_samples(consumers: ModuleType, api: ModuleType) -> None:
    ctx = LambdaContext("Notification", timeout_s=30)
    assert consumers.handler(load("NotificationEventsConsumerFunction/order-placed.json"), ctx) == {
        "batchItemFailures": []
    }
    assert len(mails_to("sample@example.com")) == 1
    status, page = answer(api.read_handler, "NotificationReadFunction/list-notifications.json")
    assert status == 200
    assert [i["subject"] for i in page["items"]] == ["We have your order order-sample"]
    assert answer(api.read_handler, "NotificationReadFunction/get-preferences.json")[0] == 200
    status, prefs = answer(api.preferences_handler, "NotificationPreferencesFunction/put-preferences.json")
    assert status == 200
    assert prefs["marketing"]["consent"]
    assert consumers.handler(load("NotificationCampaignConsumerFunction/campaign-batch.json"), ctx) == {
        "batchItemFailures": []
    }
    assert len(mails_to("sample@example.com")) == 2
    assert answer(api.devices_handler, "NotificationDevicesFunction/put-device.json")[0] == 200
    assert answer(api.unsubscribe_handler, "NotificationUnsubscribeFunction/preview.json")[0] == 400
    # Feedback for a message this table never sent is acknowledged and changes nothing.
    assert consumers.feedback_handler(load("NotificationFeedbackConsumerFunction/delivery.json"), ctx) == {
        "batchItemFailures": []
    }


def test_the_stream_sample(cloud: Stack, env: dict[str, str]) -> None:
    queue = subscribe_queue(env["TOPIC_ARN"])
    publisher = cold("notification.publisher")
    result = publisher.handler(load("NotificationPublisherFunction/stream-sent.json"), LambdaContext("Publisher"))
    assert result == {"batchItemFailures": []}
    assert [e.type for e in drain(queue)] == ["NotificationSent.v1"]
