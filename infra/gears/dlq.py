"""Dead-letter queues: find them in the template, see what failed, and send it back (``gears dlq``).

Two kinds of dead-letter queue live in ``template.yaml``:

- **redrive** DLQs: named by another queue's ``RedrivePolicy.deadLetterTargetArn``. Their messages are the
  original messages (CloudEvents) that a consumer failed ``maxReceiveCount`` times; *redrive* moves them back to
  that source queue, where the consumer tries again.
- **stream failure** queues: a stream event source's ``DestinationConfig.OnFailure``. Their messages describe a
  batch of table-stream records the publisher gave up on (shard, sequence numbers), not the records themselves;
  they are shown, but cannot be redriven to a queue (replay the records from the table instead).

Redrive moves each message itself: receive, send to the source with its attributes, delete from the DLQ. A
message is deleted only once it is safely on the source queue, so a crash can duplicate one (consumers dedupe) but
never lose one. (SQS's own ``StartMessageMoveTask`` would do the same on AWS, but moto, and so the local shop,
does not implement it; one code path for both keeps the tool testable.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from gears.local.template import Template, references

REDRIVE = "redrive"
STREAM = "stream-failure"
PEEK_VISIBILITY_S = 5


@dataclass(frozen=True)
class DeadLetterQueue:
    logical_id: str
    kind: str  # REDRIVE or STREAM
    sources: tuple[str, ...]  # the queues (REDRIVE) or functions (STREAM) whose failures land here


def dead_letter_queues(template: Template) -> list[DeadLetterQueue]:
    """Every dead-letter queue of the template, with what feeds it."""
    queues = template.of_type("AWS::SQS::Queue")
    feeds: dict[str, tuple[str, list[str]]] = {}
    for lid in queues:
        policy = template.properties(lid).get("RedrivePolicy") or {}
        if isinstance(policy, dict):
            for target in references(policy.get("deadLetterTargetArn")):
                feeds.setdefault(target, (REDRIVE, []))[1].append(lid)
    for fn in template.functions().values():
        for event in fn.events:
            destination = ((event.properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            for target in references(destination):
                if target in queues:
                    feeds.setdefault(target, (STREAM, []))[1].append(fn.logical_id)
    return [DeadLetterQueue(lid, kind, tuple(sorted(srcs))) for lid, (kind, srcs) in sorted(feeds.items())]


@dataclass(frozen=True)
class DlqMessage:
    message_id: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, Any]
    receive_count: int

    def to_dict(self) -> dict[str, Any]:
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body
        return {
            "messageId": self.message_id,
            "receiveCount": self.receive_count,
            "attributes": self.attributes,
            "messageAttributes": {k: v.get("StringValue", v) for k, v in self.message_attributes.items()},
            "body": body,
        }


class DlqTool:
    """The dead-letter queues of a running shop (or any stack whose resources are known)."""

    def __init__(self, template: Template, resources: dict[str, dict[str, Any]], sqs: Any) -> None:
        self.template = template
        self.resources = resources
        self.sqs = sqs
        self.queues = {q.logical_id: q for q in dead_letter_queues(template)}

    def url(self, logical_id: str) -> str:
        try:
            return str(self.resources[logical_id]["QueueUrl"])
        except KeyError as exc:
            raise KeyError(f"{logical_id} is not a queue of the running shop") from exc

    def find(self, name: str) -> DeadLetterQueue:
        if name in self.queues:
            return self.queues[name]
        for dlq in self.queues.values():  # a physical queue name works too
            if self.resources.get(dlq.logical_id, {}).get("QueueName") == name:
                return dlq
        raise KeyError(f"no dead-letter queue {name!r}; the template has: {', '.join(self.queues)}")

    def counts(self) -> list[dict[str, Any]]:
        """Every DLQ with its message counts (visible, in flight)."""
        out = []
        for dlq in self.queues.values():
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=self.url(dlq.logical_id),
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            out.append(
                {
                    "queue": dlq.logical_id,
                    "kind": dlq.kind,
                    "sources": list(dlq.sources),
                    "messages": int(attrs.get("ApproximateNumberOfMessages", 0)),
                    "inFlight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                }
            )
        return out

    def _receive(self, url: str, visibility: int) -> list[dict[str, Any]]:
        return list(
            self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=visibility,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def show(self, name: str, limit: int = 10) -> list[DlqMessage]:
        """Up to ``limit`` messages, left in the queue (made visible again at once)."""
        url = self.url(self.find(name).logical_id)
        seen: dict[str, DlqMessage] = {}
        handles: list[str] = []
        while len(seen) < limit:
            batch = [m for m in self._receive(url, PEEK_VISIBILITY_S) if m["MessageId"] not in seen]
            if not batch:
                break
            for m in batch:
                handles.append(m["ReceiptHandle"])
                attrs = dict(m.get("Attributes") or {})
                seen[m["MessageId"]] = DlqMessage(
                    m["MessageId"],
                    m["Body"],
                    attrs,
                    dict(m.get("MessageAttributes") or {}),
                    int(attrs.get("ApproximateReceiveCount", 0)),
                )
        for handle in handles:
            # Best effort: it becomes visible when the short peek expires anyway.
            with contextlib.suppress(ClientError):
                self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return list(seen.values())[:limit]

    def redrive(self, name: str, limit: int | None = None) -> int:
        """Move the DLQ's messages back to the queue that failed them; how many were moved."""
        dlq = self.find(name)
        if dlq.kind != REDRIVE:
            raise ValueError(
                f"{dlq.logical_id} holds failed stream batches of {', '.join(dlq.sources)}, not messages: "
                "there is no queue to send them back to"
            )
        if len(dlq.sources) != 1:
            several = ", ".join(dlq.sources)
            raise ValueError(f"{dlq.logical_id} is the DLQ of several queues ({several}); redrive by hand")
        source_url = self.url(dlq.sources[0])
        return sum(1 for _ in self._move(self.url(dlq.logical_id), source_url, limit))

    def _move(self, dlq_url: str, source_url: str, limit: int | None) -> Iterator[str]:
        moved = 0
        while limit is None or moved < limit:
            batch = self._receive(dlq_url, 30)
            if not batch:
                return
            for m in batch[: None if limit is None else limit - moved]:
                attributes = {
                    k: {key: v[key] for key in ("DataType", "StringValue", "BinaryValue") if key in v}
                    for k, v in (m.get("MessageAttributes") or {}).items()
                }
                self.sqs.send_message(QueueUrl=source_url, MessageBody=m["Body"], MessageAttributes=attributes)
                self.sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                moved += 1
                yield m["MessageId"]


