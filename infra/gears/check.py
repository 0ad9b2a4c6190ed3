"""``gears check``: what must hold of a running shop once it is quiet, checked from the outside.

- **Messages**: every queue a consumer reads is empty (each message handled); what is in a dead-letter queue is
  listed with what it was and how often it was tried (parked with its reason, not lost); a stream publisher's
  failure queue too.
- **Each service's own rules**: every ``<package>/invariants.py`` beside the template's functions (its ``checks``,
  see :mod:`gears_shared.invariants`) runs over its service's table (the ``TABLE_NAME`` its functions are given).
  A new service is checked once it has one: nothing here lists services, queues or tables.

The shop must be quiet first: ``wait_quiet`` waits until every consumer's queue has been empty for a few seconds.
Reading whole tables and queues is an operator's tool's right; no request path does it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import requests
from boto3.dynamodb.types import TypeDeserializer

from gears.dlq import dead_letter_queues
from gears.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class Report:
    checks: list[dict[str, Any]] = field(default_factory=list)
    parked: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks, "parked": self.parked}

    def text(self) -> str:
        lines = []
        for c in self.checks:
            mark = "ok  " if c["ok"] else "FAIL"
            lines.append(f"{mark} {c['check']} ({c['checked']} checked, {c['problems']} problems)")
            lines += [f"       {p}" for p in c["examples"]]
        for p in self.parked:
            lines.append(f"parked in {p['queue']}: {p['count']} message(s) {p['what']}")
        lines.append("all hold" if self.ok else "SOME DO NOT HOLD")
        return "\n".join(lines)


class Checker:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.template = Template(Path(state["template"]))
        self.resources: dict[str, dict[str, Any]] = state["resources"]
        session = boto3.Session(region_name=state.get("region", "us-east-1"), **LOCAL_CREDENTIALS)
        self.sqs = session.client("sqs", endpoint_url=state["endpoint"])
        self.dynamodb = session.client("dynamodb", endpoint_url=state["endpoint"])
        self.dlqs = {d.logical_id: d for d in dead_letter_queues(self.template)}
        self.queues = sorted(lid for lid in self.template.of_type("AWS::SQS::Queue") if lid not in self.dlqs)

    # -- messages ---------------------------------------------------------------------------------------------
    def _counts(self, lid: str) -> tuple[int, int]:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources[lid]["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0)), int(
            attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def wait_quiet(self, quiet_s: float = 5.0, timeout_s: float = 300.0, queues: list[str] | None = None) -> bool:
        """Until every consumer's queue (or those of ``queues``) has been empty (nothing waiting, nothing in
        flight) for ``quiet_s``."""
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = any(sum(self._counts(lid)) for lid in (queues or self.queues))
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_s:
                return True
            time.sleep(0.5)
        return False

    def messages(self, report: Report) -> None:
        examples = []
        for lid in self.queues:
            waiting, in_flight = self._counts(lid)
            if waiting or in_flight:
                examples.append(f"{lid}: {waiting} waiting, {in_flight} in flight")
        report.checks.append(
            {
                "check": "messages: every consumer's queue emptied",
                "ok": not examples,
                "checked": len(self.queues),
                "problems": len(examples),
                "examples": examples,
            }
        )
        for lid, dlq in sorted(self.dlqs.items()):
            kinds: dict[str, int] = {}
            for body, receives in self._peek(lid):
                what = f"{_what(body)} (received {receives} times)"
                kinds[what] = kinds.get(what, 0) + 1
            for what, count in sorted(kinds.items()):
                report.parked.append(
                    {"queue": lid, "kind": dlq.kind, "sources": list(dlq.sources), "what": what, "count": count}
                )

    def _peek(self, lid: str) -> Iterator[tuple[str, int]]:
        """Each message of a dead-letter queue once, without taking it: received with no visibility timeout, so
        it stays where it is for ``gears dlq`` (only its receive count grows, which a DLQ does not act on)."""
        url = self.resources[lid]["QueueUrl"]
        seen: set[str] = set()
        for _ in range(200):
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                return
            for m in fresh:
                seen.add(m["MessageId"])
                yield m["Body"], int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0))

    # -- the services' own rules ------------------------------------------------------------------------------
    def services(self, report: Report, shop: Any) -> None:
        for package_dir, table_lid, env in self._service_checks():
            items = list(self._items(self.resources[table_lid]["Arn"].rsplit("/", 1)[-1]))
            for check in _run_checks(package_dir, env, items, shop):
                report.checks.append(check.to_dict())

    def _service_checks(self) -> list[tuple[Path, str, dict[str, str]]]:
        """(the package holding ``invariants.py``, its service's table, the functions' environment) per service."""
        found: dict[Path, tuple[str, dict[str, str]]] = {}
        for fn in self.template.functions().values():
            table = _ref(fn.environment.get("TABLE_NAME"))
            if table is None:
                continue
            for package in sorted(Path(fn.code_uri).glob("*/invariants.py")):
                found.setdefault(
                    package.parent, (table, {k: str(v) for k, v in fn.environment.items() if isinstance(v, str)})
                )
        return [(path, table, env) for path, (table, env) in sorted(found.items())]

    def _items(self, table: str) -> Iterator[dict[str, Any]]:
        deserialize = TypeDeserializer().deserialize
        start: dict[str, Any] | None = None
        while True:
            page = self.dynamodb.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
            for raw in page["Items"]:
                yield {k: _plain(deserialize(v)) for k, v in raw.items()}
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def payment_intents(self) -> Callable[[], list[dict[str, Any]]] | None:
        stripe = self.state.get("stripe")
        if not stripe:
            return None

        def intents() -> list[dict[str, Any]]:
            r = requests.get(stripe.rstrip("/") + "/_emulator/payment_intents", timeout=30)
            r.raise_for_status()
            return list(r.json()["data"])

        return intents

    def paypal_orders(self) -> Callable[[], list[dict[str, Any]]] | None:
        paypal = self.state.get("paypal")
        if not paypal:
            return None

        def orders() -> list[dict[str, Any]]:
            r = requests.get(paypal.rstrip("/") + "/_emulator/orders", timeout=30)
            r.raise_for_status()
            return list(r.json()["data"])

        return orders

    def run(self, *, in_flight_s: float = 120.0) -> Report:
        sys.path.insert(0, str(ROOT / "shared"))
        from gears_shared.invariants import Shop

        report = Report()
        self.messages(report)
        shop = Shop(payment_intents=self.payment_intents(), paypal_orders=self.paypal_orders(), in_flight_s=in_flight_s)
        self.services(report, shop)
        return report


def _run_checks(package_dir: Path, env: dict[str, str], items: list[dict[str, Any]], shop: Any) -> list[Any]:
    """Import ``<package>.invariants`` from its function's code (with its environment, put back afterwards)."""
    saved_env, saved_path, saved_modules = dict(os.environ), list(sys.path), set(sys.modules)
    try:
        os.environ.update({k: v for k, v in env.items() if k not in os.environ})
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        sys.path[:0] = [str(ROOT / "shared"), str(package_dir.parent)]
        module = importlib.import_module(f"{package_dir.name}.invariants")
        return list(module.checks(items, shop))
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            if name.split(".", 1)[0] != "gears_shared":
                sys.modules.pop(name, None)


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def _what(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON"
    if isinstance(data, dict) and "type" in data:
        return f"{data['type']} {data.get('subject') or ''}".strip()
    if isinstance(data, dict) and "requestContext" in data:
        return f"a stream batch: {data['requestContext'].get('condition')}"
    return "not a CloudEvent"


def run(args: argparse.Namespace, state: dict[str, Any]) -> int:
    checker = Checker(state)
    if args.wait and not checker.wait_quiet(args.quiet, args.wait):
        print(f"gears check: the shop was still busy after {args.wait:.0f} s; checking anyway", file=sys.stderr)
    report = checker.run(in_flight_s=args.in_flight)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


def add_parser(sub: Any) -> None:
    check = sub.add_parser("check", help="check what must hold of the running shop once it is quiet")
    check.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the queues to be empty")
    check.add_argument("--quiet", type=float, default=5.0, help="seconds of empty queues that count as quiet")
    check.add_argument("--in-flight", type=float, default=120.0, help="seconds an order may take before it is stuck")
    check.add_argument("--json", action="store_true")
