"""``make bench``'s CRM and notification figures: the RFM recompute over N customers, and a campaign to N members
from launch to the last message. Each runs in this process on moto (as ``gears.bench``'s DynamoDB counts do): the
template's resources provisioned from ``template.yaml``, each function's handler the one its ``Handler`` names,
called with its own environment and the event its source would deliver.

1. **Segment recompute** (``CrmSegmentsFunction``): N customers with paid orders, their recency, frequency and
   money drawn (seeded) from the Online Retail sample's customers (``data/online-retail``, as ``make segments``
   reads them, dates moved to end today), each built by the CRM's domain (placed and paid orders) and written as
   the CRM's store writes a customer. Then the scheduled handler, timed: first with every customer new to a score
   (each one written), then again with nothing changed (reads, and the summary written), the median of those.
2. **Campaign fan-out**: the same N customers scored into one segment; N notification contacts (recorded by the
   notification service's own use case), marketing consent given by a share of them (the rest never gave it), a
   few of those with a suppressed address. The campaign is created through ``POST /admin/campaigns``
   (``CrmAdminFunction``); the CRM table's stream, mapped by the CRM publisher's ``events_for_record``, gives
   ``CampaignCreated``, which the launcher (``CrmCampaignLauncherFunction``) takes, timed; the stream then gives
   the ``CampaignBatchReady`` events, delivered to ``NotificationCampaignConsumerFunction`` as SQS events of the
   template's ``BatchSize``, timed. Every member's outcome is read back the way the CRM counts it: the notification
   table's stream through the notification publisher's ``events_for_record``.

AWS calls are counted per service and operation with botocore's ``before-call`` event on every client made
meanwhile, so a Scan anywhere shows. moto runs with the local cloud's patches, as the local shop does
(:mod:`gears.local.moto_dynamodb`: a Query reads its partition instead of the whole table, as DynamoDB does;
:mod:`gears.local.moto_fast`: answers without moto's shape walk), so that moto's overhead does not drown the code's.

One process, one core, on moto: the figures are this code's cost plus moto's per call (every SES ``SendEmail`` is
moto's), to compare runs and changes, not SES's rate. On AWS the account's SES sending quota (14 messages/s in the
sandbox) caps the fan-out, and the campaign consumer's ``MaximumConcurrency`` is the knob that keeps within it.

    .venv/bin/python -m gears.bench_campaign --members 10000
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import logging
import os
import random
import statistics
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DATASET = Path("data/online-retail/online-retail-sample.csv")
DEFAULT_MEMBERS = 10_000
CONSENT_SHARE = 0.8  # members who gave marketing consent; the rest never did (suppressed: no-consent)
SUPPRESSED_SHARE = 0.01  # of those, one in a hundred bounced before: the address is suppressed (address-suppressed)
SEED = 11
SEGMENT = "champions"
COUNTED_SERVICES = frozenset({"dynamodb", "sesv2", "sns"})
WRITE_CHUNK = 25  # BatchWriteItem's limit
ADMIN_CLAIMS = {"sub": "bench-admin", "cognito:groups": ["admin"], "token_use": "access"}
SCHEDULED_EVENT = {
    "version": "0",
    "id": "bench-recompute",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"],
    "detail": {},
}


# -- the world: the template on moto, in this process, AWS calls counted --------------------------------------------
class Calls:
    """AWS calls by service and operation, from botocore's ``before-call`` event of every client made meanwhile."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def reset(self) -> None:
        self.counts.clear()

    def hook(self, event_name: str, **kwargs: Any) -> None:
        _, service_id, operation = event_name.split(".", 2)
        if service_id in COUNTED_SERVICES:
            self.counts[(service_id, operation)] += 1

    def of(self, service: str) -> dict[str, int]:
        return {op: n for (s, op), n in sorted(self.counts.items()) if s == service}


@contextmanager
def _world(template: Path, *, moto_patches: bool) -> Iterator[tuple[Any, Calls]]:
    """The template provisioned on moto in this process, its functions callable (``gears.bench._InProcess``), every
    AWS client made meanwhile counted. Everything is as it was afterwards but for moto's patches (process-wide)."""
    import botocore.session

    from gears.bench import in_process_shop
    from gears.local import moto_dynamodb, moto_fast

    fast = moto_patches and not moto_fast._ORIGINALS  # applied here, so removed here
    if moto_patches:
        moto_dynamodb.apply()
        moto_fast.apply()
    calls = Calls()
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name in COUNTED_SERVICES:
            client.meta.events.register("before-call", calls.hook)
        return client

    with _quiet_stdout(), warnings.catch_warnings(), in_process_shop(template) as shop:
        warnings.simplefilter("ignore")  # Powertools: "No application metrics to publish", per invocation
        botocore.session.Session.create_client = counting
        try:
            yield shop, calls
        finally:
            botocore.session.Session.create_client = original
            if fast:
                moto_fast.remove()


