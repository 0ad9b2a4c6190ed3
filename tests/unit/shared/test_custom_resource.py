"""CloudFormation's custom-resource protocol: the outcome is PUT to the ResponseURL, whatever happens; a plain
invocation just does the work."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gears_shared import custom_resource
from gears_shared.custom_resource import answer_custom_resource

REQUEST = {
    "ResponseURL": "https://cloudformation-custom-resource-response.s3.amazonaws.com/answer?X-Amz-Signature=x",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/gears/1",
    "RequestId": "request-1",
    "LogicalResourceId": "CatalogDemoData",
    "ResourceType": "Custom::DemoData",
}


class Context:
    log_stream_name = "2026/01/01/[$LATEST]abc"


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    class Answer:
        status = 200

        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *_: object) -> None:
            pass

    def urlopen(request: Any, timeout: float) -> Answer:
        assert (request.method, request.full_url, request.get_header("Content-type")) == (
            "PUT",
            REQUEST["ResponseURL"],
            "",
        )
        sent.append(json.loads(request.data))
        return Answer()

    monkeypatch.setattr(custom_resource.urllib.request, "urlopen", urlopen)
    return sent


def test_a_plain_invocation_does_the_work_and_answers_nobody(answers: list[dict[str, Any]]) -> None:
    assert answer_custom_resource({}, Context(), lambda: {"written": 3}) == {"written": 3}
    assert answers == []


def test_create_and_update_do_the_work_and_answer_success_with_its_data(answers: list[dict[str, Any]]) -> None:
    answer_custom_resource({**REQUEST, "RequestType": "Create"}, Context(), lambda: {"written": 3})
    answer_custom_resource(
        {**REQUEST, "RequestType": "Update", "PhysicalResourceId": "CatalogDemoData"}, Context(), lambda: {"written": 0}
    )
    created, updated = answers
    assert {k: created[k] for k in ("Status", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId")} == {
        "Status": "SUCCESS",
        "PhysicalResourceId": "CatalogDemoData",
        "StackId": REQUEST["StackId"],
        "RequestId": "request-1",
        "LogicalResourceId": "CatalogDemoData",
    }
    assert (created["Data"], updated["Data"], updated["PhysicalResourceId"]) == (
        {"written": 3},
        {"written": 0},
        "CatalogDemoData",
    )


def test_delete_does_nothing_and_succeeds(answers: list[dict[str, Any]]) -> None:
    def work() -> dict[str, Any]:
        raise AssertionError("deleting the resource must not load or remove anything")

    answer_custom_resource({**REQUEST, "RequestType": "Delete", "PhysicalResourceId": "x"}, Context(), work)
    assert [(a["Status"], a["PhysicalResourceId"], a["Data"]) for a in answers] == [("SUCCESS", "x", {})]


def test_a_failure_is_answered_as_failed_with_its_reason(answers: list[dict[str, Any]]) -> None:
    def work() -> dict[str, Any]:
        raise ValueError("no table")

    assert answer_custom_resource({**REQUEST, "RequestType": "Create"}, Context(), work) == {}
    [failed] = answers
    assert (failed["Status"], failed["Reason"]) == ("FAILED", "ValueError: no table")
