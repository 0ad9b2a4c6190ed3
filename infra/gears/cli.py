"""The ``gears`` command: run the shop locally and work with it.

gears local                      the whole shop on this machine (what `make run` starts)
gears invoke FUNCTION --event F  one function, once, like `sam local invoke` (no Docker)
gears mail [--to TO] [--channel C]  the local mailbox: e-mail, SMS, push (codes, notifications)
gears seed                       load each service's demo data into the running shop (idempotent)
gears dlq list|show|redrive      the dead-letter queues of the running shop
gears replay [--limit N | --returns N] [--paypal SHARE]  the dataset's real orders through checkout and the saga
gears backfill [--csv P] [--api URL --token T] [--shift-to-today]  the dataset's invoices as order history
gears fault crash|stripe|paypal|list|clear   make a function die mid-invocation, or Stripe or PayPal fail
gears publish-web --stack NAME   the built storefront and console (make web) to the deployed stack's S3 and CloudFront
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

# The clone this command was installed from (``pip install -e``): its template and its shop's state are the
# defaults wherever the command is run from, so `gears mail` in another folder still finds the running shop.
PROJECT = Path(__file__).resolve().parents[2]


def _default_state_dir() -> Path:
    """``GEARS_STATE_DIR``; else the nearest ``.gears`` of a running shop from here up; else the clone's."""
    if os.environ.get("GEARS_STATE_DIR"):
        return Path(os.environ["GEARS_STATE_DIR"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".gears" / "runtime.json").exists():
            return folder / ".gears"
    return PROJECT / ".gears"


def _default_template() -> Path:
    here = Path("template.yaml")
    return here if here.exists() else PROJECT / "template.yaml"


def _default_web() -> Path:
    """``web/dist`` beside the template in use (``make web`` builds it)."""
    return Path(_default_template()).resolve().parent / "web" / "dist"


def load_state(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / "runtime.json"
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    try:
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None  # left behind by a shop that is no longer running
    return state


def running_shop(state_dir: Path) -> dict[str, Any]:
    """The running shop's state, or exit saying that none was found (and where we looked)."""
    state = load_state(state_dir)
    if state is None:
        raise SystemExit(
            f"gears: no running shop found (looked in {state_dir.resolve()}). Start one with `make run` in the "
            "clone, or name its state folder with --state-dir or GEARS_STATE_DIR."
        )
    return state


def _parameters(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--parameter wants Name=Value, not {pair!r}")
        out[key] = value
    return out


def cmd_local(args: argparse.Namespace) -> int:
    from gears.local.runtime import LocalRuntime, Options

    endpoint = args.endpoint or os.environ.get("GEARS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    options = Options(
        template=Path(args.template),
        host=args.host,
        port=args.port,
        cloud_port=args.cloud_port,
        endpoint=endpoint,
        state_dir=Path(args.state_dir),
        parameters=_parameters(args.parameter),
        seed=not args.no_seed,
        echo_function_logs=args.verbose,
        prewarm=args.prewarm,
        max_concurrency=args.concurrency,
        stripe_port=args.stripe_port,
        paypal_port=args.paypal_port,
        settle=args.settle,
        web=Path(args.web) if args.web else None,
    )
    runtime = LocalRuntime(options)
    try:
        runtime.start()
    except Exception as exc:  # noqa: BLE001 - whatever stopped the start, say it and clean up
        print(f"[gears] could not start: {exc}", file=sys.stderr)
        runtime.stop()
        return 1
    runtime.serve_forever()
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from gears.local.runtime import LocalRuntime, Options

    event = json.loads(Path(args.event).read_text()) if args.event else {}
    state = load_state(Path(args.state_dir))
    if state:
        runtime = LocalRuntime(
            Options(template=Path(args.template), endpoint=state["endpoint"], seed=False, quiet=True)
        )
        runtime.attach(state)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="gears-invoke-"))
        from gears.local.runtime import free_port

        port = free_port(4600)
        runtime = LocalRuntime(
            Options(template=Path(args.template), cloud_port=port, state_dir=tmp, seed=False, quiet=True)
        )
        runtime.prepare()
    runtime.logs.echo = True
    runtime.logs.say = lambda line: print(line, file=sys.stderr)
    try:
        if args.function not in runtime.pools:
            print(
                f"no function {args.function!r}; the template has: {', '.join(sorted(runtime.pools))}", file=sys.stderr
            )
            return 2
        result = runtime.invoke(args.function, event)
        print(json.dumps(result.payload if result.ok else result.error, indent=2, default=str))
        return 0 if result.ok else 1
    finally:
        runtime.stop()


def _account_code(message: dict[str, Any]) -> bool:
    """A message that may carry an account code: Cognito's mail and SMS (the phone confirmation code), never a
    notification e-mail, whose order numbers and amounts can look like a code."""
    return message.get("via") != "ses" and message.get("channel", "email") in ("email", "sms")


def _show(message: dict[str, Any]) -> str:
    channel = message.get("channel", "email")
    subject = f"  {message['subject']}" if message.get("subject") else ""
    lines = [f"{message['time']}  {channel} to {', '.join(message['to'])}  [{message['via']}]{subject}"]
    lines += [f"    {line}" for line in str(message["body"]).splitlines() or [""]]
    for name, value in (message.get("headers") or {}).items():
        if name.lower().startswith("list-unsubscribe"):
            lines.append(f"    ({name}: {value})")
    return "\n".join(lines)


def cmd_mail(args: argparse.Namespace) -> int:
    from gears.local.cloud import read_mailbox

    state = running_shop(Path(args.state_dir))
    path = Path(state["mailbox"])
    messages = read_mailbox(path, args.to, args.channel)
    if args.last:
        messages = messages[-args.last :]
    if args.code:
        codes = [c for m in messages if _account_code(m) for c in re.findall(r"\b(\d{6})\b", m["body"])]
        if not codes:
            print(f"gears: no code was sent{' to ' + args.to if args.to else ''}", file=sys.stderr)
            return 1
        print(codes[-1])
        return 0
    if args.json:
        print(json.dumps(messages, indent=2))
    else:
        for m in messages:
            print(_show(m))
        if not messages:
            print("(no mail)")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from gears.local.runtime import LocalRuntime, Options

    state = running_shop(Path(args.state_dir))
    options = Options(
        template=Path(args.template), endpoint=state["endpoint"], state_dir=Path(args.state_dir), seed=False, quiet=True
    )
    runtime = LocalRuntime(options)  # the loaders' logs go with the shop's, in its state folder
    runtime.attach(state)
    try:
        print(runtime.seed())
    finally:
        runtime.stop()
    return 0


def _share(text: str) -> float:
    """``--paypal``'s share: a number from 0 to 1."""
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"a share is a number from 0 to 1, not {text!r}")
    return share