class _Sink(io.TextIOBase):
    """Takes what is written and keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)


def _stream_handlers() -> Iterator[logging.StreamHandler[Any]]:
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler):
                yield handler


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """The functions log to stdout (CloudWatch on Lambda): formatted as there, but written nowhere meanwhile. Log
    handlers made meanwhile (Powertools binds ``sys.stdout`` once per logger) write to stdout afterwards."""
    real, sink = sys.stdout, _Sink()
    for handler in _stream_handlers():
        if handler.stream is real:
            handler.setStream(sink)
    try:
        with redirect_stdout(sink):
            yield
    finally:
        for handler in _stream_handlers():
            if handler.stream is sink:
                handler.setStream(real)


def _environment(shop: Any, function: str) -> dict[str, str]:
    """The function's environment, set in this process (its modules read it as they are imported)."""
    env: dict[str, str] = shop.stack.function_environment(shop.functions[function])
    os.environ.update(env)
    return env


def _stream_records(stack: Any, table: str) -> list[dict[str, Any]]:
    """The table's stream so far (logical id), each record as a DynamoDB event source mapping delivers it."""
    import boto3

    arn = stack.lookup(table, "StreamArn")
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += [{**r, "eventSourceARN": arn} for r in page["Records"]]
            iterator = page.get("NextShardIterator")
    return records


def sqs_event(bodies: list[str], queue_arn: str) -> dict[str, Any]:
    """An SQS event source mapping's event carrying ``bodies`` (raw SNS deliveries: the CloudEvents themselves)."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"bench-{uuid.uuid4().hex}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def _sqs_source(shop: Any, function: str) -> tuple[str, int]:
    """The ARN of the queue the function's SQS event reads, and its ``BatchSize`` (SAM's default: 10)."""
    for ev in shop.functions[function].events:
        if ev.type == "SQS":
            return str(shop.stack.resolve(ev.properties["Queue"])), int(ev.properties.get("BatchSize", 10))
    raise RuntimeError(f"{function} has no SQS event")


def _failures(answer: Any, what: str) -> None:
    failed = (answer or {}).get("batchItemFailures") or []
    if failed:
        raise RuntimeError(f"{what}: {len(failed)} record(s) failed")


def _scan(calls: dict[str, int]) -> bool:
    return any(op.startswith("Scan") for op in calls)


# -- customers ------------------------------------------------------------------------------------------------------
def _activities(dataset: Path, members: int, now: datetime, seed: int) -> list[tuple[datetime, int, int]]:
    """``members`` (last order, orders, pence) drawn with replacement from the dataset's customers, dates moved so
    the dataset's scoring day is ``now``; without the dataset, a seeded spread of the same shape."""
    rnd = random.Random(seed)
    if dataset.exists():
        from crm.dataset import read_activities

        with dataset.open(newline="", encoding="utf-8") as f:
            activities, scored_at = read_activities(csv.DictReader(f))
        shift = now - scored_at
        pool = [(a.last_order_at + shift, a.orders, max(a.monetary, 100)) for a in activities]
        return rnd.choices(pool, k=members)
    return [
        (
            now - timedelta(days=rnd.expovariate(1 / 90)),
            int(rnd.paretovariate(1.5)),
            int(rnd.lognormvariate(8, 1)),
        )
        for _ in range(members)
    ]


def _customers(members: int, now: datetime, dataset: Path, seed: int) -> list[Any]:
    """The CRM's customers, each registered and then placing and paying its orders (the domain's own steps)."""
    from crm.domain import Customer, utc_iso

    rnd = random.Random(seed + 1)
    out = []
    for i, (last, orders, pence) in enumerate(_activities(dataset, members, now, seed)):
        user_id = f"bench-{i:06d}"
        span = timedelta(days=rnd.uniform(0, 365)) if orders > 1 else timedelta(0)
        first = last - span
        registered = utc_iso(first - timedelta(days=rnd.uniform(0, 30)))
        customer = Customer(user_id=user_id, first_seen_at=registered).with_contact(
            email=f"{user_id}@bench.example",
            name=f"Bench Customer {i}",
            at=registered,
            registered_at=registered,
            full=False,
        )
        each, rest = divmod(pence, orders)
        for n in range(orders):
            placed = first + (span * n / (orders - 1) if orders > 1 else timedelta(0))
            customer = customer.placed().paid(each + (rest if n == orders - 1 else 0), utc_iso(placed))
        out.append(customer)
    return out


