"""Chaos in the local cloud: a share of DynamoDB calls throttled or failed, messages delivered twice or late.

Armed while the cloud runs, through its control route (``gears chaos`` does it)::

    POST   /_gears/chaos   {"seed": 7, "dynamodb": {"throttle": 0.05, "error": 0.02},
                            "sqs": {"duplicate": 0.1, "delay": 0.1, "max_delay_s": 3}}
    GET    /_gears/chaos   what is armed, and how often each fault fired
    DELETE /_gears/chaos   disarm (the counters stay until the next arming)
    GET|DELETE /_gears/partitions   DynamoDB items written per partition key, the busiest first (DELETE restarts)

- **DynamoDB** (its API, not its streams): a throttled call answers 400 ``ProvisionedThroughputExceededException``,
  a failed one 500 ``InternalServerError``, as DynamoDB does; nothing is applied. The AWS SDKs retry both, so most
  reach the function as latency, and the rest as an error its event source retries.
- **SQS** (every message sent, including SNS's deliveries to its subscribed queues): a duplicated message is
  enqueued twice (SQS's at-least-once delivery), a delayed one only after 1 to ``max_delay_s`` seconds, so that it
  arrives after messages sent later than it (out of order).
"""

from __future__ import annotations

import json
import random
import threading
from typing import Any

CONTROL_PATH = "/_gears/chaos"
PARTITIONS_PATH = "/_gears/partitions"  # GET: writes per partition key so far; DELETE: count from now
_DYNAMO_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class Chaos:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.config: dict[str, Any] = {}
        self.fired: dict[str, int] = {}
        self.random = random.Random()

    def arm(self, config: dict[str, Any]) -> None:
        with self.lock:
            self.config = config
            self.fired = {}
            self.random = random.Random(config.get("seed"))

    def disarm(self) -> None:
        with self.lock:
            self.config = {}

    def roll(self, service: str, fault: str) -> bool:
        with self.lock:
            share = float((self.config.get(service) or {}).get(fault, 0) or 0)
            if share <= 0 or self.random.random() >= share:
                return False
            key = f"{service}.{fault}"
            self.fired[key] = self.fired.get(key, 0) + 1
            return True

    def delay_s(self) -> int:
        with self.lock:
            return self.random.randint(1, max(1, int((self.config.get("sqs") or {}).get("max_delay_s", 3))))

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"armed": self.config, "fired": dict(self.fired)}


CHAOS = Chaos()


def _respond(start_response: Any, status: str, body: dict[str, Any], content_type: str) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def _control(chaos: Chaos, environ: dict[str, Any]) -> dict[str, Any]:
    method = environ.get("REQUEST_METHOD")
    if environ.get("PATH_INFO") == PARTITIONS_PATH:  # the writes per partition key (moto_dynamodb)
        from gears.local import moto_dynamodb

        if method == "DELETE":
            moto_dynamodb.PARTITION_WRITES.clear()
        return moto_dynamodb.partition_report()
    if method == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        chaos.arm(json.loads(environ["wsgi.input"].read(size) or b"{}"))
    elif method == "DELETE":
        chaos.disarm()
    return chaos.state()


def _dynamodb_fault(chaos: Chaos) -> tuple[str, dict[str, str]] | None:
    """A throttle or a 500 for this DynamoDB call, as DynamoDB answers them, or ``None`` to serve it."""
    if chaos.roll("dynamodb", "throttle"):
        message = "The level of configured provisioned throughput for the table was exceeded."
        return "400 Bad Request", {
            "__type": _DYNAMO_PREFIX + "ProvisionedThroughputExceededException",
            "message": message,
        }
    if chaos.roll("dynamodb", "error"):
        return "500 Internal Server Error", {
            "__type": _DYNAMO_PREFIX + "InternalServerError",
            "message": "Internal server error",
        }
    return None


def wsgi(app: Any, chaos: Chaos = CHAOS) -> Any:
    """The control routes, and DynamoDB's faults, in front of the cloud's app."""

    def handle(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") in (CONTROL_PATH, PARTITIONS_PATH):
            return _respond(start_response, "200 OK", _control(chaos, environ), "application/json")
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_20120810."):
            fault = _dynamodb_fault(chaos)
            if fault is not None:
                return _respond(start_response, fault[0], fault[1], "application/x-amz-json-1.0")
        return app(environ, start_response)

    return handle


def patch_sqs(chaos: Chaos = CHAOS) -> None:
    """Every message sent to a queue (by a client or by SNS) may be enqueued twice, or late."""
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend, "_gears_chaos", False):
        return
    original = SQSBackend.send_message

    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        if chaos.roll("sqs", "delay"):
            if len(args) >= 2:  # (message_attributes, delay_seconds, ...) given by position
                args = (args[0], chaos.delay_s(), *args[2:])
            else:
                kwargs["delay_seconds"] = chaos.delay_s()
        message = original(self, queue_name, message_body, *args, **kwargs)
        if chaos.roll("sqs", "duplicate"):
            original(self, queue_name, message_body, *args, **kwargs)
        return message

    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    SQSBackend._gears_chaos = True  # type: ignore[attr-defined]