def cmd_replay(args: argparse.Namespace) -> int:
    from gears.replay import run

    return run(args)


def cmd_backfill(args: argparse.Namespace) -> int:
    from gears.backfill import run

    return run(args)


def cmd_publish_web(args: argparse.Namespace) -> int:
    from gears.publish_web import run

    return run(args)


def cmd_dlq(args: argparse.Namespace) -> int:
    from gears.dlq import cmd_dlq as run

    return run(args, load_state(Path(args.state_dir)))


def cmd_check(args: argparse.Namespace) -> int:
    from gears.check import run

    return run(args, running_shop(Path(args.state_dir)))


def cmd_chaos(args: argparse.Namespace) -> int:
    from gears.chaos import run

    return run(args, running_shop(Path(args.state_dir)))


def cmd_load(args: argparse.Namespace) -> int:
    from gears.load import run

    return run(args, running_shop(Path(args.state_dir)))


def cmd_fault(args: argparse.Namespace) -> int:
    from gears.local.faults import CrashFault, FaultBoard

    state = running_shop(Path(args.state_dir))
    board = FaultBoard(Path(args.state_dir) / "faults.json")
    if args.action == "crash":
        from gears.local.template import Template

        functions = Template(Path(args.template)).functions()
        if args.function not in functions:
            print(f"no function {args.function!r}; the template has: {', '.join(sorted(functions))}", file=sys.stderr)
            return 2
        try:
            fault = CrashFault(
                args.function, args.after, args.calls, args.min_records, args.containing or "", args.times
            )
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        board.arm(fault)
        print(f"armed {fault.id}: {fault.function} dies after {fault.calls} {fault.after} call(s), {fault.times}x")
    elif args.action == "stripe":
        from gears.local.stripe_emulator import EmulatorControl

        if not state.get("stripe"):
            print("this shop talks to a real Stripe: no faults to inject", file=sys.stderr)
            return 1
        print(json.dumps(EmulatorControl(state["stripe"]).set_fault(args.mode, args.count, args.delay)))
    elif args.action == "paypal":
        from gears.local.paypal_emulator import PayPalControl

        if not state.get("paypal"):
            print("this shop talks to a real PayPal: no faults to inject", file=sys.stderr)
            return 1
        print(json.dumps(PayPalControl(state["paypal"]).set_fault(args.mode, args.count, args.delay)))
    elif args.action == "list":
        for f in board.list():
            print(json.dumps(f.__dict__))
    else:
        print(f"cleared {board.clear()} fault(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gears", description="Gears: the serverless shop, locally and on AWS")
    parser.add_argument("--template", default=str(_default_template()))
    parser.add_argument("--state-dir", default=str(_default_state_dir()))
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole shop on this machine")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=int(os.environ.get("GEARS_PORT", "3000")))
    local.add_argument("--cloud-port", type=int, default=int(os.environ.get("GEARS_CLOUD_PORT", "4566")))
    local.add_argument(
        "--endpoint",
        help="an AWS-compatible endpoint (LocalStack, ...) instead of the embedded cloud "
        "(or GEARS_ENDPOINT_URL / AWS_ENDPOINT_URL)",
    )
    local.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE", help="a template parameter")
    local.add_argument("--no-seed", action="store_true", help="start without the demo data")
    local.add_argument("--prewarm", action="store_true", help="start one worker per function before serving")
    local.add_argument("--settle", action="store_true", help="say ready only once the start-up events are handled")
    local.add_argument("--concurrency", type=int, default=4, help="concurrent workers per function")
    local.add_argument("--stripe-port", type=int, default=None, help="the local Stripe endpoint's port (default: free)")
    local.add_argument("--paypal-port", type=int, default=None, help="the local PayPal endpoint's port (default: free)")
    local.add_argument(
        "--web",
        default=str(_default_web()),
        help="the built storefront and admin console to serve at the gateway's address ('' for none)",
    )
    local.add_argument("-v", "--verbose", action="store_true", help="echo every function log line")
    local.set_defaults(func=cmd_local)

    invoke = sub.add_parser("invoke", help="invoke one function once (the Docker-free `sam local invoke`)")
    invoke.add_argument("function", help="the function's logical id in the template")
    invoke.add_argument("--event", "-e", help="a JSON event file (see events/)")
    invoke.set_defaults(func=cmd_invoke)

    mail = sub.add_parser("mail", help="read the local mailbox: e-mail, SMS and push messages")
    mail.add_argument("--to", help="only messages sent to this address, phone number or push endpoint ARN")
    mail.add_argument("--channel", choices=["email", "sms", "push"], help="only messages of this channel")
    mail.add_argument("--last", type=int, help="only the last N messages")
    mail.add_argument("--json", action="store_true")
    mail.add_argument(
        "--code", action="store_true", help="print only the newest 6-digit account code, mailed or by SMS (for scripts)"
    )
    mail.set_defaults(func=cmd_mail)

    seed = sub.add_parser("seed", help="load the services' demo data into the running local shop (idempotent)")
    seed.set_defaults(func=cmd_seed)

    replay = sub.add_parser("replay", help="replay the Online Retail sample's orders through the running shop")
    replay.add_argument("--limit", type=int, default=200, help="invoices to replay, oldest first")
    replay.add_argument(
        "--returns", type=int, default=0, help="instead: every invoice of the first N customers whose returns refund"
    )
    replay.add_argument("--workers", type=int, default=4, help="customers replayed side by side")
    replay.add_argument(
        "--paypal",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="pay this share of orders with PayPal as a browser would, the same invoices on every run (0 to 1; "
        "default 0: all by card)",
    )
    replay.add_argument("--csv", help="another Online Retail extract (default: the one the demo catalog comes from)")
    replay.set_defaults(func=cmd_replay)

    from gears.backfill import add_arguments as add_backfill_arguments

    backfill = sub.add_parser("backfill", help="import the Online Retail sample's invoices as order history")
    add_backfill_arguments(backfill)
    backfill.set_defaults(func=cmd_backfill)

    from gears.publish_web import add_arguments as add_publish_arguments

    publish = sub.add_parser("publish-web", help="put web/dist in the deployed stack's bucket behind CloudFront")
    add_publish_arguments(publish)
    publish.set_defaults(func=cmd_publish_web)

    from gears.dlq import add_parser as add_dlq_parser

    add_dlq_parser(sub, cmd_dlq)

    from gears.check import add_parser as add_check_parser

    add_check_parser(sub)
    sub.choices["check"].set_defaults(func=cmd_check)

    from gears.chaos import add_parser as add_chaos_parser

    add_chaos_parser(sub)
    sub.choices["chaos"].set_defaults(func=cmd_chaos)

    from gears.load import add_parser as add_load_parser

    add_load_parser(sub)
    sub.choices["load"].set_defaults(func=cmd_load)

    fault = sub.add_parser("fault", help="inject faults into the running local shop")
    actions = fault.add_subparsers(dest="action", required=True)
    crash = actions.add_parser("crash", help="kill a function's worker right after its Nth matching AWS call")
    crash.add_argument("function", help="the function's logical id in the template")
    crash.add_argument("--after", default="*", help="service:Operation, shell-style (dynamodb:TransactWriteItems)")
    crash.add_argument("--calls", type=int, default=1, help="die after this many matching calls (default 1)")
    crash.add_argument("--min-records", type=int, default=0, help="only invocations with at least this many records")
    crash.add_argument("--containing", help="only invocations whose event contains this text")
    crash.add_argument("--times", type=int, default=1, help="how many invocations to crash (default 1)")
    stripe = actions.add_parser("stripe", help="the local Stripe answers 500s, or works and then hangs")
    stripe.add_argument("mode", choices=["error", "timeout"])
    stripe.add_argument("--count", type=int, default=1, help="how many API calls (default 1)")
    stripe.add_argument("--delay", type=float, default=30.0, help="how long a timeout hangs, seconds")
    paypal = actions.add_parser("paypal", help="the local PayPal answers 500s, or works and then hangs")
    paypal.add_argument("mode", choices=["error", "timeout"])
    paypal.add_argument("--count", type=int, default=1, help="how many API calls (default 1)")
    paypal.add_argument("--delay", type=float, default=30.0, help="how long a timeout hangs, seconds")
    actions.add_parser("list", help="the armed faults and how often each fired")
    actions.add_parser("clear", help="disarm every fault")
    fault.set_defaults(func=cmd_fault)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
