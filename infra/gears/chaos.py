"""``gears chaos``: the Online Retail replay through a running shop while faults are injected, then ``gears check``.

While the replay runs:

- the local cloud throttles and fails a share of DynamoDB calls, and delivers a share of SQS messages twice or late
  (out of order) (:mod:`gears.local.chaos`);
- every function that an SQS queue or a table stream drives has its worker killed in the middle of an invocation,
  right after its first, second or third call (a write, a publish, a charge), a few times over, and once right
  after its first call to an outside provider (charged, then dead before recording it)
  (:mod:`gears.local.faults`); which functions comes from the template, so a new consumer is crashed too without
  anyone listing it;
- the local Stripe answers a burst of 500s, and later hangs past the client's timeout, now and then; its webhooks
  are held for the whole run (the endpoint down) and all delivered once the shop is quiet, so the payment
  consumer's own guards (the idempotency key it charges with) are what stand between a crash and a second charge.

Then every fault is disarmed, the shop is given time to become quiet, and the invariants are checked
(:mod:`gears.check`): every order settled or explained, the stock ledger balanced against its reservations, one
charge per order and refunds within it, every message handled or parked with its reason. The exit status is the
check's. ``--invoices`` bounds the run (the e2e tier runs a short one, ``make chaos`` a long one).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from gears.check import Checker, Report
from gears.local.chaos import CONTROL_PATH, PARTITIONS_PATH
from gears.local.faults import CrashFault, FaultBoard
from gears.local.stripe_emulator import EmulatorControl
from gears.local.template import Template
from gears.replay import DEFAULT_CSV, Shop, read_invoices, replay


@dataclass
class Plan:
    invoices: int = 200
    workers: int = 4
    seed: int = 7
    throttle: float = 0.05
    errors: float = 0.02
    duplicate: float = 0.10
    delay: float = 0.10
    max_delay_s: int = 3
    crashes: int = 2  # per event-driven function
    stripe_every_s: float = 15.0  # a burst of Stripe faults this often
    hold_webhooks: bool = True  # Stripe's webhooks held during the replay, delivered after it

    def cloud(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "dynamodb": {"throttle": self.throttle, "error": self.errors},
            "sqs": {"duplicate": self.duplicate, "delay": self.delay, "max_delay_s": self.max_delay_s},
        }


@dataclass
class Outcome:
    replay: str
    fired: dict[str, int]
    crashes: dict[str, int]
    stripe_bursts: int
    check: Report
    quiet: bool
    seconds: float = 0.0
    partitions: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.check.ok and self.quiet

    def text(self) -> str:
        lines = [
            f"chaos run: {self.seconds:.0f} s",
            self.replay,
            f"cloud faults fired: {self.fired}",
            f"workers killed mid-invocation: {self.crashes}",
            f"Stripe fault bursts: {self.stripe_bursts}",
            self.hottest_text(),
            "" if self.quiet else "the shop was not quiet when checked (see the messages check)",
            self.check.text(),
        ]
        return "\n".join(line for line in lines if line)

    def hottest_text(self) -> str:
        """The busiest partition keys of the run: a key's share of all writes is its share of DynamoDB's
        1,000 writes/s per partition at any scale."""
        p = self.partitions
        if not p.get("items_written"):
            return ""
        top = p["top"][:3]
        keys = ", ".join(f"{t['table'].rsplit('-', 1)[-1]} {t['key']} {t['share']:.1%}" for t in top)
        return f"DynamoDB items written: {p['items_written']} over {p['partitions']} partition keys; busiest: {keys}"


def event_driven_functions(template: Template) -> list[str]:
    """The functions an SQS queue or a table stream drives (those that can die with a batch half applied)."""
    return sorted(
        fn.logical_id for fn in template.functions().values() if any(ev.type in ("SQS", "DynamoDB") for ev in fn.events)
    )


def run_chaos(state: dict[str, Any], plan: Plan, state_dir: Path) -> Outcome:
    started = time.monotonic()
    template = Template(Path(state["template"]))
    board = FaultBoard(state_dir / "faults.json")
    rng = random.Random(plan.seed)
    cloud = state["endpoint"].rstrip("/") + CONTROL_PATH
    partitions = state["endpoint"].rstrip("/") + PARTITIONS_PATH
    requests.delete(partitions, timeout=10).raise_for_status()  # count this run's writes only
    requests.post(cloud, json=plan.cloud(), timeout=10).raise_for_status()
    armed: set[str] = set()
    for function in event_driven_functions(template):
        fault = CrashFault(function, after="*", calls=rng.randint(1, 3), min_records=1, times=plan.crashes)
        armed.add(board.arm(fault).id)
        # Right after a call to an outside provider (Stripe), before what it did is recorded; a function that calls
        # none never meets it.
        armed.add(board.arm(CrashFault(function, after="http:*", calls=1, min_records=1, times=1)).id)
    stripe = state.get("stripe")
    provider = EmulatorControl(stripe) if stripe else None
    hold = provider if provider is not None and plan.hold_webhooks else None
    if hold is not None:
        hold.hold_webhooks(True)
    try:
        report, fired, hottest, crashes, bursts, quiet = _faulted_replay(
            state, plan, board, armed, provider, cloud, partitions
        )
    finally:
        if hold is not None:
            hold.hold_webhooks(False)  # the endpoint is back: what was held goes out
    checker = Checker(state)
    quiet = checker.wait_quiet(quiet_s=5.0, timeout_s=120.0) and quiet
    return Outcome(
        replay=report.text(),
        fired=fired,
        crashes=crashes,
        stripe_bursts=bursts,
        check=checker.run(),
        quiet=quiet,
        seconds=time.monotonic() - started,
        partitions=hottest,
    )


def _faulted_replay(
    state: dict[str, Any],
    plan: Plan,
    board: FaultBoard,
    armed: set[str],
    provider: EmulatorControl | None,
    cloud: str,
    partitions: str,
) -> tuple[Any, dict[str, int], dict[str, Any], Counter[str], int, bool]:
    """The replay under the armed faults and Stripe's bursts; then every fault disarmed and the shop left to become
    quiet (crashed batches come back after their queue's visibility timeout and are retried with the webhooks still
    held, so what stops a second charge is the payment consumer's own idempotency, not a webhook)."""
    stop = threading.Event()
    bursts = [0]

    def stripe_faults() -> None:
        while provider is not None and not stop.wait(plan.stripe_every_s):
            if bursts[0] % 2 == 0:
                provider.set_fault("error", 3)
            else:
                provider.set_fault("timeout", 1, delay=12.0)  # past the payment service's Stripe timeout
            bursts[0] += 1

    threading.Thread(target=stripe_faults, daemon=True).start()
    shop = Shop(state["api"], Path(state["mailbox"]), (state["admin"]["email"], state["admin"]["password"]))
    try:
        # A customer waits 30 s for an order's outcome, then places the next: under these faults a charge can take
        # minutes (Stripe down, a crashed batch back after its visibility timeout), and the checks afterwards are
        # what hold every order to settling; waiting two minutes per such order only made the run long.
        report = replay(shop, read_invoices(DEFAULT_CSV)[: plan.invoices], workers=plan.workers, settle_s=30.0)
    finally:
        stop.set()
        fired = requests.delete(cloud, timeout=10).json().get("fired", {})
        hottest = requests.get(partitions, timeout=10).json()
        crashes: Counter[str] = Counter()
        for f in board.list():
            if f.id in armed:
                crashes[f.function] += f.fired
                if f.after.startswith("http:") and f.fired:
                    crashes[f"{f.function} (after a provider call)"] += f.fired
        board.clear()
        if provider is not None:
            provider.set_fault("error", 0)  # none left armed
    quiet = Checker(state).wait_quiet(quiet_s=5.0, timeout_s=300.0)
    return report, fired, hottest, crashes, bursts[0], quiet


def run(args: argparse.Namespace, state: dict[str, Any]) -> int:
    plan = Plan(
        invoices=args.invoices,
        workers=args.workers,
        seed=args.seed,
        throttle=args.throttle,
        errors=args.errors,
        duplicate=args.duplicate,
        delay=args.delay,
        crashes=args.crashes,
    )
    outcome = run_chaos(state, plan, Path(args.state_dir))
    print(json.dumps({"ok": outcome.ok, "check": outcome.check.to_dict()}, indent=2) if args.json else outcome.text())
    return 0 if outcome.ok else 1


def add_parser(sub: Any) -> None:
    chaos = sub.add_parser("chaos", help="replay real orders while faults are injected, then check the invariants")
    chaos.add_argument("--invoices", type=int, default=200, help="invoices to replay, oldest first")
    chaos.add_argument("--workers", type=int, default=4, help="customers replayed side by side")
    chaos.add_argument("--seed", type=int, default=7)
    chaos.add_argument("--throttle", type=float, default=0.05, help="share of DynamoDB calls throttled")
    chaos.add_argument("--errors", type=float, default=0.02, help="share of DynamoDB calls answering 500")
    chaos.add_argument("--duplicate", type=float, default=0.10, help="share of SQS messages delivered twice")
    chaos.add_argument("--delay", type=float, default=0.10, help="share of SQS messages delivered late")
    chaos.add_argument("--crashes", type=int, default=2, help="worker kills per event-driven function")
    chaos.add_argument("--json", action="store_true")


def main(argv: list[str] | None = None) -> int:
    """``make chaos``: a shop of its own (fresh state, free ports), the long run, the report in bench/results."""
    import sys

    from gears.bench import RESULTS
    from gears.local.runtime import own_shop

    parser = argparse.ArgumentParser(prog="python -m gears.chaos", description=main.__doc__)
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    with own_shop(Path(args.template), "gears-chaos-") as state:
        outcome = run_chaos(state, Plan(invoices=args.invoices), Path(state["stateDir"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "chaos.md").write_text(f"# gears chaos ({args.invoices} invoices)\n\n```\n{outcome.text()}\n```\n")
    print(outcome.text())
    sys.stdout.flush()
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
