"""``gears local``: the whole shop on one machine, built from ``template.yaml`` and nothing else.

Start-up, in order: the local cloud (an embedded moto server in its own process, or ``--endpoint`` for any
AWS-compatible one), every resource the template declares, one worker pool per function, the API gateway,
the event sources, the admin account, the demo data. State (endpoints, ids, logs, the mailbox) lives in
``.gears/`` so that other ``gears`` commands and the tests can find the running shop.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from gears.local.authorizer import JwtAuthorizer, cognito_jwks_url
from gears.local.faults import CRASH_EXIT, FaultBoard
from gears.local.filters import parse_filters
from gears.local.gateway import Cors, Gateway, GatewayServer, Route, serve
from gears.local.pollers import SchedulePoller, SqsPoller, StreamPoller, _Poller
from gears.local.provision import Stack, depends_on, provision
from gears.local.static_site import StaticSite
from gears.local.template import Function, Template, TemplateError
from gears.local.workers import FunctionPool, FunctionSpec, InvokeResult, allowed_modules

DEFAULT_ADMIN_EMAIL = "admin@gears.local"
DEFAULT_ADMIN_PASSWORD = "GearsAdmin2026"  # noqa: S105 - the local shop's documented default; meets the policy
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
# The resource type of a service's demo-data loader: a custom resource whose ServiceToken is the function that loads
# the service's own demo data (idempotently). CloudFormation calls it on deploy; `gears local` at start-up.
DEMO_DATA = "Custom::DemoData"


@dataclass
class Options:
    template: Path = Path("template.yaml")
    host: str = "127.0.0.1"
    port: int = 3000
    cloud_port: int = 4566
    endpoint: str | None = None  # an external AWS-compatible endpoint instead of the embedded cloud
    state_dir: Path = Path(".gears")
    region: str = "us-east-1"
    parameters: dict[str, str] = field(default_factory=dict)
    seed: bool = True
    admin_email: str = field(default_factory=lambda: os.environ.get("GEARS_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL))
    admin_password: str = field(default_factory=lambda: os.environ.get("GEARS_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD))
    max_concurrency: int = 4
    echo_function_logs: bool = False
    prewarm: bool = False
    settle: bool = False  # wait, before "ready", until the start-up events (demo data) have all been handled
    quiet: bool = False
    stripe_port: int | None = None  # the local Stripe endpoint's port (None: any free one)
    paypal_port: int | None = None  # the local PayPal endpoint's port (None: any free one)
    web: Path | None = None  # the built storefront and console (web/dist), served at the gateway's address


def _wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the local cloud exited with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def demo_data_loaders(template: Template, stack: Stack) -> list[tuple[str, str]]:
    """``(resource, function)`` for each of the template's :data:`DEMO_DATA` resources: the function its
    ``ServiceToken`` names, in template order except that one comes after any it ``DependsOn`` (as CloudFormation
    runs them). Their ``Condition`` (the stack's ``DemoData`` parameter, false by default) is not asked: it tells
    whether a deployment loads demo data; locally the shop always does, unless started with ``--no-seed``."""
    resources = template.resources
    loaders = [lid for lid, res in resources.items() if res.get("Type") == DEMO_DATA]
    ordered: list[str] = []

    def visit(lid: str, via: tuple[str, ...]) -> None:
        if lid in via:
            raise TemplateError(f"circular DependsOn among {', '.join(via)}")
        if lid not in ordered:
            for before in depends_on(resources[lid]):
                if before in loaders:
                    visit(before, (*via, lid))
            ordered.append(lid)

    for lid in loaders:
        visit(lid, ())
    functions = template.functions()
    out = []
    for lid in ordered:
        token = stack.resolve((resources[lid].get("Properties") or {}).get("ServiceToken"))
        function = stack.by_arn(str(token))
        if function is None or function not in functions:
            raise TemplateError(f"{lid}: its ServiceToken {token} is not a function of the template")
        out.append((lid, function))
    return out


class LogBook:
    """Function logs, one file per function in ``.gears/logs``, optionally echoed to the console."""

    def __init__(self, directory: Path, echo: bool, say: Callable[[str], None]) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.echo = echo
        self.say = say
        self._files: dict[str, Any] = {}
        self._lock = threading.Lock()

    def write(self, name: str, line: str) -> None:
        with self._lock:
            fh = self._files.get(name)
            if fh is None:
                fh = self._files[name] = open(self.directory / f"{name}.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            fh.write(line + "\n")
        if self.echo or '"level":"ERROR"' in line or "Traceback" in line or "Status: error" in line:
            self.say(f"  {name} | {line}")

    def close(self) -> None:
        with self._lock:
            for fh in self._files.values():
                fh.close()
            self._files.clear()


class LocalRuntime:
    def __init__(self, options: Options, say: Callable[[str], None] | None = None) -> None:
        self.o = options
        self.say = say or (lambda msg: print(msg, flush=True))
        self.cloud: subprocess.Popen[bytes] | None = None
        self.endpoint = options.endpoint or f"http://127.0.0.1:{options.cloud_port}"
        # The local admin is made in the user pool, as an operator makes a shop's first admin: alerts reach it as the
        # shop's operations address (a template without the parameter ignores it).
        options.parameters.setdefault("AlertEmails", self.o.admin_email)
        self.pools: dict[str, FunctionPool] = {}
        self.faults = FaultBoard(options.state_dir / "faults.json")  # gears.local.faults: armed from outside
        self.pollers: list[_Poller] = []
        self.server: GatewayServer | None = None
        self.gateway: Gateway | None = None
        self.stack: Stack | None = None
        self.template: Template | None = None
        self.functions: dict[str, Function] = {}
        self.logs = LogBook(options.state_dir / "logs", options.echo_function_logs, self._say)
        self.session = boto3.Session(
            **{k.lower(): v for k, v in LOCAL_CREDENTIALS.items()},
            region_name=options.region,
        )
        self._stopped = threading.Event()
        self._wrote_state = False
        self.stripe: Any = None  # the local Stripe endpoint (gears.local.stripe_emulator), when it runs
        self.stripe_secrets: dict[str, str] = {}
        self.paypal: Any = None  # the local PayPal endpoint (gears.local.paypal_emulator), when it runs
        self.paypal_secrets: dict[str, str] = {}

    def _say(self, msg: str) -> None:
        if not self.o.quiet:
            self.say(msg)

    def client(self, name: str) -> Any:
        return self.session.client(
            name, endpoint_url=self.endpoint, config=Config(retries={"max_attempts": 2}, max_pool_connections=32)
        )

    # -- start-up -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        t0 = time.perf_counter()
        self.o.state_dir.mkdir(parents=True, exist_ok=True)
        self.faults.clear()  # faults armed for an earlier shop do not carry over
        self._start_cloud()
        self._start_stripe()
        self._start_paypal()
        self.template = Template(self.o.template, self.o.parameters, region=self.o.region)
        step = time.perf_counter()
        self.stack = provision(
            self.template,
            self.session,
            self.endpoint,
            progress=lambda m: self._say(f"  {m}"),
            gateway_url=self.gateway_url,
        )
        self._say(f"[gears] provisioned the template's resources ({time.perf_counter() - step:.1f}s)")
        self._put_provider_secrets()
        self._build_pools()
        self._start_gateway()
        self._admin_account()
        if self.o.seed:
            # Before the event sources start, as on AWS (the stack's Custom::DemoData runs while it is created): the
            # loaders' writes are not slowed by their own events, which the pollers then take from the streams'
            # start (TRIM_HORIZON) all the same.
            self._seed()
        self._start_pollers()
        if self.o.prewarm:
            self._prewarm()
        if self.o.settle:
            settling = time.perf_counter()
            self._say("[gears] settling: handling the start-up events (demo data's product and stock events)...")
            settled = self.wait_idle(quiet_s=3.0)
            outcome = "settled" if settled else "still busy, going on"
            self._say(f"[gears] {outcome} ({time.perf_counter() - settling:.1f}s)")
        self._write_state()
        if self.gateway:
            self.gateway.ready.set()
        self._say(
            f"[gears] ready in {time.perf_counter() - t0:.1f}s: "
            f"API http://{self.o.host}:{self.o.port}  cloud {self.endpoint}"
        )
        self._say(f"[gears] admin sign-in: {self.o.admin_email} / {self.o.admin_password}")
        self._say(
            f"[gears] function logs in {self.o.state_dir / 'logs'}; "
            f"mail in {self.o.state_dir / 'mailbox.jsonl'}; Ctrl-C stops"
        )

    def _start_cloud(self) -> None:
        if self.o.endpoint:
            self._say(f"[gears] using the cloud at {self.o.endpoint}")
            return
        if not port_free("127.0.0.1", self.o.cloud_port):
            raise RuntimeError(f"port {self.o.cloud_port} is taken: is another local shop running? (--cloud-port)")
        started = time.perf_counter()
        self._say(f"[gears] starting the local cloud (moto) on 127.0.0.1:{self.o.cloud_port}")
        log = open(self.o.state_dir / "cloud.log", "ab")  # noqa: SIM115 - lives as long as the process
        mailbox = self.o.state_dir / "mailbox.jsonl"
        mailbox.unlink(missing_ok=True)
        self.cloud = subprocess.Popen(
            [sys.executable, "-m", "gears.local.cloud", "--port", str(self.o.cloud_port), "--mailbox", str(mailbox)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **LOCAL_CREDENTIALS},
        )
        _wait_for_port("127.0.0.1", self.o.cloud_port, 30, self.cloud)
        self._say(f"[gears] local cloud up ({time.perf_counter() - started:.1f}s)")

    def function_spec(self, fn: Function, requirement_cache: dict[tuple[Path, ...], set[str]]) -> FunctionSpec:
        assert self.stack
        assert self.template
        layers_by_arn = {self.stack.ref(lid): layer for lid, layer in self.template.layers().items()}
        layers = []
        for ref in self.stack.resolve(fn.layers):
            if ref not in layers_by_arn:
                raise TemplateError(f"{fn.logical_id}: layer {ref} is not declared in the template")
            layers.append(layers_by_arn[ref])
        reqs = (fn.requirements, *(layer.requirements for layer in layers))
        if reqs not in requirement_cache:
            requirement_cache[reqs] = allowed_modules(reqs)
        name = fn.logical_id
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": self.o.region,
            "AWS_DEFAULT_REGION": self.o.region,
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "LAMBDA_TASK_ROOT": str(fn.code_uri),
            "_HANDLER": fn.handler,
            "AWS_SAM_LOCAL": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on a laptop
            **self.stack.function_environment(fn),
        }
        return FunctionSpec(
            name=name,
            handler=fn.handler,
            code_uri=fn.code_uri,
            layers=[layer.content_uri for layer in layers],
            environment=env,
            timeout_s=float(fn.timeout),
            memory_mb=fn.memory,
            allowed_modules=requirement_cache[reqs],
            region=self.o.region,
            account_id=self.template.account_id,
        )

    def _build_pools(self) -> None:
        assert self.template
        self.functions = self.template.functions()
        cache: dict[tuple[Path, ...], set[str]] = {}
        for name, fn in self.functions.items():
            if not fn.runtime.startswith("python"):
                raise TemplateError(f"{name}: runtime {fn.runtime} does not run locally")
            self.pools[name] = FunctionPool(self.function_spec(fn, cache), self.logs.write, self.o.max_concurrency)
        self._say(f"[gears] {len(self.pools)} functions, each in its own Lambda-like worker on first use")

    def invoke(self, function: str, event: dict[str, Any]) -> InvokeResult:
        fault = self.faults.take(function, event)
        if fault is None:
            return self.pools[function].invoke(event)
        result = self.pools[function].invoke(event, crash=fault.arming())
        crashed = (result.error or {}).get("errorType") == CRASH_EXIT
        self.faults.settle(fault, crashed)
        if crashed:
            self._say(f"[gears] fault {fault.id}: {function} crashed after {fault.calls} {fault.after} call(s)")
        return result

    def routes(self) -> tuple[list[Route], dict[str, JwtAuthorizer], Cors | None]:
        assert self.template
        assert self.stack
        api_id, api = self.template.http_api()
        api = self.stack.resolve(api)
        auth = api.get("Auth") or {}
        authorizers = {}
        for name, cfg in (auth.get("Authorizers") or {}).items():
            jwt_cfg = cfg.get("JwtConfiguration") or {}
            issuer = jwt_cfg.get("issuer") or jwt_cfg.get("Issuer")
            audience = jwt_cfg.get("audience") or jwt_cfg.get("Audience") or []
            if not issuer:
                raise TemplateError(f"authorizer {name}: only JWT authorizers with an issuer run locally")
            authorizers[name] = JwtAuthorizer(issuer, list(audience), cognito_jwks_url(issuer, self.endpoint))
        default_auth = auth.get("DefaultAuthorizer")
        defaults = api.get("DefaultRouteSettings") or {}
        per_route = api.get("RouteSettings") or {}
        routes = []
        for name, fn in self.functions.items():
            for ev in fn.events:
                if ev.type != "HttpApi":
                    continue
                props = self.stack.resolve(ev.properties)
                if props.get("ApiId") not in (None, self.stack.ref(api_id)):
                    continue
                method = str(props.get("Method", "ANY")).upper()
                path = props.get("Path", "$default")
                ev_auth = props.get("Auth") or {}
                authorizer = ev_auth.get("Authorizer", default_auth)
                settings = {**defaults, **per_route.get(f"{method} {path}", {}), **(props.get("RouteSettings") or {})}
                throttle = None
                if "ThrottlingRateLimit" in settings:
                    throttle = (float(settings["ThrottlingRateLimit"]), float(settings.get("ThrottlingBurstLimit", 1)))
                routes.append(
                    Route(
                        method=method,
                        path=path,
                        function=name,
                        authorizer=None if authorizer in (None, "NONE") else authorizer,
                        scopes=list(ev_auth.get("AuthorizationScopes") or []),
                        throttle=throttle,
                    )
                )
        return routes, authorizers, Cors.from_config(api.get("CorsConfiguration"))

    def _start_gateway(self) -> None:
        routes, authorizers, cors = self.routes()
        access = open(self.o.state_dir / "logs" / "gateway-access.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115

        def access_log(record: dict[str, Any]) -> None:
            access.write(json.dumps(record) + "\n")

        site = StaticSite(self.o.web) if self.o.web else None
        self.gateway = Gateway(routes, self.invoke, authorizers, cors, access_log=access_log, ready=False, site=site)
        if not port_free(self.o.host, self.o.port):
            raise RuntimeError(f"port {self.o.port} is taken: is another local shop running? (--port)")
        self.server = serve(self.gateway, self.o.host, self.o.port)
        self._say(
            f"[gears] API gateway on http://{self.o.host}:{self.o.port}: {len(routes)} routes, "
            "the JWT authorizer on all but the public ones (503 until ready)"
        )
        if site is not None and site.built():
            self._say(f"[gears] the storefront on http://{self.o.host}:{self.o.port}/, the console on /admin.html")
        elif site is not None:
            self._say(f"[gears] no storefront: {site.root} has no build (make web)")

    def _start_pollers(self) -> None:
        assert self.stack
        sqs, streams = self.client("sqs"), self.client("dynamodbstreams")
        for name, fn in self.functions.items():
            for ev in fn.events:
                props = self.stack.resolve(ev.properties)
                invoke = functools.partial(self.invoke, name)
                if props.get("Enabled") is False:
                    continue
                if ev.type == "SQS":
                    lid = self.stack.by_arn(props["Queue"])
                    if lid is None:
                        raise TemplateError(f"{name}.{ev.name}: queue {props['Queue']} is not in the template")
                    poller: _Poller = SqsPoller(
                        name,
                        invoke,
                        sqs,
                        self.stack.ref(lid),
                        props["Queue"],
                        batch_size=int(props.get("BatchSize", 10)),
                        window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                        region=self.o.region,
                        log=self._say,
                        filters=parse_filters(props.get("FilterCriteria")),
                    )
                    poller.start(int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 2)))
                elif ev.type == "DynamoDB":
                    on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
                    poller = StreamPoller(
                        name,
                        invoke,
                        streams,
                        props["Stream"],
                        batch_size=int(props.get("BatchSize", 100)),
                        starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
                        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                        max_retries=int(props.get("MaximumRetryAttempts", -1)),
                        bisect=bool(props.get("BisectBatchOnFunctionError")),
                        window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                        filters=parse_filters(props.get("FilterCriteria")),
                        on_failure=self._destination(on_failure) if on_failure else None,
                        region=self.o.region,
                        log=self._say,
                    )
                    poller.start()
                elif ev.type in ("Schedule", "ScheduleV2"):
                    expression = props.get("Schedule") or props.get("ScheduleExpression")
                    payload = json.loads(props["Input"]) if props.get("Input") else None
                    poller = SchedulePoller(name, invoke, expression, payload=payload, rule=ev.name, log=self._say)
                    poller.start()
                elif ev.type == "HttpApi":
                    continue
                else:
                    self._say(
                        f"[gears] note: {name}.{ev.name} ({ev.type}) has no local event source; use `gears invoke`"
                    )
                    continue
                self.pollers.append(poller)
        if self.pollers:
            self._say(f"[gears] {len(self.pollers)} event sources polling (SQS, DynamoDB streams, schedules)")

    def _destination(self, arn: str) -> Callable[[dict[str, Any]], None]:
        assert self.stack
        lid = self.stack.by_arn(arn)
        if lid is None or self.template is None or self.template.resources[lid]["Type"] != "AWS::SQS::Queue":
            raise TemplateError(f"on-failure destination {arn} must be an SQS queue of the template")
        url = self.stack.ref(lid)
        sqs = self.client("sqs")
        return lambda info: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(info))

    def _admin_account(self) -> None:
        assert self.stack
        assert self.template
        pools = self.template.of_type("AWS::Cognito::UserPool")
        if not pools:
            return
        pool_id = self.stack.ref(next(iter(pools)))
        idp = self.client("cognito-idp")
        email = self.o.admin_email
        with contextlib.suppress(idp.exceptions.UsernameExistsException):
            idp.admin_create_user(
                UserPoolId=pool_id,
                Username=email,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                MessageAction="SUPPRESS",
            )
        idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=self.o.admin_password, Permanent=True)
        groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
        for group in ("admin", "customer"):
            if group in groups:
                idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)

    def seed(self) -> str:
        """Load the demo data: invoke each service's loader (:func:`demo_data_loaders`) with a plain event, through
        the functions' own workers; each answers a JSON object whose ``summary`` is said. Idempotent."""
        assert self.stack
        assert self.template
        said = []
        for resource, function in demo_data_loaders(self.template, self.stack):
            result = self.invoke(function, {})
            if not result.ok:
                error = result.error or {}
                raise RuntimeError(
                    f"{resource} ({function}) failed: {error.get('errorType')}: {error.get('errorMessage')}"
                )
            answer = result.payload if isinstance(result.payload, dict) else {}
            said.append(f"{resource}: {answer.get('summary') or json.dumps(result.payload)}")
        return "; ".join(said) or "the template declares none"

    def _seed(self) -> None:
        started = time.perf_counter()
        self._say(f"[gears] demo data: {self.seed()} ({time.perf_counter() - started:.1f}s)")

    def _prewarm(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as ex:
            list(ex.map(lambda p: p.prewarm(), self.pools.values()))
        self._say(f"[gears] pre-warmed one worker per function ({time.perf_counter() - started:.1f}s)")

    def wait_idle(self, quiet_s: float = 2.0, timeout_s: float = 300.0) -> bool:
        """Wait until no event source has delivered anything for ``quiet_s`` (start-up events drained)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(p.idle_for >= quiet_s for p in self.pollers):
                return True
            time.sleep(0.2)
        return False

    @property
    def gateway_url(self) -> str:
        """Where a client reaches the local API (the base of links the functions put in mail)."""
        host = "127.0.0.1" if self.o.host in ("0.0.0.0", "::", "") else self.o.host  # noqa: S104 - compared, not bound
        return f"http://{host}:{self.o.port}"

    def attach(self, state: dict[str, Any]) -> None:
        """Use the resources of a shop that is already running (from its ``.gears/runtime.json``)."""
        self.template = Template(self.o.template, self.o.parameters, region=self.o.region)
        self.stack = Stack(self.template, dict(state["resources"]))
        self._build_pools()

    def prepare(self) -> None:
        """A cloud and the template's resources, without gateway, event sources or data (for one-off runs)."""
        self.o.state_dir.mkdir(parents=True, exist_ok=True)
        self._start_cloud()
        self._start_stripe()
        self._start_paypal()
        self.template = Template(self.o.template, self.o.parameters, region=self.o.region)
        self.stack = provision(self.template, self.session, self.endpoint, gateway_url=self.gateway_url)
        self._put_provider_secrets()
        self._build_pools()

    def _write_state(self) -> None:
        assert self.stack
        state = {
            "pid": os.getpid(),
            "api": f"http://{self.o.host}:{self.o.port}",
            "endpoint": self.endpoint,
            "region": self.o.region,
            "template": str(Path(self.o.template).resolve()),
            "admin": {"email": self.o.admin_email, "password": self.o.admin_password},
            "mailbox": str((self.o.state_dir / "mailbox.jsonl").resolve()),
            "stateDir": str(self.o.state_dir.resolve()),
            "resources": self.stack.attrs,
            # the local Stripe endpoint (control API under /_emulator/), or None when a real Stripe was chosen
            "stripe": self.o.parameters.get("StripeApiBase") if self.stripe is not None else None,
            # the local PayPal endpoint (control API under /_emulator/), or None when a real PayPal was chosen
            "paypal": self.o.parameters.get("PayPalApiBase") if self.paypal is not None else None,
        }
        (self.o.state_dir / "runtime.json").write_text(json.dumps(state, indent=2, default=str))
        self._wrote_state = True

    # -- shutdown -----------------------------------------------------------------------------------------------
    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        for p in self.pollers:
            p.stop()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        joined_by = time.monotonic() + 2.0  # pollers in a long poll are daemon threads: not waited for past this
        for p in self.pollers:
            p.join(max(0.0, joined_by - time.monotonic()))
        for pool in self.pools.values():
            pool.close()
        self._stop_stripe()
        self._stop_paypal()
        if self.cloud and self.cloud.poll() is None:
            self.cloud.terminate()
            try:
                self.cloud.wait(5)
            except subprocess.TimeoutExpired:
                self.cloud.kill()
        self.logs.close()
        if self._wrote_state:
            (self.o.state_dir / "runtime.json").unlink(missing_ok=True)

    # -- the local Stripe endpoint (payment service) --------------------------------------------------------------
    def _start_stripe(self) -> None:
        """Start the Stripe-compatible endpoint and point the template's ``StripeApiBase`` at it, unless the
        caller chose a Stripe (``--parameter StripeApiBase=https://api.stripe.com`` with real test-mode keys)."""
        if "StripeApiBase" in self.o.parameters or self.stripe is not None:
            return
        from gears.local.stripe_emulator import start_stripe_emulator

        port = self.o.stripe_port or 0
        if port and not port_free("127.0.0.1", port):
            raise RuntimeError(f"port {port} is taken: is another local shop running? (--stripe-port)")
        self.stripe_secrets = {
            "secret_key": "sk_test_local_" + os.urandom(12).hex(),
            "webhook_secret": "whsec_local_" + os.urandom(16).hex(),
        }
        webhook_url = f"http://{self.o.host}:{self.o.port}/payments/webhooks/stripe"
        self.stripe, base_url = start_stripe_emulator(
            "127.0.0.1", port, webhook_url, self.stripe_secrets["webhook_secret"]
        )
        self.o.parameters["StripeApiBase"] = base_url
        self._say(f"[gears] Stripe-compatible endpoint on {base_url}; webhooks to {webhook_url}")

    def _start_paypal(self) -> None:
        """Start the PayPal-compatible endpoint and point the template's ``PayPalApiBase`` at it, unless the caller
        chose a PayPal (``--parameter PayPalApiBase=https://api-m.sandbox.paypal.com`` with a sandbox app's
        credentials in SSM)."""
        if "PayPalApiBase" in self.o.parameters or self.paypal is not None:
            return
        from gears.local.paypal_emulator import start_paypal_emulator

        port = self.o.paypal_port or 0
        if port and not port_free("127.0.0.1", port):
            raise RuntimeError(f"port {port} is taken: is another local shop running? (--paypal-port)")
        self.paypal_secrets = {
            "client_id": "local-client-" + os.urandom(8).hex(),
            "client_secret": "local-secret-" + os.urandom(16).hex(),
            "webhook_id": "WH-LOCAL-" + os.urandom(8).hex().upper(),
        }
        webhook_url = f"http://{self.o.host}:{self.o.port}/payments/webhooks/paypal"
        self.paypal, base_url = start_paypal_emulator("127.0.0.1", port, webhook_url, **self.paypal_secrets)
        self.o.parameters["PayPalApiBase"] = base_url
        self._say(f"[gears] PayPal-compatible endpoint on {base_url}; webhooks to {webhook_url}")

    # The providers' secrets, by the environment variable that names their SSM SecureString in a function.
    PROVIDER_SECRETS = {
        "STRIPE_SECRET_KEY_PARAMETER": ("stripe_secrets", "secret_key"),
        "STRIPE_WEBHOOK_SECRET_PARAMETER": ("stripe_secrets", "webhook_secret"),
        "PAYPAL_CLIENT_ID_PARAMETER": ("paypal_secrets", "client_id"),
        "PAYPAL_CLIENT_SECRET_PARAMETER": ("paypal_secrets", "client_secret"),
        "PAYPAL_WEBHOOK_ID_PARAMETER": ("paypal_secrets", "webhook_id"),
    }

    def _put_provider_secrets(self) -> None:
        """The local providers' secrets where the functions read them: the SSM SecureStrings that any function's
        environment names in one of :data:`PROVIDER_SECRETS`' variables (no function is named here)."""
        if self.template is None or self.stack is None:
            return
        values: dict[str, str] = {}
        for function in self.template.functions().values():
            env = self.stack.function_environment(function)
            for variable, (held_by, secret) in self.PROVIDER_SECRETS.items():
                held: dict[str, str] = getattr(self, held_by, None) or {}
                if env.get(variable) and secret in held:
                    values[str(env[variable])] = held[secret]
        if not values:
            return
        ssm = self.client("ssm")
        for name, value in values.items():
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    def _stop_stripe(self) -> None:
        if self.stripe is not None:
            self.stripe.shutdown()
            self.stripe.server_close()
            self.stripe = None

    def _stop_paypal(self) -> None:
        if self.paypal is not None:
            self.paypal.shutdown()
            self.paypal.server_close()
            self.paypal = None

    def serve_forever(self) -> None:
        signalled: list[int] = []  # not an Event: a handler that sets one can deadlock the main thread waiting on it

        def on_signal(signum: int, _frame: Any) -> None:
            signalled.append(signum)

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not signalled:
            time.sleep(0.2)
            if self.cloud is not None and self.cloud.poll() is not None:
                self._say(
                    f"[gears] the local cloud exited ({self.cloud.returncode}); see {self.o.state_dir / 'cloud.log'}"
                )
                break
        self._say("[gears] stopping...")
        self.stop()
        self._say("[gears] stopped")


def free_port(start: int, host: str = "127.0.0.1") -> int:
    """The first free port from ``start`` on (within 200)."""
    return next(p for p in range(start, start + 200) if port_free(host, p))


@contextlib.contextmanager
def own_shop(template: Path, prefix: str, **options: Any) -> Iterator[dict[str, Any]]:
    """A shop of its own for a tool's run (``make chaos``, ``make load``): fresh state in a temporary folder, free
    ports, demo data in and the start-up events handled; yields the shop's state (as ``runtime.json`` has it) and
    stops the shop afterwards."""
    import tempfile

    state_dir = Path(tempfile.mkdtemp(prefix=prefix))
    runtime = LocalRuntime(
        Options(
            template=template,
            port=free_port(3400),
            cloud_port=free_port(4800),
            state_dir=state_dir,
            seed=True,
            quiet=True,
            **options,
        )
    )
    runtime.start()
    try:
        runtime.wait_idle(quiet_s=3.0, timeout_s=900.0)
        yield json.loads((state_dir / "runtime.json").read_text())
    finally:
        runtime.stop()
