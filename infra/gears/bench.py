"""``make bench``: speed and memory of the local shop, measured in one run, reported as medians and ratios.

- Cold start: each function's init (importing its handler module in a fresh worker) beside a bare
  ``import boto3`` in an equally fresh interpreter, median of N.
- Warm latency through the local gateway: p50/p99 of sequential requests per route.
- Throughput: requests per second on ``GET /products`` with C concurrent clients, for a bounded count.
- Checkout: p50/p99 of ``POST /checkout`` through the gateway, each iteration putting one line in the cart first
  (untimed) and checking out with a new ``Idempotency-Key``.
- DynamoDB calls per route: counted in-process, not through the shop (its functions run in other processes): each
  route's handler (the one its function's ``Handler`` names in ``template.yaml``) runs on moto with the template's
  tables and the demo data its ``Custom::DemoData`` loaders write, and botocore's ``before-call.dynamodb`` event
  counts each operation of every client they create. Cold (first call of the function's code imported anew) and
  warm; a Scan anywhere is reported as such.
- CRM and notification (:mod:`gears.bench_campaign`, in-process on moto after the shop is stopped): the RFM
  recompute over ``--campaign-members`` customers, and a campaign to as many members from launch to every
  member's outcome (messages per second, AWS calls by operation, no Scan).

Results go to ``bench/results/latest.json`` and ``bench/results/latest.md``. These are this machine's numbers,
to compare runs and changes with each other, not promises about AWS.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from gears.local.chaos import PARTITIONS_PATH
from gears.local.runtime import LocalRuntime, Options, free_port
from gears.local.workers import Worker

RESULTS = Path("bench/results")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def bare_boto3_import_ms(runs: int, client: bool = False) -> float:
    """Median ms of ``import boto3`` in a fresh interpreter; with ``client``, and making one DynamoDB client (what
    any function that talks to AWS does at least)."""
    make = "; boto3.client('dynamodb', region_name='us-east-1')" if client else ""
    code = f"import time; t=time.perf_counter(); import boto3{make}; print((time.perf_counter()-t)*1000)"
    times = [float(subprocess.check_output([sys.executable, "-I", "-c", code], text=True)) for _ in range(runs)]
    return statistics.median(times)


def cold_starts(runtime: LocalRuntime, runs: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, pool in sorted(runtime.pools.items()):
        inits, rss = [], []
        for _ in range(runs):
            worker = Worker(pool.spec, lambda *_: None)
            if worker.init_error:
                raise RuntimeError(f"{name} failed to initialise: {worker.init_error['errorMessage']}")
            inits.append(worker.init_ms)
            rss.append(_rss_mb(worker.proc.pid))
            worker.stop()
        out[name] = {"init_ms_median": statistics.median(inits), "rss_mb_median": statistics.median(rss)}
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def latency(call: Callable[[], requests.Response], n: int) -> dict[str, Any]:
    call()  # warm
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = call()
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code >= 400:
            raise RuntimeError(f"benchmark request failed: {r.status_code} {r.text[:200]}")
    return {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99), "n": n, "samples_ms": times}


def throughput(url: str, clients: int, total: int) -> dict[str, float]:
    sessions = [requests.Session() for _ in range(clients)]
    counter = iter(range(total))
    lock = threading.Lock()
    errors = 0
    times: list[float] = []

    def worker(i: int) -> int:
        nonlocal errors
        done = 0
        while True:
            with lock:
                if next(counter, None) is None:
                    return done
            started = time.perf_counter()
            r = sessions[i].get(url, timeout=30)
            took = (time.perf_counter() - started) * 1000
            with lock:
                times.append(took)
                if r.status_code != 200:
                    errors += 1
            done += 1

    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        completed = sum(ex.map(worker, range(clients)))
    elapsed = time.perf_counter() - t
    return {
        "requests": completed,
        "clients": clients,
        "seconds": elapsed,
        "rps": completed / elapsed,
        "errors": errors,
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
    }


def checkout_latency(api: str, token: str, product_id: str, n: int) -> dict[str, float]:
    """p50/p99 of POST /checkout alone; each iteration first puts one line in the cart (not timed)."""
    import uuid

    http = requests.Session()
    auth = {"authorization": f"Bearer {token}"}
    body = {
        "shippingAddress": {
            "name": "Bench",
            "line1": "1 High St",
            "city": "Leeds",
            "postalCode": "LS1 1AA",
            "country": "GB",
        },
        "paymentMethod": "pm_card_visa",
    }
    # Enough stock for every checkout, and the catalog told so (its availability is a read model, a second late).
    sku = http.get(f"{api}/products/{product_id}", timeout=30).json()["sku"]
    restock = {"quantity": n + 10, "reference": f"bench-{uuid.uuid4().hex[:8]}"}
    http.post(f"{api}/inventory/{sku}/restock", json=restock, headers=auth, timeout=30).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        availability = http.get(f"{api}/products/{product_id}", timeout=30).json().get("availability") or {}
        if (availability.get("available") or 0) >= n + 1:
            break
        time.sleep(0.5)
    times = []
    for i in range(n + 1):
        r = http.put(f"{api}/cart/items/{product_id}", json={"quantity": 1}, headers=auth, timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"benchmark cart request failed: {r.status_code} {r.text[:200]}")
        t = time.perf_counter()
        r = http.post(f"{api}/checkout", json=body, headers={**auth, "idempotency-key": str(uuid.uuid4())}, timeout=30)
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 202:
            raise RuntimeError(f"benchmark checkout failed: {r.status_code} {r.text[:200]}")
        if i:  # the first one warms the function
            times.append(elapsed)
    return {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99), "n": n}


@dataclass(frozen=True)
class CountedRoute:
    """A route whose DynamoDB calls are counted: as the template declares it (``GET /products/{productId}``), and
    the path called, where ``{first}`` is the first product the catalog lists."""

    route: str
    path: str
    name: str = ""  # as reported; the route unless told
    query: dict[str, str] | None = None
    body: dict[str, Any] | None = None
    customer: bool = False  # called with a customer's claims
    cart_first: bool = False  # one of the first product goes in the cart before each call (not counted)
    idempotency_key: bool = False  # a new Idempotency-Key each call


CHECKOUT = {
    "shippingAddress": {"name": "B", "line1": "1 St", "city": "L", "postalCode": "L1", "country": "GB"},
    "paymentMethod": "pm_card_visa",
}
COUNTED_ROUTES = (
    CountedRoute("GET /products", "/products"),
    CountedRoute("GET /products", "/products", "GET /products?limit=100", query={"limit": "100"}),
    CountedRoute("GET /products/{productId}", "/products/{first}"),
    CountedRoute("GET /categories", "/categories"),
    CountedRoute("PUT /cart/items/{productId}", "/cart/items/{first}", body={"quantity": 1}, customer=True),
    CountedRoute("GET /cart", "/cart", customer=True),
    CountedRoute("POST /checkout", "/checkout", body=CHECKOUT, customer=True, cart_first=True, idempotency_key=True),
)


class _InProcess:
    """The template's functions run in this process on moto: each from its ``Handler``, with its environment, its
    CodeUri and layers on ``sys.path``; :meth:`fresh` imports a function's code anew, as a new container would."""

    def __init__(self, template: Any, stack: Any) -> None:
        self.template = template
        self.stack = stack
        self.functions = template.functions()
        layers = {stack.ref(lid): layer.content_uri for lid, layer in template.layers().items()}
        self.roots = {
            name: [fn.code_uri, *(layers[arn] for arn in stack.resolve(fn.layers))]
            for name, fn in self.functions.items()
        }
        self.all_roots = sorted({str(r) for roots in self.roots.values() for r in roots})
        self.routes: dict[str, str] = {}
        for name, fn in self.functions.items():
            for ev in fn.events:
                if ev.type == "HttpApi":
                    props = ev.properties
                    self.routes[f"{str(props.get('Method', 'ANY')).upper()} {props.get('Path')}"] = name
        self.handlers: dict[str, Any] = {}

    def fresh(self, function: str) -> Any:
        """The function's handler, its code (CodeUri and layers) imported anew: nothing cached, new clients."""
        import importlib

        roots = [str(r) for r in self.roots[function]]
        self.forget_modules(roots)
        sys.path[:0] = [r for r in roots if r not in sys.path]
        module_name, attribute = self.functions[function].handler.rsplit(".", 1)
        self.handlers[function] = getattr(importlib.import_module(module_name), attribute)
        return self.handlers[function]

    def owns(self, module: Any, roots: list[str] | None = None) -> bool:
        """Whether a module is the functions' code (of ``roots``, else of any function)."""
        path = str(getattr(module, "__file__", None) or "")
        return bool(path) and any(path.startswith(r.rstrip("/") + "/") for r in (roots or self.all_roots))

    def forget_modules(self, roots: list[str] | None = None) -> None:
        for name, module in list(sys.modules.items()):
            if self.owns(module, roots):
                del sys.modules[name]

    def call(self, function: str, event: dict[str, Any]) -> Any:
        """Invoke the function's handler (imported fresh if it never was) in its own environment."""
        import os

        from gears.local.lambda_context import LambdaContext

        os.environ.update(self.stack.function_environment(self.functions[function]))
        handler = self.handlers.get(function) or self.fresh(function)
        return handler(event, LambdaContext(function, timeout_s=float(self.functions[function].timeout)))


