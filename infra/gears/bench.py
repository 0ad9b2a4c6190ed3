"""``make bench``: speed and memory of the local shop, measured in one run, reported as medians and ratios.

- Cold start: each function's init (importing its handler module in a fresh worker) beside a bare
  ``import boto3`` in an equally fresh interpreter, median of N.
- Warm latency through the local gateway: p50/p99 of sequential requests per route.
- Throughput: requests per second on ``GET /products`` with C concurrent clients, for a bounded count.
- Checkout: p50/p99 of ``POST /checkout`` through the gateway, each iteration putting one line in the cart first
  (untimed) and checking out with a new ``Idempotency-Key``.
- DynamoDB calls per route: counted in-process, not through the shop (its functions run in other processes): the
  e-commerce handlers run on moto with the table from ``template.yaml`` and the demo catalog, and botocore's
  ``before-call.dynamodb`` event counts each operation of every client they create. Cold (first call of a fresh
  module) and warm; a Scan anywhere is reported as such.

Results go to ``bench/results/latest.json`` and ``bench/results/latest.md``. These are this machine's numbers,
to compare runs and changes with each other, not promises about AWS.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from gears.local.runtime import LocalRuntime, Options, port_free
from gears.local.workers import Worker

RESULTS = Path("bench/results")


def _free(start: int) -> int:
    return next(p for p in range(start, start + 200) if port_free("127.0.0.1", p))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def bare_boto3_import_ms(runs: int) -> float:
    code = "import time; t=time.perf_counter(); import boto3; print((time.perf_counter()-t)*1000)"
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


def latency(call: Callable[[], requests.Response], n: int) -> dict[str, float]:
    call()  # warm
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = call()
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code >= 400:
            raise RuntimeError(f"benchmark request failed: {r.status_code} {r.text[:200]}")
    return {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99), "n": n}


def throughput(url: str, clients: int, total: int) -> dict[str, float]:
    sessions = [requests.Session() for _ in range(clients)]
    counter = iter(range(total))
    lock = threading.Lock()
    errors = 0

    def worker(i: int) -> int:
        nonlocal errors
        done = 0
        while True:
            with lock:
                if next(counter, None) is None:
                    return done
            r = sessions[i].get(url, timeout=30)
            if r.status_code != 200:
                with lock:
                    errors += 1
            done += 1

    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        completed = sum(ex.map(worker, range(clients)))
    elapsed = time.perf_counter() - t
    return {"requests": completed, "clients": clients, "seconds": elapsed, "rps": completed / elapsed, "errors": errors}


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


def dynamodb_calls_per_route(template: Path) -> dict[str, dict[str, Any]]:  # noqa: C901 - the measuring closures count here
    """DynamoDB operations per e-commerce route, counted with botocore's before-call event on moto (see the module
    docstring). Each route: ``{"cold": {op: n}, "warm": {op: n}, "scan": bool}``."""
    import importlib
    import os
    import uuid
    from collections import Counter

    import boto3
    import botocore.session
    from moto import mock_aws

    from gears.local.http_events import http_api_event
    from gears.local.lambda_context import LambdaContext
    from gears.local.provision import provision
    from gears.local.template import Template

    root = template.resolve().parent
    for folder in (root / "shared", root / "functions" / "ecommerce"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    saved_env = dict(os.environ)
    calls: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register(
                "before-call.dynamodb", lambda event_name, **_: calls.append(event_name.rsplit(".", 1)[-1])
            )
        return client

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
    out: dict[str, dict[str, Any]] = {}
    try:
        with mock_aws():
            tpl = Template(template)
            stack = provision(tpl, boto3.Session(region_name="us-east-1"))
            functions = tpl.functions()
            os.environ.update(stack.function_environment(functions["CartFunction"]))
            from ecommerce import bootstrap
            from gears.seed import seed_catalog
            from gears_shared import store

            # Ports and models are bound to a table and an endpoint once per process: forget those of the local shop.
            bootstrap.reset()
            store._bound.cache_clear()
            seed_catalog(os.environ["TABLE_NAME"])
            botocore.session.Session.create_client = counting
            bootstrap.reset()
            store._bound.cache_clear()
            catalog = importlib.import_module("ecommerce.catalog.api")
            shop = importlib.import_module("ecommerce.cart.api")
            context = LambdaContext("Bench", timeout_s=30)
            user = {"sub": f"bench-{uuid.uuid4().hex[:8]}", "cognito:groups": ["customer"], "token_use": "access"}
            from ecommerce.catalog.domain import Partition

            first = bootstrap.product_repository().query_active(Partition(None, 0), 1, None)[0][0].product_id
            address = {"name": "B", "line1": "1 St", "city": "L", "postalCode": "L1", "country": "GB"}
            checkout = {"shippingAddress": address, "paymentMethod": "pm_card_visa"}

            def route(name: str, handler: Any, method: str, path: str, **kw: Any) -> Counter[str]:
                calls.clear()
                answer = handler(http_api_event(method, path, **kw), context)
                if answer["statusCode"] >= 400:
                    raise RuntimeError(f"{name}: {answer['statusCode']} {answer.get('body', '')[:200]}")
                return Counter(calls)

            plan: list[tuple[str, Any, str, str, dict[str, Any]]] = [
                ("GET /products", catalog.catalog_read_handler, "GET", "/products", {}),
                (
                    "GET /products?limit=100",
                    catalog.catalog_read_handler,
                    "GET",
                    "/products",
                    {"query": {"limit": "100"}},
                ),
                ("GET /products/{productId}", catalog.catalog_read_handler, "GET", f"/products/{first}", {}),
                ("GET /categories", catalog.catalog_read_handler, "GET", "/categories", {}),
                (
                    "PUT /cart/items/{productId}",
                    shop.cart_handler,
                    "PUT",
                    f"/cart/items/{first}",
                    {"claims": user, "body": {"quantity": 1}},
                ),
                ("GET /cart", shop.cart_handler, "GET", "/cart", {"claims": user}),
                ("POST /checkout", shop.checkout_handler, "POST", "/checkout", {"claims": user, "body": checkout}),
            ]
            for name, handler, method, path, kw in plan:
                runs = []
                bootstrap.category_catalog().invalidate()  # "cold": the first call of a fresh container, nothing cached
                for _ in range(2):
                    extra = dict(kw)
                    if name == "POST /checkout":
                        route(
                            "setup", shop.cart_handler, "PUT", f"/cart/items/{first}", claims=user, body={"quantity": 1}
                        )
                        extra["headers"] = {"idempotency-key": str(uuid.uuid4())}
                    runs.append(route(name, handler, method, path, **extra))
                out[name] = {"cold": dict(runs[0]), "warm": dict(runs[1]), "scan": any("Scan" in r for r in runs)}
    finally:
        botocore.session.Session.create_client = original
        os.environ.clear()
        os.environ.update(saved_env)
        if "ecommerce.bootstrap" in sys.modules:
            sys.modules["ecommerce.bootstrap"].reset()
        if "gears_shared.store" in sys.modules:
            sys.modules["gears_shared.store"]._bound.cache_clear()
    return out


def _operations(state_dir: Path) -> dict[str, int]:
    path = state_dir / "dynamodb-operations.json"
    time.sleep(0.6)  # the local cloud writes its counts twice a second
    return dict(json.loads(path.read_text())) if path.exists() else {}


def saga(api: str, state_dir: Path, admin: tuple[str, str], customers: int, orders_each: int) -> dict[str, Any]:
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
    started = time.perf_counter()
    with ThreadPoolExecutor(customers) as ex:
        list(ex.map(customer, tokens))
    elapsed = time.perf_counter() - started
    after = _operations(state_dir)
    orders = customers * orders_each
    written = after.get("items_written", 0) - before.get("items_written", 0)
    calls = sum(after.values()) - sum(before.values()) - written
    return {
        "customers": customers,
        "orders": orders,
        "outcomes": outcomes,
        "checkout_to_settled_p50_s": percentile(durations, 50),
        "checkout_to_settled_p95_s": percentile(durations, 95),
        "orders_per_s": orders / elapsed,
        "dynamodb_items_written_per_order": written / orders if orders else float("nan"),
        "dynamodb_requests_per_order": calls / orders if orders else float("nan"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix="gears-bench-"))
    options = Options(
        template=Path(args.template),
        port=_free(3300),
        cloud_port=_free(4700),
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
    settle_started = time.perf_counter()
    runtime.wait_idle(quiet_s=3.0)
    settle_s = time.perf_counter() - settle_started
    api = f"http://127.0.0.1:{options.port}"
    try:
        print("[bench] cold starts...", flush=True)
        boto3_ms = bare_boto3_import_ms(args.runs)
        cold = cold_starts(runtime, args.runs)
        for row in cold.values():
            row["ratio_to_boto3_import"] = row["init_ms_median"] / boto3_ms
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
        saga_result = saga(
            api, options.state_dir, (options.admin_email, options.admin_password), args.saga_customers, args.saga_orders
        )
    finally:
        runtime.stop()
    print("[bench] DynamoDB calls per route (in-process, moto)...", flush=True)
    dynamo_calls = dynamodb_calls_per_route(Path(args.template))
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "startup_s": startup_s,
        "settle_s": settle_s,
        "bare_boto3_import_ms": boto3_ms,
        "cold_start": cold,
        "warm_latency": warm,
        "throughput_get_products": rps,
        "checkout_latency": checkout,
        "dynamodb_calls_per_route": dynamo_calls,
        "saga": saga_result,
    }


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# Gears local benchmark ({r['when']})",
        "",
        f"Python {r['machine']['python']}, {r['machine']['cpus']} CPUs. Local shop start-up (cloud, provisioning, "
        f"demo data): {r['startup_s']:.1f} s; its start-up events handled {r['settle_s']:.1f} s later.",
        "",
        "## Cold start (init of the handler module in a fresh worker), median",
        "",
        f"Bare `import boto3` in a fresh interpreter: {r['bare_boto3_import_ms']:.1f} ms.",
        "",
        "| function | init ms | ratio to boto3 import | RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for name, row in r["cold_start"].items():
        lines.append(
            f"| {name} | {row['init_ms_median']:.1f} | {row['ratio_to_boto3_import']:.2f} "
            f"| {row['rss_mb_median']:.0f} |"
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
        f"({t['requests']} requests in {t['seconds']:.1f} s, {t['errors']} errors).",
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
        ]
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
    parser.add_argument("--saga-orders", type=int, default=5, help="orders per customer in the saga run")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    result = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    (out / "latest.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
