"""A function that CloudFormation calls as a custom resource, and that can also be invoked plainly.

CloudFormation's request carries a ``ResponseURL`` (a pre-signed S3 URL): the function must PUT its outcome there,
or the stack waits for an hour. A plain invocation (``{}``, as the local runtime and ``aws lambda invoke`` send)
has none: the work runs and its result is the answer. ``Delete`` does nothing: the data a function loaded is the
table's, and goes when the table goes.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from gears_shared.observability import logger

RESPONSE_TIMEOUT_S = 30


def answer_custom_resource(
    event: Mapping[str, Any], context: Any, work: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``work`` (unless CloudFormation is deleting the resource) and return its result; when ``event`` is
    CloudFormation's, also PUT the outcome to its ``ResponseURL``: ``SUCCESS`` with the result as ``Data``, or
    ``FAILED`` with the error as ``Reason`` (the stack then rolls back)."""
    if "ResponseURL" not in event:
        return work()
    data: dict[str, Any] = {}
    status, reason = "SUCCESS", ""
    try:
        if event.get("RequestType") != "Delete":
            data = work()
    except Exception as exc:  # noqa: BLE001 - any failure must reach CloudFormation, or the stack hangs for an hour
        logger.exception("custom resource %s failed", event.get("LogicalResourceId"))
        status, reason = "FAILED", f"{type(exc).__name__}: {exc}"
    respond(event, context, status, data, reason)
    return data


def respond(event: Mapping[str, Any], context: Any, status: str, data: Mapping[str, Any], reason: str = "") -> None:
    """PUT the custom resource's outcome to CloudFormation (the body its protocol asks for)."""
    log_stream = getattr(context, "log_stream_name", "")
    body = {
        "Status": status,
        "Reason": reason or f"See the function's log stream {log_stream}",
        # Kept across updates: a new id would make CloudFormation delete the "old" resource afterwards.
        "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": dict(data),
    }
    payload = json.dumps(body, default=str).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        event["ResponseURL"],
        data=payload,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(payload))},
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S) as answer:  # noqa: S310 - as above
        logger.info("answered CloudFormation", extra={"status": status, "http_status": answer.status})


def custom_resource_handler(work: Callable[[], dict[str, Any]]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of a function CloudFormation calls as a custom resource (or anyone invokes plainly):
    ``handler = custom_resource_handler(lambda: load_catalog().summary())``; logging, tracing and metrics installed
    once, here."""
    from gears_shared.observability import metrics, tracer

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return answer_custom_resource(event, context, work)

    return handler