def _write_customers(table: str, customers: list[Any]) -> None:
    """The customers as the CRM's store writes them (``crm.store.customer_item``), 25 to a BatchWriteItem."""
    import boto3

    from crm.store import customer_item

    ddb = boto3.client("dynamodb")
    for start in range(0, len(customers), WRITE_CHUNK):
        pending: dict[str, Any] = {
            table: [{"PutRequest": {"Item": customer_item(c)}} for c in customers[start : start + WRITE_CHUNK]]
        }
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


# -- 1. the segment recompute ---------------------------------------------------------------------------------------
def segment_recompute(
    template: Path,
    customers: int = DEFAULT_MEMBERS,
    *,
    runs: int = 3,
    dataset: Path = DATASET,
    seed: int = SEED,
    moto_patches: bool = True,
) -> dict[str, Any]:
    """``CrmSegmentsFunction`` over ``customers`` customers with paid orders: the first run (every score new, so every
    customer written) and then ``runs`` more with nothing changed (the median of those)."""
    function = "CrmSegmentsFunction"
    with _world(template, moto_patches=moto_patches) as (shop, calls):
        env = _environment(shop, function)
        shop.fresh(function)
        started = time.perf_counter()
        seeded = _customers(customers, datetime.now(UTC), dataset, seed)
        _write_customers(env["TABLE_NAME"], seeded)
        seed_s = time.perf_counter() - started

        def once() -> tuple[float, dict[str, Any], dict[str, int]]:
            calls.reset()
            t = time.perf_counter()
            summary = shop.call(function, dict(SCHEDULED_EVENT))
            return time.perf_counter() - t, summary, calls.of("dynamodb")

        first_s, first, first_calls = once()
        steady = [once() for _ in range(runs)]
        timeout_s = float(shop.functions[function].timeout)
    steady_s = statistics.median(s for s, _, _ in steady) if steady else float("nan")
    last = steady[-1][1] if steady else first
    if first["customers"] != customers or first["scored"] != customers:
        raise RuntimeError(f"recompute saw {first['customers']} customers, scored {first['scored']} of {customers}")
    return {
        "customers": customers,
        "seed_s": seed_s,
        "timeout_s": timeout_s,
        "first": {
            "seconds": first_s,
            "customers_per_s": customers / first_s,
            "rescored": first["rescored"],
            "dynamodb_calls": first_calls,
            "scan": _scan(first_calls),
        },
        "steady": {
            "runs": len(steady),
            "seconds": steady_s,
            "customers_per_s": customers / steady_s if steady else float("nan"),
            "rescored": last["rescored"],
            "dynamodb_calls": steady[-1][2] if steady else {},
            "scan": any(_scan(c) for _, _, c in steady),
        },
        "segments": {s["segment"]: s["customers"] for s in last["segments"]},
        "boundaries": last["boundaries"],
    }


# -- 2. the campaign fan-out ----------------------------------------------------------------------------------------
def _seed_campaign(shop: Any, members: int, seed: int, dataset: Path) -> dict[str, Any]:
    """N customers in :data:`SEGMENT` (CRM) and their contacts, consent and suppressions (notification)."""
    crm_env = _environment(shop, "CrmAdminFunction")
    shop.fresh("CrmAdminFunction")
    from crm.domain import utc_iso
    from crm.rfm import Score, segment_of

    now = datetime.now(UTC)
    score = Score(5, 5, 5, segment_of(5, 5))
    assert score.segment == SEGMENT
    customers = [replace(c, score=score, scored_at=utc_iso(now)) for c in _customers(members, now, dataset, seed)]
    _write_customers(crm_env["TABLE_NAME"], customers)

    _environment(shop, "NotificationCampaignConsumerFunction")
    shop.fresh("NotificationCampaignConsumerFunction")
    from notification import bootstrap, service
    from notification.domain import Contact, Preferences

    store = bootstrap.store()
    rnd = random.Random(seed + 2)
    stamp = utc_iso(now)
    consenting = [c for c in customers if rnd.random() < CONSENT_SHARE]
    suppressed = consenting[:: round(1 / SUPPRESSED_SHARE)]  # spread over the members, at least one
    for c in customers:
        contact = Contact(c.user_id, email=c.email, name=c.name, as_of=c.contact_at or stamp)
        service.record_contact(service.RecordContact(contact), store)
    for c in consenting:
        store.save_preferences(Preferences(c.user_id).with_consent(True, "signup-checkbox", stamp))
    for c in suppressed:
        store.suppress_address(c.email, "bounced", stamp, None)
    return {
        "members": [c.user_id for c in customers],
        "consenting": {c.user_id for c in consenting},
        "suppressed": {c.user_id for c in suppressed},
    }


