"""``gears load``: customers shopping side by side for a fixed time against a running local shop, then the check.

Each virtual customer signs up, then loops until the time is up: browses (reads chosen from ``docs/openapi.json``),
fills a cart with products the catalog says are in stock, checks out, and tracks the order until it settles
(``GET /orders/{orderId}`` answers 404 for the moment until the orders service has heard of the order, as the
spec says: those 404s are in the report's 4xx, not errors). One
admin works beside them: restocks what ``GET /inventory/low-stock`` lists, ships and delivers paid orders, and reads
the admin routes. Afterwards the shop is left to become quiet and :mod:`gears.check` runs its invariants.

What is read comes from the spec, not from a list here: every ``GET`` operation a customer (or the admin) may call
is a candidate, its path parameters filled with values of the same name seen in earlier answers (a ``productId``
from ``GET /products``, an ``orderId`` from checkout), its required query parameters from the same pool or its
schema. A route a later service adds (``GET /search``, ``GET /me/notifications``) is browsed without anyone
editing this module. Every request is recorded under its spec route, so the report's rows are the spec's.

The run passes when no request answered 5xx or failed to connect and every invariant holds.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from gears.check import Checker, Report
from gears.replay import ADDRESS, Shop

TERMINAL = {"PAID", "CANCELLED", "SHIPPED", "DELIVERED", "REFUNDED"}
PAID = {"PAID", "SHIPPED", "DELIVERED", "REFUNDED"}
METHODS = ("get", "put", "post", "patch", "delete")


# --- the spec: which routes a role may read, and which route a request was ----------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    public: bool
    roles: tuple[str, ...] | None  # None: any signed-in caller (or anybody, when public)
    path_params: tuple[str, ...]
    query: tuple[tuple[str, dict[str, Any]], ...]  # the required query parameters and their schemas
    pattern: re.Pattern[str]

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    def allows(self, role: str) -> bool:
        return self.public or self.roles is None or role in self.roles


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.operations: list[Operation] = []
        for path, item in document.get("paths", {}).items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                params = [p for p in op.get("parameters", []) if isinstance(p, dict)]
                names = tuple(re.findall(r"{([^}]+)}", path))
                regex = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"
                self.operations.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        public=not op.get("security"),
                        roles=tuple(op["x-gears-roles"]) if op.get("x-gears-roles") else None,
                        path_params=names,
                        query=tuple(
                            (p["name"], p.get("schema", {}))
                            for p in params
                            if p.get("in") == "query" and p.get("required")
                        ),
                        pattern=re.compile(regex),
                    )
                )
        # A literal segment wins over a parameter (/inventory/low-stock is not /inventory/{sku}).
        self.operations.sort(key=lambda o: (len(o.path_params), o.path))
        # Values worth keeping from answers: those a path or query parameter of some operation is named after.
        self.parameter_names = {n for o in self.operations for n in o.path_params} | {
            str(p["name"])
            for item in document.get("paths", {}).values()
            for method, op in item.items()
            if method in METHODS
            for p in op.get("parameters", [])
            if isinstance(p, dict) and p.get("in") == "query"
        }

    @classmethod
    def load(cls, path: Path) -> Spec:
        return cls(json.loads(path.read_text()))

    def reads(self, role: str) -> list[Operation]:
        """The GET operations ``role`` may call (``customer`` also takes every public and any-signed-in one; a
        staff role takes only those that name it, since it can read the rest as a customer does)."""
        reads = [o for o in self.operations if o.method == "GET"]
        if role == "customer":
            return [o for o in reads if o.roles is None]
        return [o for o in reads if o.roles is not None and role in o.roles]

    def route(self, method: str, path: str) -> str:
        path = path.split("?", 1)[0]
        for op in self.operations:
            if op.method == method and op.pattern.match(path):
                return op.route
        return f"{method} (not in the spec)"


# --- values seen in answers, to fill path and query parameters -----------------------------------------------------


class Values:
    """Strings seen under each parameter name in answers (the newest ``keep`` of each), and title words."""

    def __init__(self, names: set[str], rng: random.Random, keep: int = 200) -> None:
        self.names = names
        self.rng = rng
        self.seen: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=keep))
        self.words: deque[str] = deque(maxlen=keep)

    def harvest(self, value: Any) -> None:
        for key, found in _scalars(value):
            if key in self.names and isinstance(found, str | int) and str(found):
                self.seen[key].append(str(found))
            elif key in ("title", "name") and isinstance(found, str):
                self.words.extend(w for w in re.findall(r"[A-Za-z]{4,}", found)[:3])

    def pick(self, name: str) -> str | None:
        seen = self.seen.get(name)
        return self.rng.choice(seen) if seen else None

    def query_value(self, name: str, schema: dict[str, Any]) -> str:
        seen = self.pick(name)
        if seen is not None:
            return seen
        options = [s for s in schema.get("anyOf", [schema]) if isinstance(s, dict) and s.get("type") != "null"]
        chosen = options[0] if options else {}
        if chosen.get("enum"):
            return str(self.rng.choice(chosen["enum"]))
        if chosen.get("type") in ("integer", "number"):
            return str(int(chosen.get("minimum", 1)))
        return self.rng.choice(self.words) if self.words else "gift"


def _scalars(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _scalars(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v, key)
    else:
        yield key, value


# --- what was measured --------------------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)  # 5xx and connection failures, the first few with their answer
    per_second: Counter[int] = field(default_factory=Counter)
    server_errors_per_second: Counter[int] = field(default_factory=Counter)
    orders: Counter[str] = field(default_factory=Counter)
    checkout_to_settled_s: list[float] = field(default_factory=list)
    refused_at_checkout: int = 0
    restocked: int = 0
    shipped: int = 0
    delivered: int = 0
    seconds: float = 0.0
    customers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, status: int, ms: float, at: float, answer: str = "") -> None:
        with self.lock:
            self.latencies_ms[route].append(ms)
            self.statuses[route][status] += 1
            self.per_second[int(at)] += 1
            if status >= 500 or status == 0:
                self.server_errors_per_second[int(at)] += 1
                if len(self.failures) < 20:
                    self.failures.append(f"{route} -> {status or 'no answer'} {answer[:200]}")

    @property
    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500 or s == 0)

    def rows_by_route(self) -> set[str]:
        return {route for route, codes in self.statuses.items() if sum(codes.values())}

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for route in sorted(self.latencies_ms):
            lat = sorted(self.latencies_ms[route])
            codes = self.statuses[route]
            rows.append(
                {
                    "route": route,
                    "requests": len(lat),
                    "2xx": sum(n for s, n in codes.items() if 200 <= s < 300),
                    "4xx": sum(n for s, n in codes.items() if 400 <= s < 500),
                    "5xx": sum(n for s, n in codes.items() if s >= 500 or s == 0),
                    "p50_ms": _quantile(lat, 0.50),
                    "p99_ms": _quantile(lat, 0.99),
                }
            )
        return rows


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Outcome:
    stats: Stats
    check: Report
    quiet: bool
    unread: list[str]  # spec reads no virtual user could fill (no value of their parameters was ever seen)

    @property
    def ok(self) -> bool:
        return self.stats.server_errors == 0 and self.check.ok and self.quiet

    def text(self) -> str:
        s = self.stats
        settled = sorted(s.checkout_to_settled_s)
        lines = [
            f"load: {s.customers} customers and one admin for {s.seconds:.0f} s: {s.requests} requests "
            f"({s.requests / s.seconds if s.seconds else 0:.1f}/s), {s.server_errors} 5xx or unanswered",
            f"orders: {dict(s.orders)}; refused at checkout (stock): {s.refused_at_checkout}; checkout to settled "
            f"p50 {_quantile(settled, 0.5):.2f} s, p99 {_quantile(settled, 0.99):.2f} s",
            f"admin: {s.restocked} restocks, {s.shipped} shipped, {s.delivered} delivered",
            f"{'route':<44} {'requests':>8} {'2xx':>6} {'4xx':>5} {'5xx':>4} {'p50 ms':>8} {'p99 ms':>8}",
        ]
        for r in s.rows():
            lines.append(
                f"{r['route']:<44} {r['requests']:>8} {r['2xx']:>6} {r['4xx']:>5} {r['5xx']:>4} "
                f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
            )
        lines += [f"5xx: {f}" for f in s.failures]
        if self.unread:
            lines.append(f"spec reads never filled (no value seen for their parameters): {', '.join(self.unread)}")
        if not self.quiet:
            lines.append("the shop was not quiet when checked (see the messages check)")
        lines.append(self.check.text())
        return "\n".join(lines)

    def markdown(self) -> str:
        s = self.stats
        settled = sorted(s.checkout_to_settled_s)
        out = [
            f"# gears load: {s.customers} customers and one admin, {s.seconds:.0f} s",
            "",
            f"- {s.requests} requests, {s.requests / s.seconds if s.seconds else 0:.1f} requests/s; "
            f"**{s.server_errors} answered 5xx or not at all**",
            f"- orders: {dict(s.orders)}; refused at checkout for stock: {s.refused_at_checkout}",
            f"- checkout to settled: p50 {_quantile(settled, 0.5):.2f} s, p99 {_quantile(settled, 0.99):.2f} s",
            f"- the admin: {s.restocked} restocks, {s.shipped} orders shipped, {s.delivered} delivered",
            f"- invariants afterwards: {'all hold' if self.check.ok else 'SOME DO NOT HOLD'}",
            "",
            "![requests per second and latency per route](load.png)",
            "",
            "| route | requests | 2xx | 4xx | 5xx | p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        out += [
            f"| `{r['route']}` | {r['requests']} | {r['2xx']} | {r['4xx']} | {r['5xx']} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} |"
            for r in s.rows()
        ]
        out += ["", "```", self.check.text(), "```", ""]
        return "\n".join(out)


# --- the virtual users --------------------------------------------------------------------------------------------


class Deck:
    """A role's reads in shuffled rounds, shared by every virtual user of the role: each route is read before any is
    read again, so a short run still reads them all; one that cannot be filled yet (no value of its parameters seen
    by the user who drew it) comes again next round."""

    def __init__(self, operations: list[Operation], rng: random.Random) -> None:
        self.operations = list(operations)
        self.rng = rng
        self.cards: list[Operation] = []
        self._lock = threading.Lock()

    def draw(self) -> Operation | None:
        with self._lock:
            if not self.cards:
                self.cards = self.operations[:]
                self.rng.shuffle(self.cards)
            return self.cards.pop() if self.cards else None


@dataclass
class Plan:
    customers: int = 4
    seconds: float = 60.0
    seed: int = 11
    think_s: float = 0.05  # between a customer's requests
    admin: bool = True
    settle_s: float = 90.0  # how long an order placed near the end is tracked after the time is up


class Driver:
    def __init__(self, shop: Shop, spec: Spec, plan: Plan) -> None:
        self.shop = shop
        self.spec = spec
        self.plan = plan
        self.stats = Stats(customers=plan.customers)
        self.started = time.monotonic()
        self.deadline = self.started + plan.seconds
        self.read_routes: set[str] = set()
        self._lock = threading.Lock()
        self.decks = {role: Deck(spec.reads(role), random.Random(plan.seed)) for role in ("customer", "admin")}

    # One request, recorded under its spec route.
    def call(self, method: str, path: str, token: str | None, **kw: Any) -> requests.Response | None:
        route = self.spec.route(method, path)
        t0 = time.perf_counter()
        try:
            r = self.shop.call(method, path, token, **kw)
        except requests.RequestException as exc:
            self.stats.record(route, 0, (time.perf_counter() - t0) * 1000, time.monotonic() - self.started, str(exc))
            return None
        ms = (time.perf_counter() - t0) * 1000
        self.stats.record(route, r.status_code, ms, time.monotonic() - self.started, r.text)
        return r

    def read(self, op: Operation, token: str | None, values: Values) -> requests.Response | None:
        path = op.path
        for name in op.path_params:
            value = values.pick(name)
            if value is None:
                return None
            path = path.replace("{" + name + "}", quote(value, safe=""))
        params = {name: values.query_value(name, schema) for name, schema in op.query}
        r = self.call("GET", path, token, params=params or None)
        with self._lock:
            self.read_routes.add(op.route)
        if r is not None and r.status_code == 200 and "json" in r.headers.get("content-type", ""):
            values.harvest(r.json())
        return r

    def browse(self, deck: Deck, token: str | None, values: Values, rng: random.Random, pages: int) -> None:
        for _ in range(pages):
            op = deck.draw()
            if op is None:
                return
            if any(values.pick(name) is None for name in op.path_params):
                continue  # nothing seen to fill it with yet: next round
            self.read(op, token if not op.public else rng.choice([None, token]), values)
            self.pause()

    def finish_reads(self, role: str, token: str | None, values: Values) -> None:
        """Once the time is up: every read of the role that nobody has made yet and this user can fill, lists
        before details, so a short run still exercises each read the spec offers (a long one has done so already)."""
        for op in sorted(self.spec.reads(role), key=lambda o: len(o.path_params)):
            with self._lock:
                done = op.route in self.read_routes
            if not done and all(values.pick(name) is not None for name in op.path_params):
                self.read(op, token, values)

    def pause(self) -> None:
        if self.plan.think_s:
            time.sleep(self.plan.think_s)

    # --- a customer -----------------------------------------------------------------------------------------------

    def customer(self, n: int) -> None:
        rng = random.Random(self.plan.seed * 1000 + n)
        values = Values(self.spec.parameter_names, rng)
        token = self.shop.customer_token(f"load-{self.plan.seed}-{n}")
        deck = self.decks["customer"]
        in_stock: set[str] = set()
        while time.monotonic() < self.deadline:
            self.look_at_products(token, values, rng, in_stock)
            self.browse(deck, token, values, rng, pages=rng.randint(3, 5))
            if values.pick("ticketId") is None or rng.random() < 0.2:  # every customer has a question, some more
                self.ask_support(token, values, rng)
            if not in_stock:
                continue
            self.call("DELETE", "/cart", token)
            for pid in rng.sample(sorted(in_stock), k=min(len(in_stock), rng.randint(1, 3))):
                self.call("PUT", f"/cart/items/{pid}", token, json={"quantity": rng.randint(1, 2)})
                self.pause()
            self.call("GET", "/cart", token)
            placed = self.checkout(token, values)
            if placed:
                self.track(*placed, token, values)
        self.finish_reads("customer", token, values)

    def look_at_products(self, token: str, values: Values, rng: random.Random, in_stock: set[str]) -> None:
        """A page of the catalog (a category's, now and then): what is in stock is what the customer may buy."""
        params: dict[str, Any] = {"limit": 20}
        category = values.pick("category")
        if category and rng.random() < 0.5:
            params["category"] = category
        r = self.call("GET", "/products", None, params=params)
        if r is None or r.status_code != 200:
            return
        page = r.json()
        values.harvest(page)
        for product in page.get("items", []):
            level = (product.get("availability") or {}).get("level")
            if level in ("in_stock", "low"):
                in_stock.add(str(product["productId"]))
            else:
                in_stock.discard(str(product["productId"]))

    def ask_support(self, token: str, values: Values, rng: random.Random) -> None:
        """Open a support ticket, or write on one already open (what a customer waiting for an answer does)."""
        ticket = values.pick("ticketId")
        if ticket and rng.random() < 0.5:
            self.call("POST", f"/support/tickets/{quote(ticket, safe='')}/messages", token, json={"text": "Any news?"})
            return
        r = self.call(
            "POST", "/support/tickets", token, json={"subject": "Where is my order?", "message": "It has not come yet."}
        )
        if r is not None and r.status_code == 201:
            values.harvest(r.json())

    def checkout(self, token: str, values: Values) -> tuple[str, float] | None:
        started = time.monotonic()
        r = self.call(
            "POST",
            "/checkout",
            token,
            headers={"Idempotency-Key": f"load-{uuid.uuid4()}"},
            json={"shippingAddress": {**ADDRESS, "country": "GB"}, "paymentMethod": "pm_card_visa"},
        )
        if r is None:
            return None
        if r.status_code == 202:
            body = r.json()
            values.harvest(body)
            return str(body["orderId"]), started
        if r.status_code == 422:
            with self.stats.lock:
                self.stats.refused_at_checkout += 1
        return None

    def track(self, order_id: str, started: float, token: str, values: Values) -> None:
        """Follow the order as a customer does, until it settles (past the deadline too, within ``settle_s``)."""
        give_up = max(self.deadline, time.monotonic()) + self.plan.settle_s
        status = "UNKNOWN"
        while time.monotonic() < give_up:
            r = self.call("GET", f"/orders/{order_id}", token)
            if r is not None and r.status_code == 200:
                order = r.json()
                values.harvest(order)
                status = str(order.get("status"))
                if status in TERMINAL:
                    break
            time.sleep(0.25)
        with self.stats.lock:
            self.stats.orders[status if status in TERMINAL else f"STUCK_{status}"] += 1
            if status in TERMINAL:
                self.stats.checkout_to_settled_s.append(time.monotonic() - started)
        if status in PAID:
            self.call("GET", f"/orders/{order_id}/payment", token)

    # --- the admin ------------------------------------------------------------------------------------------------

    def admin(self) -> None:
        rng = random.Random(self.plan.seed)
        values = Values(self.spec.parameter_names, rng)
        token = self.shop.admin_token()
        deck = self.decks["admin"]
        self.campaign(token, values)
        while time.monotonic() < self.deadline:
            self.look_at_products(token, values, rng, set())  # the admin reads stock by the catalog's SKUs
            self.restock(token, values)
            self.fulfil(token, values, rng)
            self.answer_tickets(token, values)
            self.browse(deck, token, values, rng, pages=max(6, len(deck.operations) // 3))
            time.sleep(1.0)
        self.answer_tickets(token, values)
        self.finish_reads("admin", token, values)

    def campaign(self, token: str, values: Values) -> None:
        """A discount code and a campaign with it to the shop's best customers, as a marketing admin sends while the
        shop is busy."""
        code = f"LOAD{uuid.uuid4().hex[:8].upper()}"
        r = self.call("POST", "/admin/discounts", token, json={"code": code, "percentOff": 10, "usageLimit": 100})
        if r is not None and r.status_code == 201:
            values.harvest(r.json())
        body = {
            "name": f"Load {self.plan.seed}",
            "segment": "champions",
            "subject": "Thank you, {{ first_name or 'friend' }}",
            "body": "Our best customers get first pick of the new range: {{ discount_code }} takes 10% off.",
            "channels": ["email"],
            "discountCode": code,
        }
        r = self.call("POST", "/admin/campaigns", token, json=body)
        if r is not None and r.status_code == 202:
            values.harvest(r.json())

    def answer_tickets(self, token: str, values: Values) -> None:
        r = self.call("GET", "/admin/tickets", token, params={"status": "open", "limit": 5})
        if r is None or r.status_code != 200:
            return
        values.harvest(r.json())
        for ticket in r.json().get("items", [])[:2]:
            self.call(
                "POST",
                f"/admin/tickets/{quote(str(ticket['ticketId']), safe='')}/messages",
                token,
                json={"text": "It is on its way: you will have the tracking number by email."},
            )

    def restock(self, token: str, values: Values) -> None:
        r = self.call("GET", "/inventory/low-stock", token, params={"limit": 20})
        if r is None or r.status_code != 200:
            return
        values.harvest(r.json())
        for entry in r.json().get("items", [])[:10]:
            done = self.call(
                "POST",
                f"/inventory/{quote(str(entry['sku']), safe='')}/restock",
                token,
                json={"quantity": 50, "reference": f"load-{uuid.uuid4().hex[:12]}"},
            )
            if done is not None and done.status_code == 200:
                with self.stats.lock:
                    self.stats.restocked += 1

    def fulfil(self, token: str, values: Values, rng: random.Random) -> None:
        for status, action in (("PAID", "ship"), ("SHIPPED", "deliver")):
            r = self.call("GET", "/admin/orders", token, params={"status": status, "limit": 10})
            if r is None or r.status_code != 200:
                continue
            values.harvest(r.json())
            for order in r.json().get("items", [])[:5]:
                body = {"carrier": "royal_mail", "trackingNumber": f"LD{rng.randint(0, 10**9 - 1):09d}GB"}
                done = self.call(
                    "POST", f"/admin/orders/{order['orderId']}/{action}", token, json=body if action == "ship" else None
                )
                if done is not None and done.status_code == 200:
                    with self.stats.lock:
                        if action == "ship":
                            self.stats.shipped += 1
                        else:
                            self.stats.delivered += 1

    def run(self) -> Stats:
        threads = [threading.Thread(target=self._guarded, args=(self.customer, n)) for n in range(self.plan.customers)]
        if self.plan.admin:
            threads.append(threading.Thread(target=self._guarded, args=(self.admin,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.stats.seconds = time.monotonic() - self.started
        return self.stats

    def _guarded(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # noqa: BLE001 - a virtual user's crash is a failure of the run, reported
            with self.stats.lock:
                self.stats.failures.append(f"a virtual user stopped: {type(exc).__name__}: {exc}")
                self.stats.statuses["(virtual user)"][0] += 1
                self.stats.latencies_ms["(virtual user)"].append(0.0)


def spec_path(state: dict[str, Any]) -> Path:
    return Path(state["template"]).resolve().parent / "docs" / "openapi.json"


def run_load(state: dict[str, Any], plan: Plan) -> Outcome:
    spec = Spec.load(spec_path(state))
    shop = Shop(state["api"], Path(state["mailbox"]), (state["admin"]["email"], state["admin"]["password"]))
    driver = Driver(shop, spec, plan)
    stats = driver.run()
    checker = Checker(state)
    quiet = checker.wait_quiet(quiet_s=3.0, timeout_s=300.0)
    fillable = {o.route for role in ("customer", "admin") for o in spec.reads(role)}
    return Outcome(stats=stats, check=checker.run(), quiet=quiet, unread=sorted(fillable - driver.read_routes))


def plot(outcome: Outcome, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = outcome.stats
    rows = [r for r in s.rows() if r["requests"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, max(4.0, 0.32 * len(rows) + 1.5)))
    seconds = range(int(s.seconds) + 1)
    left.plot(list(seconds), [s.per_second.get(t, 0) for t in seconds], label="requests/s")
    left.plot(list(seconds), [s.server_errors_per_second.get(t, 0) for t in seconds], label="5xx/s", color="red")
    left.set_xlabel("seconds into the run")
    left.set_ylabel("per second")
    left.set_title(f"{s.customers} customers + admin: throughput")
    left.legend()
    names = [r["route"] for r in rows]
    y = range(len(rows))
    right.barh([i + 0.2 for i in y], [r["p99_ms"] for r in rows], height=0.4, label="p99", color="#e8a33d")
    right.barh([i - 0.2 for i in y], [r["p50_ms"] for r in rows], height=0.4, label="p50", color="#3b75af")
    right.set_yticks(list(y), names, fontsize=7)
    right.set_xscale("log")
    right.set_xlabel("ms (log)")
    right.set_title("latency per route")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(outcome: Outcome, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plot(outcome, out / "load.png")
    (out / "load.md").write_text(outcome.markdown())


def plan_from(args: argparse.Namespace) -> Plan:
    return Plan(customers=args.customers, seconds=args.seconds, seed=args.seed, admin=not args.no_admin)


def run(args: argparse.Namespace, state: dict[str, Any]) -> int:
    outcome = run_load(state, plan_from(args))
    if args.out:
        write(outcome, Path(args.out))
    print(outcome.text())
    return 0 if outcome.ok else 1


def add_parser(sub: Any) -> None:
    load = sub.add_parser("load", help="customers and an admin shop for a fixed time, then the check")
    _options(load)
    load.add_argument("--out", help="write load.md and load.png into this folder")


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=8, help="customers shopping side by side")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they shop")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-admin", action="store_true", help="no admin restocking and fulfilling beside them")


def main(argv: list[str] | None = None) -> int:
    """``make load``: a shop of its own (fresh state, free ports), the load run, the report in bench/results."""
    from gears.bench import RESULTS
    from gears.local.runtime import own_shop

    parser = argparse.ArgumentParser(prog="python -m gears.load", description=main.__doc__)
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--out", default=str(RESULTS))
    _options(parser)
    args = parser.parse_args(argv)
    with own_shop(Path(args.template), "gears-load-") as state:
        outcome = run_load(state, plan_from(args))
    write(outcome, Path(args.out))
    print(outcome.text(), flush=True)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
