"""The local cloud's chaos: armed and disarmed through its control route, DynamoDB answers throttles and 500s the
way DynamoDB does (the SDK's retries take most), SQS delivers twice or late."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from werkzeug.test import EnvironBuilder, run_wsgi_app

from gears.local import chaos as chaos_module
from gears.local.chaos import CONTROL_PATH, Chaos
from tests.functional.local.test_moto_fast import _InProcess


def _control(app: Any, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    environ = EnvironBuilder(method=method, path=CONTROL_PATH, data=json.dumps(body or {})).get_environ()
    app_iter, status, _ = run_wsgi_app(app, environ)
    assert status.startswith("200")
    return dict(json.loads(b"".join(app_iter)))


@pytest.fixture
def cloud() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    chaos = Chaos()
    app = chaos_module.wsgi(DomainDispatcherApplication(create_backend_app), chaos)
    run_wsgi_app(app, EnvironBuilder(method="POST", path="/moto-api/reset").get_environ())
    return app, chaos


def test_dynamodb_is_throttled_and_failed_on_a_share_of_calls_and_the_sdk_retries(cloud: Any) -> None:
    app, _ = cloud
    ddb = _InProcess(app).client("dynamodb")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    state = _control(app, "POST", {"seed": 1, "dynamodb": {"throttle": 0.3, "error": 0.1}})
    assert state["armed"]["dynamodb"]["throttle"] == 0.3
    for i in range(60):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"k{i}"}})  # retried by the SDK until it lands
    fired = _control(app, "GET")["fired"]
    assert fired["dynamodb.throttle"] > 5
    assert fired["dynamodb.error"] > 0
    assert ddb.scan(TableName="t", Select="COUNT")["Count"] == 60  # nothing lost, nothing applied twice

    no_retries = _InProcess(app).client("dynamodb", Config(retries={"total_max_attempts": 1}))
    errors = set()
    for i in range(40):
        try:
            no_retries.get_item(TableName="t", Key={"pk": {"S": f"k{i}"}})
        except no_retries.exceptions.ClientError as exc:
            errors.add(exc.response["Error"]["Code"])
    assert errors == {"ProvisionedThroughputExceededException", "InternalServerError"}

    _control(app, "DELETE")
    before = dict(_control(app, "GET")["fired"])
    for _ in range(20):
        no_retries.get_item(TableName="t", Key={"pk": {"S": "k1"}})
    assert _control(app, "GET")["fired"] == before  # disarmed


def test_sqs_messages_come_twice_or_late(cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, chaos = cloud
    monkeypatch.setattr(chaos_module, "CHAOS", chaos)
    chaos_module.patch_sqs(chaos)
    sqs = _InProcess(app).client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    _control(app, "POST", {"seed": 3, "sqs": {"duplicate": 1.0}})
    sqs.send_message(QueueUrl=url, MessageBody="once")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert bodies == ["once", "once"]

    _control(app, "POST", {"seed": 3, "sqs": {"delay": 1.0, "max_delay_s": 2}})
    sqs.send_message(QueueUrl=url, MessageBody="late")
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3).get("Messages", [])
    assert [m["Body"] for m in got] == ["late"]
    _control(app, "DELETE")