def _events(shop: Any, publisher: str, table: str, types: set[str]) -> list[Any]:
    """The events of ``types`` the table's stream stands for so far, as ``publisher`` (a module) maps each record."""
    events_for_record: Callable[[dict[str, Any]], list[Any]] = importlib.import_module(publisher).events_for_record
    seen: dict[str, Any] = {}
    for record in _stream_records(shop.stack, table):
        for event in events_for_record(record):
            if event.type in types:
                seen.setdefault(event.id, event)
    return list(seen.values())


CAMPAIGN = {
    "name": "Bench spring offer",
    "segment": SEGMENT,
    "subject": "{{ first_name or 'Hello' }}, spring is here",
    "body": "Dear {{ name }},\n\nTake 10% off with {{ discount_code }} until Sunday.\n\nGears",
    "channels": ["email"],
    "discountCode": "BENCH10",
}
OUTCOME_EVENTS = {"NotificationSent.v1", "NotificationSuppressed.v1", "NotificationFailed.v1"}


def campaign_fanout(
    template: Path,
    members: int = DEFAULT_MEMBERS,
    *,
    dataset: Path = DATASET,
    seed: int = SEED,
    moto_patches: bool = True,
    profile: Path | None = None,
) -> dict[str, Any]:
    """A campaign to ``members`` members, from ``POST /admin/campaigns`` to every member's outcome (see the module's
    docstring); the launcher and the fan-out timed, their AWS calls counted. With ``profile``, the fan-out runs
    under cProfile and its stats are written there."""
    from gears.local.http_events import http_api_event

    launcher, consumer = "CrmCampaignLauncherFunction", "NotificationCampaignConsumerFunction"
    m: dict[str, Any] = {}  # what was measured
    with _world(template, moto_patches=moto_patches) as (shop, calls):
        started = time.perf_counter()
        seeded = _seed_campaign(shop, members, seed, dataset)
        m["seed_s"] = time.perf_counter() - started

        _environment(shop, "CrmAdminFunction")
        event = http_api_event("POST", "/admin/campaigns", body=CAMPAIGN, claims=ADMIN_CLAIMS)
        answer = shop.call("CrmAdminFunction", event)
        if answer["statusCode"] != 202:
            raise RuntimeError(f"POST /admin/campaigns: {answer['statusCode']} {answer.get('body', '')[:300]}")
        campaign_id = json.loads(answer["body"])["campaignId"]

        # The launcher on the CampaignCreated the campaign's stream record stands for.
        created = _events(shop, "crm.publisher", "CrmTable", {"CampaignCreated.v1"})
        launch_queue, _ = _sqs_source(shop, launcher)
        _environment(shop, launcher)
        shop.fresh(launcher)
        calls.reset()
        t = time.perf_counter()
        _failures(shop.call(launcher, sqs_event([e.to_json() for e in created], launch_queue)), launcher)
        m["launch_s"] = time.perf_counter() - t
        m["launch_calls"] = calls.of("dynamodb")

        # The consumer on the CampaignBatchReady events the batch items' stream records stand for, BatchSize at once.
        batches = [
            e
            for e in _events(shop, "crm.publisher", "CrmTable", {"CampaignBatchReady.v1"})
            if e.data["campaignId"] == campaign_id
        ]
        batches.sort(key=lambda e: e.data["batchId"])
        queue, m["batch_size"] = _sqs_source(shop, consumer)
        m["timeout_s"] = float(shop.functions[consumer].timeout)
        _environment(shop, consumer)
        shop.fresh(consumer)
        deliveries = [
            sqs_event([e.to_json() for e in batches[i : i + m["batch_size"]]], queue)
            for i in range(0, len(batches), m["batch_size"])
        ]
        m["fanout_s"], m["per_invocation_ms"] = _timed_deliveries(shop, consumer, deliveries, calls, profile)
        m["fanout_calls"] = {service: calls.of(service) for service in sorted(COUNTED_SERVICES)}

        outcomes = _events(shop, "notification.publisher", "NotificationTable", OUTCOME_EVENTS)
    return _fanout_result(seeded, campaign_id, batches, outcomes, m)