def _count_calls(
    shop: _InProcess, counted: CountedRoute, first: str, user: dict[str, Any], calls: list[str]
) -> dict[str, Any]:
    """One route's calls, cold (its function's code imported anew) then warm."""
    from collections import Counter

    from gears.local.http_events import http_api_event

    def call(route: str, path: str, **kw: Any) -> Counter[str]:
        calls.clear()
        answer = shop.call(shop.routes[route], http_api_event(route.split(" ", 1)[0], path, **kw))
        if answer["statusCode"] >= 400:
            raise RuntimeError(f"{route}: {answer['statusCode']} {answer.get('body', '')[:200]}")
        return Counter(calls)

    claims = {"claims": user} if counted.customer else {}
    runs = []
    for cold in (True, False):
        if counted.cart_first:
            call("PUT /cart/items/{productId}", f"/cart/items/{first}", body={"quantity": 1}, **claims)
        headers = {"idempotency-key": str(uuid.uuid4())} if counted.idempotency_key else None
        if cold:
            shop.fresh(shop.routes[counted.route])  # the first call of a new container: nothing cached
        path = counted.path.format(first=first)
        runs.append(call(counted.route, path, query=counted.query, body=counted.body, headers=headers, **claims))
    return {"cold": dict(runs[0]), "warm": dict(runs[1]), "scan": any("Scan" in r for r in runs)}


