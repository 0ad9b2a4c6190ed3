"""`gears dlq` on moto: every DLQ of the template is found with its counts; messages are shown without being
consumed; redrive moves them back to their source queue with their attributes; stream failure queues are not
redriven."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from gears.dlq import REDRIVE, STREAM, DlqTool, cmd_dlq, dead_letter_queues, format_counts
from gears.local.provision import Stack
from gears.local.template import Template


def test_the_template_dlqs_are_the_redrive_targets_and_stream_failure_queues(template: Template) -> None:
    found = {q.logical_id: q for q in dead_letter_queues(template)}
    assert found["OrdersEventsDLQ"].kind == REDRIVE
    assert found["OrdersEventsDLQ"].sources == ("OrdersEventsQueue",)
    assert found["OrdersStreamFailures"].kind == STREAM
    assert found["OrdersStreamFailures"].sources == ("OrdersPublisherFunction",)
    assert found["EcommerceStreamFailures"].kind == STREAM
    assert "OrdersEventsQueue" not in found  # a source queue is not a DLQ


@pytest.fixture
def tool(cloud: Stack, template: Template) -> DlqTool:
    return DlqTool(template, cloud.attrs, boto3.client("sqs", region_name="us-east-1"))


def park(cloud: Stack, body: str, kind: str = "poison") -> None:
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=cloud.ref("OrdersEventsDLQ"),
        MessageBody=body,
        MessageAttributes={"type": {"DataType": "String", "StringValue": kind}},
    )


def test_list_show_and_redrive(tool: DlqTool, cloud: Stack) -> None:
    park(cloud, json.dumps({"id": "e-1"}))
    park(cloud, "not json")
    counts = {row["queue"]: row for row in tool.counts()}
    assert counts["OrdersEventsDLQ"]["messages"] == 2
    assert counts["OrdersStreamFailures"]["messages"] == 0
    assert "OrdersEventsDLQ" in format_counts(tool.counts())

    shown = tool.show("OrdersEventsDLQ")
    assert sorted(str(m.to_dict()["body"]) for m in shown) == sorted(["{'id': 'e-1'}", "not json"])
    assert all(m.receive_count >= 1 and m.message_attributes["type"]["StringValue"] == "poison" for m in shown)
    assert tool.counts()[[r["queue"] for r in tool.counts()].index("OrdersEventsDLQ")]["messages"] == 2  # still there

    assert tool.redrive("OrdersEventsDLQ") == 2
    sqs = boto3.client("sqs", region_name="us-east-1")
    back = sqs.receive_message(
        QueueUrl=cloud.ref("OrdersEventsQueue"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in back) == sorted([json.dumps({"id": "e-1"}), "not json"])
    assert all(m["MessageAttributes"]["type"]["StringValue"] == "poison" for m in back)
    assert {r["queue"]: r["messages"] for r in tool.counts()}["OrdersEventsDLQ"] == 0


def test_stream_failures_are_not_redriven_and_unknown_queues_are_named(tool: DlqTool) -> None:
    with pytest.raises(ValueError, match="stream"):
        tool.redrive("OrdersStreamFailures")
    with pytest.raises(KeyError, match="OrdersEventsDLQ"):
        tool.show("NoSuchQueue")


def test_the_command(cloud: Stack, template: Template, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    park(cloud, "x")
    monkeypatch.setattr("gears.dlq.tool_for", lambda state, path: DlqTool(template, cloud.attrs, boto3.client("sqs")))
    args = type(
        "Args",
        (),
        {"action": "list", "json": True, "template": str(template.path if hasattr(template, "path") else "")},
    )
    assert cmd_dlq(args, {"endpoint": "unused", "resources": cloud.attrs}) == 0
    rows = {r["queue"]: r["messages"] for r in json.loads(capsys.readouterr().out)}
    assert rows["OrdersEventsDLQ"] == 1
    redrive = type("Args", (), {"action": "redrive", "queue": "OrdersEventsDLQ", "max": None, "template": ""})
    assert cmd_dlq(redrive, {"endpoint": "unused", "resources": cloud.attrs}) == 0
    assert "moved 1 message(s)" in capsys.readouterr().out
    assert cmd_dlq(redrive, None) == 1  # no shop running
    bad = type("Args", (), {"action": "show", "queue": "Nope", "max": 5, "template": ""})
    assert cmd_dlq(bad, {"endpoint": "unused", "resources": cloud.attrs}) == 2


def test_the_cli_knows_the_subcommand() -> None:
    from gears.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--state-dir", str(Path("/nonexistent-gears-state")), "dlq", "--help"])
    assert done.value.code == 0