def _timed_deliveries(
    shop: Any, function: str, deliveries: list[dict[str, Any]], calls: Calls, profile: Path | None
) -> tuple[float, list[float]]:
    """Invoke ``function`` with each delivery in turn: the seconds over all, and each invocation's ms. The calls are
    counted from here; with ``profile``, under cProfile (its stats written there)."""
    import cProfile

    profiler = cProfile.Profile() if profile is not None else None
    calls.reset()
    each: list[float] = []
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for delivery in deliveries:
        t = time.perf_counter()
        _failures(shop.call(function, delivery), function)
        each.append((time.perf_counter() - t) * 1000)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    return time.perf_counter() - started, each


def _fanout_result(
    seeded: dict[str, Any], campaign_id: str, batches: list[Any], outcomes: list[Any], m: dict[str, Any]
) -> dict[str, Any]:
    from gears.bench import percentile

    recipients = [r for e in batches for r in e.data["recipients"]]
    by_member: dict[str, list[str]] = {}
    reasons: Counter[str] = Counter()
    for e in outcomes:
        if e.data.get("campaignId") != campaign_id:
            continue
        state = e.type.removeprefix("Notification").split(".")[0].lower()
        by_member.setdefault(e.data["userId"], []).append(state)
        reasons[f"{state}: {e.data.get('reason') or '-'}"] += 1
    states = Counter(s for member in by_member.values() for s in member)
    messages = sum(states.values())
    calls = m["fanout_calls"]
    sends = sum(calls.get("sesv2", {}).values()) + calls.get("sns", {}).get("Publish", 0)
    to_send = seeded["consenting"] - seeded["suppressed"]
    checks = {
        "every member targeted once": sorted(recipients) == sorted(seeded["members"]),
        "every member one outcome": set(by_member) == set(seeded["members"])
        and all(len(v) == 1 for v in by_member.values()),
        "consenting members sent": states["sent"] == len(to_send)
        and all(by_member.get(u) == ["sent"] for u in to_send),
        "one provider call per message sent": sends == states["sent"],
    }
    launch_s, fanout_s, each = m["launch_s"], m["fanout_s"], m["per_invocation_ms"]
    return {
        "members": len(seeded["members"]),
        "consenting": len(seeded["consenting"]),
        "suppressed_addresses": len(seeded["suppressed"]),
        "seed_s": m["seed_s"],
        "launch": {
            "seconds": launch_s,
            "batches": len(batches),
            "batches_per_s": len(batches) / launch_s,
            "recipients": len(recipients),
            "dynamodb_calls": m["launch_calls"],
            "scan": _scan(m["launch_calls"]),
        },
        "fanout": {
            "seconds": fanout_s,
            "batch_size": m["batch_size"],
            "timeout_s": m["timeout_s"],
            "invocations": len(each),
            "invocation_p50_ms": percentile(each, 50),
            "invocation_p99_ms": percentile(each, 99),
            "invocation_max_ms": max(each, default=float("nan")),
            "messages": messages,
            "messages_per_s": messages / fanout_s,
            "sent": states["sent"],
            "sent_per_s": states["sent"] / fanout_s,
            "suppressed": states["suppressed"],
            "failed": states["failed"],
            "reasons": dict(sorted(reasons.items())),
            "calls": calls,
            "scan": _scan(calls.get("dynamodb", {})),
        },
        "checks": checks,
        "ok": all(checks.values()),
    }


def run(
    template: Path, members: int = DEFAULT_MEMBERS, *, runs: int = 3, profile: Path | None = None
) -> dict[str, Any]:
    """Both benchmarks at ``members``: ``{"segments": ..., "fanout": ...}`` (``make bench``'s ``campaign``)."""
    print(f"[bench] segment recompute over {members:,} customers (in-process, moto)...", flush=True)
    segments = segment_recompute(template, members, runs=runs)
    print(f"[bench] a campaign to {members:,} members (in-process, moto)...", flush=True)
    fanout = campaign_fanout(template, members, profile=profile)
    return {"members": members, "segments": segments, "fanout": fanout}


# -- the report -----------------------------------------------------------------------------------------------------
def _ops(counted: dict[str, int]) -> str:
    return ", ".join(f"{op} x{n}" for op, n in sorted(counted.items())) or "none"