@contextmanager
def in_process_shop(template: Path) -> Iterator[_InProcess]:
    """The template's resources provisioned on moto in this process (fake credentials, no endpoint override), its
    functions callable in-process; the environment, ``sys.path`` and the functions' modules as they were after."""
    import os

    import boto3
    from moto import mock_aws

    from gears.local.provision import provision
    from gears.local.template import Template

    saved_env, saved_path, saved_modules = dict(os.environ), list(sys.path), dict(sys.modules)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[key]
    shop: _InProcess | None = None
    try:
        with mock_aws():
            tpl = Template(template)
            stack = provision(tpl, boto3.Session(region_name="us-east-1"))
            shop = _InProcess(tpl, stack)
            yield shop
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        if shop is not None:  # the functions' modules as they were: those imported here go, those replaced come back
            shop.forget_modules()
            sys.modules.update((name, m) for name, m in saved_modules.items() if shop.owns(m))


def dynamodb_calls_per_route(template: Path) -> dict[str, dict[str, Any]]:
    """DynamoDB operations per shopping route, counted with botocore's before-call event on moto (see the module
    docstring). Each route's handler is the one its function's ``Handler`` names in the template, imported anew
    for the cold call. Each route: ``{"cold": {op: n}, "warm": {op: n}, "scan": bool}``."""
    import botocore.session

    from gears.local.http_events import http_api_event
    from gears.local.runtime import demo_data_loaders

    calls: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register(
                "before-call.dynamodb", lambda event_name, **_: calls.append(event_name.rsplit(".", 1)[-1])
            )
        return client

    out: dict[str, dict[str, Any]] = {}
    with in_process_shop(template) as shop:
        try:
            for _resource, loader in demo_data_loaders(shop.template, shop.stack):  # the demo data, as loaded locally
                shop.call(loader, {})
            botocore.session.Session.create_client = counting
            user = {"sub": f"bench-{uuid.uuid4().hex[:8]}", "cognito:groups": ["customer"], "token_use": "access"}
            listed = shop.call(shop.routes["GET /products"], http_api_event("GET", "/products", query={"limit": "1"}))
            first = json.loads(listed["body"])["items"][0]["productId"]
            for counted in COUNTED_ROUTES:
                out[counted.name or counted.route] = _count_calls(shop, counted, first, user, calls)
        finally:
            botocore.session.Session.create_client = original
    return out