def format_counts(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(the template has no dead-letter queues)"
    width = max(len(r["queue"]) for r in rows)
    lines = [f"{'queue'.ljust(width)}  {'kind':<14}  {'messages':>8}  {'in flight':>9}  fed by"]
    for r in rows:
        fed_by = ", ".join(r["sources"])
        lines.append(f"{r['queue'].ljust(width)}  {r['kind']:<14}  {r['messages']:>8}  {r['inFlight']:>9}  {fed_by}")
    return "\n".join(lines)


# -- the `gears dlq` command -------------------------------------------------------------------------------------
def add_parser(sub: Any, func: Any) -> None:
    """``gears dlq list|show|redrive`` on the CLI's subparsers."""
    dlq = sub.add_parser("dlq", help="the dead-letter queues of the running local shop: list, show, redrive")
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every dead-letter queue with its message count")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="a dead-letter queue's messages (left in the queue)")
    show.add_argument("queue", help="the queue's logical id (see `gears dlq list`)")
    show.add_argument("--max", type=int, default=10)
    redrive = actions.add_parser("redrive", help="move a dead-letter queue's messages back to their source queue")
    redrive.add_argument("queue", help="the queue's logical id (see `gears dlq list`)")
    redrive.add_argument("--max", type=int, default=None, help="at most this many messages")
    dlq.set_defaults(func=func)


def tool_for(state: dict[str, Any], template_path: str) -> DlqTool:
    import boto3

    template = Template(state.get("template") or template_path, region=state.get("region") or "us-east-1")
    sqs = boto3.client(
        "sqs",
        endpoint_url=state["endpoint"],
        region_name=state.get("region") or "us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local cloud's dummy credentials
        aws_session_token="local",  # noqa: S106
    )
    return DlqTool(template, dict(state["resources"]), sqs)


def cmd_dlq(args: Any, state: dict[str, Any] | None) -> int:
    import sys

    if not state:
        print("no local shop is running here (start one with `make run`)", file=sys.stderr)
        return 1
    tool = tool_for(state, args.template)
    try:
        if args.action == "list":
            rows = tool.counts()
            print(json.dumps(rows, indent=2) if args.json else format_counts(rows))
        elif args.action == "show":
            messages = tool.show(args.queue, args.max)
            print(json.dumps([m.to_dict() for m in messages], indent=2))
            if not messages:
                print(f"({args.queue} is empty)", file=sys.stderr)
        else:
            moved = tool.redrive(args.queue, args.max)
            source = ", ".join(tool.find(args.queue).sources)
            print(f"moved {moved} message(s) from {args.queue} back to {source}")
    except (KeyError, ValueError) as exc:
        print(f"gears dlq: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    return 0