def markdown(c: dict[str, Any]) -> list[str]:
    """The ``campaign`` section of ``latest.md``."""
    s, f = c["segments"], c["fanout"]
    first, steady = s["first"], s["steady"]
    launch, out = f["launch"], f["fanout"]
    calls = out["calls"]
    lines = [
        "## CRM segments and campaign fan-out",
        "",
        "In-process on moto, after the shop is stopped (one process, one core; each function's handler as the "
        "template names it, on moto with the local cloud's patches), so these are our code's cost plus moto's per "
        "call, not AWS's. AWS calls counted with botocore's `before-call` event.",
        "",
        f"### RFM recompute, {s['customers']:,} customers",
        "",
        f"`CrmSegmentsFunction` over {s['customers']:,} customers with paid orders (recency, frequency and money "
        "drawn from the Online Retail sample's customers; seeding took "
        f"{s['seed_s']:.1f} s, untimed).",
        "",
        "| run | seconds | customers/s | scores written | DynamoDB calls | Scan |",
        "|---|---:|---:|---:|---|---|",
        f"| first (every score new) | {first['seconds']:.2f} | {first['customers_per_s']:,.0f} | "
        f"{first['rescored']:,} | {_ops(first['dynamodb_calls'])} | {'**yes**' if first['scan'] else 'no'} |",
        f"| unchanged (median of {steady['runs']}) | {steady['seconds']:.2f} | {steady['customers_per_s']:,.0f} | "
        f"{steady['rescored']:,} | {_ops(steady['dynamodb_calls'])} | {'**yes**' if steady['scan'] else 'no'} |",
        "",
        "Segment sizes: " + ", ".join(f"{name} {n:,}" for name, n in s["segments"].items()) + ".",
        "",
        f"### A campaign to {f['members']:,} members",
        "",
        f"{f['consenting']:,} members gave marketing consent ({f['suppressed_addresses']} of them with a suppressed "
        f"address), the others never did; email only. Seeding (CRM customers, notification contacts and "
        f"preferences) took {f['seed_s']:.1f} s, untimed.",
        "",
        "| stage | seconds | rate | AWS calls | Scan |",
        "|---|---:|---|---|---|",
        f"| launcher: `CampaignCreated` to {launch['batches']} batch items ({launch['recipients']:,} recipients) | "
        f"{launch['seconds']:.2f} | {launch['batches_per_s']:,.1f} batches/s | DynamoDB: "
        f"{_ops(launch['dynamodb_calls'])} | {'**yes**' if launch['scan'] else 'no'} |",
        f"| fan-out: {out['invocations']} invocations of `NotificationCampaignConsumerFunction` "
        f"({out['batch_size']} batch event each) | {out['seconds']:.2f} | **{out['messages_per_s']:,.0f} "
        f"messages/s** ({out['sent_per_s']:,.0f} sent/s) | DynamoDB: {_ops(calls.get('dynamodb', {}))}; SES: "
        f"{_ops(calls.get('sesv2', {}))}; SNS: {_ops(calls.get('sns', {}))} | {'**yes**' if out['scan'] else 'no'} |",
        "",
        f"Outcomes: {out['sent']:,} sent, {out['suppressed']:,} suppressed, {out['failed']:,} failed "
        f"({', '.join(f'{k} x{n:,}' for k, n in out['reasons'].items())}); each invocation p50 "
        f"{out['invocation_p50_ms']:.0f} ms, p99 {out['invocation_p99_ms']:.0f} ms. Checks: "
        + ", ".join(f"{name} {'yes' if ok else '**no**'}" for name, ok in f["checks"].items())
        + ".",
        "",
        "Messages per second counts every outcome (sent, suppressed, failed) over the fan-out's time. Every "
        "`SendEmail` here is moto's, so this measures our code and moto, not SES: on AWS the account's SES sending "
        "quota (14 messages/s in the sandbox) is the cap, and the campaign consumer's `MaximumConcurrency` (with "
        "the quota raised) is the knob.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="CRM segment recompute and campaign fan-out benchmarks (moto)")
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS, help="customers and campaign members")
    parser.add_argument("--runs", type=int, default=3, help="unchanged recompute runs (the median is reported)")
    parser.add_argument("--profile", type=Path, help="write the fan-out's cProfile stats here")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    result = run(Path(args.template), args.members, runs=args.runs, profile=args.profile)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=sorted))
    print("\n".join(markdown(result)))
    if not result["fanout"]["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