def _operations(state_dir: Path) -> dict[str, int]:
    path = state_dir / "dynamodb-operations.json"
    time.sleep(0.6)  # the local cloud writes its counts twice a second
    return dict(json.loads(path.read_text())) if path.exists() else {}


REPORT_LINE = re.compile(r"^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms", re.MULTILINE)


def _invocations(state_dir: Path) -> dict[str, tuple[int, float]]:
    """Per function, the invocations so far and their total duration (ms), from the REPORT lines of its log."""
    out = {}
    for log in sorted((state_dir / "logs").glob("*.log")):
        durations = [float(d) for d in REPORT_LINE.findall(log.read_text(encoding="utf-8", errors="replace"))]
        out[log.stem] = (len(durations), sum(durations))
    return out


def _per_order(
    before: dict[str, tuple[int, float]], after: dict[str, tuple[int, float]], orders: int
) -> dict[str, Any]:
    """Invocations per order and their mean duration, per function, over a run of ``orders`` orders."""
    out = {}
    for name, (count, total) in after.items():
        n, ms = count - before.get(name, (0, 0.0))[0], total - before.get(name, (0, 0.0))[1]
        if n > 0:
            out[name] = {"invocations_per_order": n / orders, "mean_ms": ms / n}
    return out


def saga(
    api: str, state_dir: Path, admin: tuple[str, str], customers: int, orders_each: int, cloud: str | None = None
) -> dict[str, Any]:
    """N customers checking out M orders each of one well-stocked product, each order waited on until PAID."""
    from gears.replay import Shop

    shop = Shop(api, state_dir / "mailbox.jsonl", admin)
    token = shop.admin_token()
    sku = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    category = shop.call("GET", "/categories").json()["categories"][0]["id"]
    product = shop.call(
        "POST",
        "/products",
        token,
        json={
            "sku": sku,
            "title": "Bench kettle",
            "price": {"amount": 2599, "currency": "GBP"},
            "category": category,
            "status": "active",
        },
    ).json()
    units = customers * orders_each * 2
    shop.call("PUT", f"/inventory/{sku}", token, json={"threshold": 1, "productId": product["productId"]})
    shop.call("POST", f"/inventory/{sku}/restock", token, json={"quantity": units, "reference": f"bench-{sku}"})
    tokens = [shop.customer_token(f"bench-{uuid.uuid4().hex[:8]}") for _ in range(customers)]
    address = {"name": "Bench", "line1": "1 Test Street", "city": "London", "postalCode": "E1 6AN", "country": "GB"}
    durations: list[float] = []
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def customer(customer_token: str) -> None:
        for _ in range(orders_each):
            shop.call("PUT", f"/cart/items/{product['productId']}", customer_token, json={"quantity": 1})
            started = time.perf_counter()
            r = shop.call(
                "POST",
                "/checkout",
                customer_token,
                headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
                json={"shippingAddress": address, "paymentMethod": "pm_card_visa"},
            )
            outcome = shop.wait_settled(r.json()["orderId"], customer_token) if r.status_code == 202 else "REFUSED"
            with lock:
                durations.append(time.perf_counter() - started)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    before = _operations(state_dir)
    invoked = _invocations(state_dir)
    if cloud:
        requests.delete(cloud + PARTITIONS_PATH, timeout=10)  # this run's writes per partition key only
    started = time.perf_counter()
    with ThreadPoolExecutor(customers) as ex:
        list(ex.map(customer, tokens))
    elapsed = time.perf_counter() - started
    after = _operations(state_dir)
    time.sleep(1.0)  # the last invocations' REPORT lines
    functions = _per_order(invoked, _invocations(state_dir), customers * orders_each)
    orders = customers * orders_each
    written = after.get("items_written", 0) - before.get("items_written", 0)
    calls = sum(after.values()) - sum(before.values()) - written
    return {
        "customers": customers,
        "orders": orders,
        "outcomes": outcomes,
        "durations_s": durations,
        "checkout_to_settled_p50_s": percentile(durations, 50),
        "checkout_to_settled_p95_s": percentile(durations, 95),
        "orders_per_s": orders / elapsed,
        "dynamodb_items_written_per_order": written / orders if orders else float("nan"),
        "dynamodb_requests_per_order": calls / orders if orders else float("nan"),
        "functions_per_order": functions,
        "partitions": requests.get(cloud + PARTITIONS_PATH, timeout=10).json() if cloud else {},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix="gears-bench-"))
    options = Options(
        template=Path(args.template),
        port=free_port(3300),
        cloud_port=free_port(4700),
        state_dir=state,
        seed=True,
        quiet=not args.verbose,
        max_concurrency=args.clients,
    )
    runtime = LocalRuntime(options)
    t0 = time.perf_counter()
    runtime.start()
    startup_s = time.perf_counter() - t0
    print("[bench] waiting for the start-up events (demo catalog and stock) to be handled...", flush=True)
    settle_started = time.monotonic()
    runtime.wait_idle(quiet_s=3.0, timeout_s=900.0)
    # Until the last delivery, not until the quiet that tells it was the last one.
    settle_s = max([p.last_active for p in runtime.pollers] + [settle_started]) - settle_started
    api = f"http://127.0.0.1:{options.port}"
    try:
        print("[bench] cold starts...", flush=True)
        boto3_ms = bare_boto3_import_ms(args.runs)
        boto3_client_ms = bare_boto3_import_ms(args.runs, client=True)
        cold = cold_starts(runtime, args.runs)
        for row in cold.values():
            row["ratio_to_boto3_import"] = row["init_ms_median"] / boto3_ms
            row["ratio_to_boto3_client"] = row["init_ms_median"] / boto3_client_ms
        print("[bench] warm latency...", flush=True)
        http = requests.Session()
        admin = http.post(
            f"{api}/auth/login", json={"email": options.admin_email, "password": options.admin_password}, timeout=30
        )
        admin.raise_for_status()
        token = admin.json()["accessToken"]
        refresh_token = admin.json()["refreshToken"]
        credentials = {"email": options.admin_email, "password": options.admin_password}
        first = http.get(f"{api}/products?limit=1", timeout=30).json()["items"][0]["productId"]
        routes = {
            "GET /products": lambda: http.get(f"{api}/products", timeout=30),
            "GET /products/{productId}": lambda: http.get(f"{api}/products/{first}", timeout=30),
            "GET /categories": lambda: http.get(f"{api}/categories", timeout=30),
            "GET /me": lambda: http.get(f"{api}/me", headers={"authorization": f"Bearer {token}"}, timeout=30),
            "POST /auth/login": lambda: http.post(f"{api}/auth/login", json=credentials, timeout=30),
            "POST /auth/refresh": lambda: http.post(
                f"{api}/auth/refresh", json={"refreshToken": refresh_token}, timeout=30
            ),
        }
        cart_headers = {"authorization": f"Bearer {token}"}
        routes["PUT /cart/items/{productId}"] = lambda: http.put(
            f"{api}/cart/items/{first}", json={"quantity": 1}, headers=cart_headers, timeout=30
        )
        routes["GET /cart"] = lambda: http.get(f"{api}/cart", headers=cart_headers, timeout=30)
        warm = {route: latency(call, args.requests) for route, call in routes.items()}
        print("[bench] checkout...", flush=True)
        checkout = checkout_latency(api, token, first, args.checkouts)
        print("[bench] throughput...", flush=True)
        rps = throughput(f"{api}/products", args.clients, args.total)
        print(f"[bench] the order saga with {args.saga_customers} concurrent customers...", flush=True)
        admin_login = (options.admin_email, options.admin_password)
        saga_result = saga(
            api, options.state_dir, admin_login, args.saga_customers, args.saga_orders, cloud=runtime.endpoint
        )
        sweep = []
        for customers in args.saga_sweep:
            print(f"[bench] saga latency with {customers} concurrent customers...", flush=True)
            row = saga(api, options.state_dir, admin_login, customers, args.sweep_orders)
            sweep.append({k: v for k, v in row.items()})
    finally:
        runtime.stop()
    print("[bench] DynamoDB calls per route (in-process, moto)...", flush=True)
    dynamo_calls = dynamodb_calls_per_route(Path(args.template))
    campaign = None
    if args.campaign_members > 0:  # in this process, once the shop is stopped: nothing else takes the CPU
        from gears import bench_campaign

        campaign = bench_campaign.run(Path(args.template), args.campaign_members)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "startup_s": startup_s,
        "settle_s": settle_s,
        "bare_boto3_import_ms": boto3_ms,
        "boto3_and_client_ms": boto3_client_ms,
        "cold_start": cold,
        "warm_latency": warm,
        "throughput_get_products": rps,
        "checkout_latency": checkout,
        "dynamodb_calls_per_route": dynamo_calls,
        "saga": saga_result,
        "saga_sweep": sweep,
        "campaign": campaign,
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def markdown(r: dict[str, Any], figures: dict[str, str] | None = None) -> str:  # noqa: C901 - one section each
    from gears.bench_report import targets_markdown

    figures = figures or {}
    lines = [
        f"# Gears local benchmark ({r['when']})",
        "",
        f"Python {r['machine']['python']}, {r['machine']['cpus']} CPUs. Local shop start-up (cloud, provisioning, "
        f"demo data): {r['startup_s']:.1f} s; its start-up events handled {r['settle_s']:.1f} s later.",
        "",
        "## Targets",
        "",
        *targets_markdown(r),
        "",
        "`make test`'s time is CI's (its log), not this run's. The load test (`make load`) reports in "
        "[load.md](load.md), with its plot; the long chaos run (`make chaos`) in [chaos.md](chaos.md).",
        "",
    ]
    for name, title in (("latency", "Warm latency"), ("cold_start", "Cold start"), ("saga", "The saga")):
        if name in figures:
            lines += [f"![{title}]({figures[name]})", ""]
    lines += [
        "## Cold start (init of the handler module in a fresh worker), median",
        "",
        f"Bare `import boto3` in a fresh interpreter: {r['bare_boto3_import_ms']:.1f} ms; `import boto3` and one "
        f"client: {r.get('boto3_and_client_ms', float('nan')):.1f} ms.",
        "",
        "| function | init ms | ratio to boto3 import | ratio to boto3 + client | RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in r["cold_start"].items():
        lines.append(
            f"| {name} | {row['init_ms_median']:.1f} | {row['ratio_to_boto3_import']:.2f} "
            f"| {row.get('ratio_to_boto3_client', float('nan')):.2f} | {row['rss_mb_median']:.0f} |"
        )
    lines += [
        "",
        "## Warm latency through the local gateway",
        "",
        "| route | p50 ms | p99 ms | n |",
        "|---|---:|---:|---:|",
    ]
    for route, row in r["warm_latency"].items():
        lines.append(f"| {route} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['n']} |")
    t = r["throughput_get_products"]
    lines += [
        "",
        "## Throughput",
        "",
        f"GET /products: {t['rps']:.0f} requests/s with {t['clients']} concurrent clients "
        f"({t['requests']} requests in {t['seconds']:.1f} s, {t['errors']} errors; each request p50 "
        f"{t.get('p50_ms', float('nan')):.1f} ms, p99 {t.get('p99_ms', float('nan')):.1f} ms).",
        "",
    ]
    c = r.get("checkout_latency")
    if c:
        lines += [
            "## Checkout",
            "",
            "POST /checkout through the gateway, a new Idempotency-Key each time, after putting one line in the cart "
            "(untimed).",
            "",
            "| route | p50 ms | p99 ms | n |",
            "|---|---:|---:|---:|",
            f"| POST /checkout | {c['p50_ms']:.1f} | {c['p99_ms']:.1f} | {c['n']} |",
            "",
        ]
    calls = r.get("dynamodb_calls_per_route")
    if calls:
        lines += [
            "## DynamoDB calls per route",
            "",
            "Counted in-process on moto with botocore's `before-call.dynamodb` event (demo catalog loaded); cold is "
            "the first call with nothing cached (the category tree is then cached for a minute).",
            "",
            "| route | cold | warm | Scan |",
            "|---|---|---|---|",
        ]

        def ops(counted: dict[str, int]) -> str:
            return ", ".join(f"{op} x{n}" for op, n in sorted(counted.items())) or "none"

        for route, row in calls.items():
            lines.append(f"| {route} | {ops(row['cold'])} | {ops(row['warm'])} | {'yes' if row['scan'] else 'no'} |")
        lines.append("")
    g = r.get("saga")
    if g:
        lines += [
            "## The order saga",
            "",
            f"{g['customers']} customers checking out {g['orders']} orders side by side (one line each, pm_card_visa), "
            "each timed from POST /checkout until GET /orders/{id} shows it settled (PAID), through OrderPlaced, "
            "the stock reservation, OrderConfirmed, the charge at the local Stripe endpoint and PaymentSucceeded.",
            "",
            "| checkout to PAID p50 s | p95 s | orders/s | DynamoDB items written per order | other DynamoDB requests "
            "per order | outcomes |",
            "|---:|---:|---:|---:|---:|---|",
            f"| {g['checkout_to_settled_p50_s']:.2f} | {g['checkout_to_settled_p95_s']:.2f} | {g['orders_per_s']:.2f} "
            f"| {g['dynamodb_items_written_per_order']:.1f} | {g['dynamodb_requests_per_order']:.1f} "
            f"| {g['outcomes']} |",
            "",
            "Items written and requests are counted by the local cloud over the run, for the whole system (cart, "
            "checkout, the services' records, inboxes, availability), divided by the orders.",
            "",
            "| function | invocations per order | mean ms (local) |",
            "|---|---:|---:|",
            *(
                f"| {name} | {row['invocations_per_order']:.2f} | {row['mean_ms']:.1f} |"
                for name, row in sorted(g.get("functions_per_order", {}).items())
            ),
            "",
        ]
        p = g.get("partitions") or {}
        if p.get("items_written"):
            lines += [
                f"Writes per partition key over the run: {p['items_written']} items over {p['partitions']} keys; "
                "the busiest:",
                "",
                "| table | partition key | writes | share |",
                "|---|---|---:|---:|",
                *(f"| {t['table']} | `{t['key']}` | {t['writes']} | {t['share']:.1%} |" for t in p["top"][:5]),
                "",
            ]
    sweep = r.get("saga_sweep") or []
    if sweep:
        lines += [
            "### Against concurrency",
            "",
            "| customers | orders | p50 s | p95 s | orders/s |",
            "|---:|---:|---:|---:|---:|",
            *(
                f"| {w['customers']} | {w['orders']} | {w['checkout_to_settled_p50_s']:.2f} "
                f"| {w['checkout_to_settled_p95_s']:.2f} | {w['orders_per_s']:.2f} |"
                for w in sweep
            ),
            "",
        ]
    if r.get("campaign"):
        from gears.bench_campaign import markdown as campaign_markdown

        lines += campaign_markdown(r["campaign"])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Gears local benchmarks")
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--runs", type=int, default=5, help="cold starts per function")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per route")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for throughput")
    parser.add_argument("--total", type=int, default=1000, help="requests for throughput")
    parser.add_argument("--checkouts", type=int, default=100, help="timed checkouts")
    parser.add_argument("--saga-customers", type=int, default=4, help="concurrent customers in the saga run")
    parser.add_argument("--saga-orders", type=int, default=20, help="orders per customer in the saga run")
    parser.add_argument(
        "--saga-sweep",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[1, 2, 4, 8],
        help="concurrent customers for the latency-against-concurrency runs (comma-separated)",
    )
    parser.add_argument("--sweep-orders", type=int, default=5, help="orders per customer in each sweep run")
    parser.add_argument(
        "--campaign-members",
        type=int,
        default=10_000,
        help="customers for the RFM recompute and members for the campaign fan-out (in-process, moto; 0 skips)",
    )
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    result = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from gears.bench_report import plots

    figures = plots(result, out)
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    (out / "latest.md").write_text(markdown(result, figures))
    print(markdown(result, figures))


if __name__ == "__main__":
    main()
