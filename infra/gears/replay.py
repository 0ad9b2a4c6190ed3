"""``gears replay``: the Online Retail sample's real orders, pushed through a running local shop.

Each invoice of a known customer becomes an order placed the way a shopper places one: the customer signs up (once;
the confirmation code comes from the local mailbox), fills a cart with the invoice's lines, and checks out with the
invoice number in the ``Idempotency-Key`` (so a replay run twice places each order once). The saga then runs:
stock is reserved, the card is charged, the order is PAID or CANCELLED. Cancellation lines (invoice ``C...``,
negative quantities) become refunds by the admin on the customer's earlier replayed order holding that product.

The dataset is a sample of lines, not of invoices: baskets are partial and most cancellations have no order to
refund; both are reported, not hidden. Invoices go in date order; ``--limit`` bounds how many. The first
cancellation that refunds a replayed order comes after some 280 invoices: ``--returns N`` replays instead every
invoice of the first N customers whose cancellations do refund one of their earlier orders.

``--paypal SHARE`` pays that share of the orders with PayPal instead of a card (chosen by the invoice number, so a
rerun chooses the same ones), the way a browser pays: the checkout's approval link followed to PayPal's page (the
local PayPal endpoint's), its "Pay" form sent, PayPal's redirect followed back to the shop, which captures.
Outcomes are reported per method.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from gears import dataset
from gears.dataset import DEFAULT_CSV, Invoice

PASSWORD = "Replay-Customer-2011"  # noqa: S105 - local replay accounts only
TERMINAL = {"PAID", "CANCELLED", "SHIPPED", "DELIVERED", "REFUNDED"}
ADDRESS = {"name": "Replay Customer", "line1": "1 Market Street", "city": "London", "postalCode": "EC1A 1AA"}


def read_invoices(path: Path = DEFAULT_CSV) -> list[Invoice]:
    """The dataset's invoices of known customers, oldest first."""
    return dataset.read_invoices(path, known_customers_only=True)


@dataclass
class Report:
    invoices: int = 0
    orders_placed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lines_skipped_unknown_product: int = 0
    cancellations: int = 0
    refunds: int = 0
    refunded_pence: int = 0
    cancellations_unmatched: int = 0
    refunded: Counter[str] = field(default_factory=Counter)  # order id -> pence asked back by the returns
    errors: Counter[str] = field(default_factory=Counter)
    lines_cut_for_stock: int = 0  # lines checkout said were short of stock, bought down to what was left
    refused_out_of_stock: int = 0  # invoices with nothing left to buy: checkout said so, no order was placed
    seconds: float = 0.0
    checkout_to_terminal_s: list[float] = field(default_factory=list)
    by_method: Counter[str] = field(default_factory=Counter)  # "paypal PAID", "card CANCELLED (...)"
    paypal_returns: Counter[str] = field(default_factory=Counter)  # the shop's answer on PayPal's return, by status

    def text(self) -> str:
        done = sum(self.outcomes.values())
        rate = self.orders_placed / self.seconds if self.seconds else 0.0
        lat = sorted(self.checkout_to_terminal_s)
        p50 = lat[len(lat) // 2] if lat else float("nan")
        lines = [
            f"invoices replayed: {self.invoices} ({self.cancellations} cancellations)",
            f"orders placed through checkout: {self.orders_placed} ({rate:.2f} orders/s over {self.seconds:.1f} s)",
            f"outcomes: {dict(self.outcomes)} ({done} settled; checkout to settled p50 {p50:.2f} s)",
            f"refunds from cancellations: {self.refunds} (£{self.refunded_pence / 100:.2f});"
            f" cancellations with no replayed order to refund: {self.cancellations_unmatched}",
            f"lines skipped (product not in the catalog): {self.lines_skipped_unknown_product}",
            f"short of stock at checkout: {self.lines_cut_for_stock} lines cut to what was left, "
            f"{self.refused_out_of_stock} invoices with nothing left (no order)",
        ]
        if self.by_method:
            lines.append(f"outcomes by payment method: {dict(sorted(self.by_method.items()))}")
        if self.paypal_returns:
            lines.append(f"PayPal buyers sent back to the shop: {dict(sorted(self.paypal_returns.items()))}")
        if self.errors:
            lines.append(f"errors: {dict(self.errors)}")
        return "\n".join(lines)


class Shop:
    def __init__(self, api: str, mailbox: Path, admin: tuple[str, str]) -> None:
        self.api = api.rstrip("/")
        self.mailbox = mailbox
        self.admin_credentials = admin
        self.local = threading.local()
        self._admin_token: str | None = None

    @property
    def http(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.api + path, headers=headers, timeout=60, **kw)

    def login(self, email: str, password: str) -> str | None:
        r = self.call("POST", "/auth/login", json={"email": email, "password": password})
        return str(r.json()["accessToken"]) if r.status_code == 200 else None

    def admin_token(self) -> str:
        if self._admin_token is None:
            token = self.login(*self.admin_credentials)
            if token is None:
                raise RuntimeError("the admin cannot sign in")
            self._admin_token = token
        return self._admin_token

    def customer_token(self, customer: str) -> str:
        email = f"customer-{customer}@replay.gears.local"
        token = self.login(email, PASSWORD)
        if token:
            return token
        r = self.call("POST", "/auth/signup", json={"email": email, "password": PASSWORD})
        if r.status_code not in (200, 201, 202, 409):
            raise RuntimeError(f"sign-up failed: {r.status_code} {r.text[:200]}")
        code = self._code_for(email)
        self.call("POST", "/auth/confirm", json={"email": email, "code": code})
        token = self.login(email, PASSWORD)
        if token is None:
            raise RuntimeError(f"cannot sign in as {email}")
        return token

    def _code_for(self, email: str) -> str:
        from gears.local.cloud import read_mailbox

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for message in reversed(read_mailbox(self.mailbox, email)):
                found = re.search(r"\b(\d{6})\b", message["body"])
                if found:
                    return found.group(1)
            time.sleep(0.1)
        raise RuntimeError(f"no confirmation code was mailed to {email}")

    def product_ids(self) -> dict[str, str]:
        """SKU -> product id of every active product, from the shop's catalog (``GET /products``, page by page)."""
        ids: dict[str, str] = {}
        cursor: str | None = None
        while True:
            r = self.call("GET", "/products", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
            r.raise_for_status()
            page = r.json()
            ids.update((str(p["sku"]).upper(), str(p["productId"])) for p in page["items"])
            cursor = page.get("nextCursor")
            if not cursor:
                return ids

    def wait_settled(self, order_id: str, token: str, deadline_s: float = 120.0) -> str:
        deadline = time.monotonic() + deadline_s
        status = "UNKNOWN"
        while time.monotonic() < deadline:
            r = self.call("GET", f"/orders/{order_id}", token)
            if r.status_code == 200:
                order = r.json()
                status = str(order.get("status"))
                if status == "CANCELLED" and order.get("cancelReason"):
                    return f"CANCELLED ({order['cancelReason']})"  # out of stock, a declined card, ...
                if status in TERMINAL:
                    return status
            time.sleep(0.25)
        return f"STUCK_{status}"


def pays_with_paypal(invoice_number: str, share: float) -> bool:
    """Whether this invoice is one of the ``share`` paid with PayPal: a stable choice from its number alone (a hash,
    not a random draw), so a rerun chooses the same invoices, and a larger share keeps every invoice a smaller one
    chose."""
    if share <= 0:
        return False
    digest = int.from_bytes(hashlib.sha256(invoice_number.encode()).digest()[:8], "big")
    return digest / 2**64 < share


APPROVE_ACTION = "/checkoutnow/approve"
RETURN_PATH = "/payments/paypal/return"  # the shop's page PayPal sends the buyer back to
PAGE_WAIT_S = 60.0  # how long the approval link may answer "being prepared" before the buyer gives up
MAX_RETRY_AFTER_S = 5.0  # a Retry-After above this is waited this long (then asked again)
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class HtmlForm:
    """One ``<form>`` of a page: where it goes and the fields a browser would send as the page stands."""

    action: str
    method: str
    fields: dict[str, str]


class _FormReader(HTMLParser):
    """The forms and links of a page, read as a browser reads them: hidden and text inputs as they are, the checked
    radio or checkbox of each name, the selected (else the first) option of each select."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.links: list[str] = []
        self._form: HtmlForm | None = None
        self._select: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = HtmlForm(a.get("action", ""), (a.get("method") or "get").upper(), {})
            self.forms.append(self._form)
        elif self._form is None or (not a.get("name") and tag != "option"):
            return
        elif tag == "input":
            self._input(self._form, a)
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            self._first_option.setdefault(self._select, a.get("value", ""))
            if "selected" in a:
                self._form.fields[self._select] = a.get("value", "")

    @staticmethod
    def _input(form: HtmlForm, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in ("radio", "checkbox"):
            if "checked" in a:
                form.fields[a["name"]] = a.get("value", "on")
        elif kind not in ("submit", "button", "image", "reset", "file"):
            form.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._form is not None and self._select is not None:
            if self._select not in self._form.fields and self._select in self._first_option:
                self._form.fields[self._select] = self._first_option[self._select]
            self._select = None
        elif tag == "form":
            self._form = None


def read_page(page: str) -> tuple[list[HtmlForm], list[str]]:
    """The page's forms (:class:`HtmlForm`) and its links' targets, each in the order they appear."""
    reader = _FormReader()
    reader.feed(page)
    reader.close()
    return reader.forms, reader.links


@dataclass(frozen=True)
class BrowserPayment:
    """How paying at PayPal went for the browser: the shop's word on the payment once PayPal sent the buyer back
    (``status``: ``SUCCEEDED``, ``APPROVED`` while the capture is under way, ``FAILED``, ...), or, when the buyer
    never got there, why not (``problem``)."""

    status: str | None = None
    problem: str | None = None


def _retry_after(answer: requests.Response) -> float:
    """The wait an answer asks for, in seconds (``Retry-After``: seconds; a date or nonsense counts as 1)."""
    try:
        return min(max(float(answer.headers.get("Retry-After") or 1), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return 1.0


def _shop_status(answer: requests.Response) -> str | None:
    """The payment's status in a shop's JSON answer (``{orderId, status}``), if that is what it is."""
    if "json" not in answer.headers.get("Content-Type", ""):
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    return str(body["status"]) if isinstance(body, dict) and body.get("status") else None


def pay_with_paypal(
    http: requests.Session,
    approval_url: str,
    *,
    funding: str = "balance",
    wait_s: float = PAGE_WAIT_S,
    gave_up: Callable[[], str | None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BrowserPayment:
    """Pay as a browser does, with plain HTTP: open the checkout's approval link, following its redirects to
    PayPal's page; while the shop answers 202 (the PayPal order is still being made), wait as its ``Retry-After``
    says and ask again, for at most ``wait_s`` seconds, and sooner give up when ``gave_up`` names a reason (say, the
    order was cancelled meanwhile: it will never go to PayPal). On PayPal's page, send its "Pay" form (the page's own
    fields, ``funding`` as chosen), following PayPal's redirect back to the shop's return, whose answer says how the
    payment stands. A link that lands straight on the shop (the payment is past waiting) says so too, and so does
    PayPal's page for an order approved already (a rerun), through its link back to the shop."""
    deadline = clock() + wait_s
    while True:
        page = http.get(approval_url, timeout=REQUEST_TIMEOUT_S)
        if page.status_code != 202:
            break
        reason = gave_up()
        if reason is not None:
            return BrowserPayment(problem=reason)
        left = deadline - clock()
        if left <= 0:
            return BrowserPayment(problem=f"PayPal's page not ready after {wait_s:.0f} s")
        sleep(min(_retry_after(page), left))
    if page.status_code != 200:
        return BrowserPayment(problem=f"the approval link answered {page.status_code}")
    forms, links = read_page(page.text) if "html" in page.headers.get("Content-Type", "") else ([], [])
    form = next((f for f in forms if urlsplit(f.action).path.endswith(APPROVE_ACTION)), None)
    link_back = next((link for link in links if urlsplit(link).path.endswith(RETURN_PATH)), None)
    if form is not None:
        back = http.request(
            form.method,
            urljoin(page.url, form.action),
            data={**form.fields, "funding": funding},
            timeout=REQUEST_TIMEOUT_S,
        )
    elif link_back is not None:
        back = http.get(urljoin(page.url, link_back), timeout=REQUEST_TIMEOUT_S)
    else:
        landed = _shop_status(page)
        return BrowserPayment(status=landed) if landed else BrowserPayment(problem="no approval form on the page")
    status = _shop_status(back) if back.status_code == 200 else None
    return (
        BrowserPayment(status=status) if status else BrowserPayment(problem=f"the return answered {back.status_code}")
    )


def _checkout(shop: Shop, token: str, invoice: Invoice, payment_method: str, attempt: int = 1) -> Any:
    return shop.call(
        "POST",
        "/checkout",
        token,
        headers={"Idempotency-Key": f"replay-{invoice.number}-{attempt}"},
        json={"shippingAddress": {**ADDRESS, "country": invoice.country or "GB"}, "paymentMethod": payment_method},
    )


def _buy_what_is_left(
    shop: Shop, token: str, skus: dict[str, int], unavailable: list[dict[str, Any]]
) -> dict[str, int]:
    """The cart cut down to what checkout said is left: each short line to its available quantity, or gone."""
    left = dict(skus)
    for line in unavailable:
        sku, pid = str(line.get("sku", "")), str(line.get("productId", ""))
        available = int(line.get("availableQuantity") or 0)
        if available > 0:
            shop.call("PUT", f"/cart/items/{pid}", token, json={"quantity": available})
            left[sku] = available
        else:
            shop.call("DELETE", f"/cart/items/{pid}", token)
            left.pop(sku, None)
    return left


def replay(  # noqa: C901 - the replay's steps are closures over its lock and report
    shop: Shop,
    invoices: list[Invoice],
    *,
    workers: int = 4,
    payment_method: str = "pm_card_visa",
    paypal_share: float = 0.0,
    settle_s: float = 120.0,
) -> Report:
    """Each invoice through sign-up, cart and checkout by ``workers`` customers side by side, each order waited for
    up to ``settle_s`` (an order not settled by then is reported ``STUCK_<status>``: gears chaos waits less, and
    checks afterwards that every order settled)."""
    product_ids = shop.product_ids()  # the catalog the shop has (the demo data's, unless changed since)
    report = Report(invoices=len(invoices))
    lock = threading.Lock()
    orders_by_customer: dict[str, list[tuple[str, dict[str, int]]]] = defaultdict(list)
    tokens: dict[str, str] = {}

    def token_for(customer: str) -> str:
        with lock:
            if customer in tokens:
                return tokens[customer]
        token = shop.customer_token(customer)
        with lock:
            tokens[customer] = token
        return token

    def pay(receipt: dict[str, Any], token: str) -> None:
        """The buyer at PayPal. An order settled before PayPal ever had it (no stock) is its outcome, not an error."""
        order_id = str(receipt["orderId"])

        def settled() -> str | None:
            r = shop.call("GET", f"/orders/{order_id}", token)
            status = str(r.json().get("status")) if r.status_code == 200 else ""
            return f"order {status} before PayPal" if status in TERMINAL else None

        paid = pay_with_paypal(shop.http, str(receipt["payment"]["approvalUrl"]), gave_up=settled)
        with lock:
            if paid.status is not None:
                report.paypal_returns[paid.status] += 1
            elif paid.problem is not None and not paid.problem.endswith("before PayPal"):
                report.errors[f"paypal: {paid.problem}"] += 1

    def place(invoice: Invoice) -> None:
        token = token_for(invoice.customer)
        shop.call("DELETE", "/cart", token)
        skus: dict[str, int] = {}
        for line in invoice.lines:
            pid = product_ids.get(line.sku)
            if pid is None or line.quantity <= 0:
                with lock:
                    report.lines_skipped_unknown_product += 1
                continue
            quantity = min(99, skus.get(line.sku, 0) + line.quantity)
            r = shop.call("PUT", f"/cart/items/{pid}", token, json={"quantity": quantity})
            if r.status_code >= 300:
                with lock:
                    report.errors[f"cart {r.status_code}"] += 1
                continue
            skus[line.sku] = quantity
        if not skus:
            return
        started = time.monotonic()
        method = "paypal" if pays_with_paypal(invoice.number, paypal_share) else payment_method
        r = _checkout(shop, token, invoice, method)
        if r.status_code == 422 and str(r.json().get("type", "")).endswith("/products-unavailable"):
            # Told "only N left" before paying, a customer buys what is left and drops what is gone.
            skus = _buy_what_is_left(shop, token, skus, r.json().get("unavailable") or [])
            with lock:
                report.lines_cut_for_stock += len(r.json().get("unavailable") or [])
            if not skus:
                with lock:
                    report.refused_out_of_stock += 1
                return
            r = _checkout(shop, token, invoice, method, attempt=2)
        if r.status_code != 202:
            problem = str(r.json().get("type", "")).rsplit("/", 1)[-1] if r.status_code in (400, 409, 422) else ""
            with lock:  # idempotency-key-reused: an earlier run paid this invoice by the other method
                report.errors[f"checkout {r.status_code} {problem}".strip()] += 1
            return
        order_id = str(r.json()["orderId"])
        if method == "paypal":
            pay(r.json(), token)
        outcome = shop.wait_settled(order_id, token, settle_s)
        with lock:
            report.orders_placed += 1
            report.outcomes[outcome] += 1
            report.by_method[f"{'paypal' if method == 'paypal' else 'card'} {outcome}"] += 1
            report.checkout_to_terminal_s.append(time.monotonic() - started)
            if outcome in ("PAID", "SHIPPED", "DELIVERED"):
                orders_by_customer[invoice.customer].append((order_id, skus))

    def cancel(invoice: Invoice) -> None:
        with lock:
            report.cancellations += 1
            candidates = list(orders_by_customer.get(invoice.customer, []))
        for line in invoice.lines:
            match = next((oid for oid, skus in reversed(candidates) if line.sku in skus), None)
            if match is None:
                with lock:
                    report.cancellations_unmatched += 1
                continue
            amount = abs(line.quantity) * line.unit_pence
            r = shop.call(
                "POST",
                f"/admin/orders/{match}/refund",
                shop.admin_token(),
                headers={"Idempotency-Key": f"replay-{invoice.number}-{line.sku}"},
                json={"amount": amount, "reason": f"replayed cancellation {invoice.number}"},
            )
            with lock:
                if r.status_code in (200, 201, 202):
                    report.refunds += 1
                    report.refunded_pence += amount
                    report.refunded[match] += amount
                else:
                    report.errors[f"refund {r.status_code}"] += 1

    started = time.monotonic()
    # Invoices of one customer stay in order (a cancellation after its order); customers run side by side.
    by_customer: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_customer[invoice.customer].append(invoice)

    def run_customer(items: list[Invoice]) -> None:
        for invoice in items:
            try:
                (cancel if invoice.cancellation else place)(invoice)
            except Exception as exc:  # noqa: BLE001 - one invoice's failure is counted, the replay goes on
                with lock:
                    report.errors[type(exc).__name__] += 1

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run_customer, by_customer.values()))
    report.seconds = time.monotonic() - started
    return report


def customers_with_returns(invoices: list[Invoice], customers: int) -> list[Invoice]:
    """Every invoice of the first ``customers`` customers (by the date of that cancellation) who cancel a product
    they bought in an earlier invoice, in date order."""
    bought: dict[str, set[str]] = defaultdict(set)
    chosen: list[str] = []
    for invoice in invoices:
        if not invoice.cancellation:
            bought[invoice.customer].update(line.sku for line in invoice.lines)
        elif invoice.customer not in chosen and any(line.sku in bought[invoice.customer] for line in invoice.lines):
            chosen.append(invoice.customer)
            if len(chosen) == customers:
                break
    wanted = set(chosen)
    return [i for i in invoices if i.customer in wanted]


def run(args: argparse.Namespace) -> int:
    """``gears replay`` (its options are in :mod:`gears.cli`)."""
    from gears.cli import running_shop

    state = running_shop(Path(args.state_dir))
    shop = Shop(state["api"], Path(state["mailbox"]), (state["admin"]["email"], state["admin"]["password"]))
    invoices = read_invoices(Path(args.csv) if args.csv else DEFAULT_CSV)
    invoices = customers_with_returns(invoices, args.returns) if args.returns else invoices[: args.limit]
    print(f"replaying {len(invoices)} invoices with {args.workers} workers...", flush=True)
    print(replay(shop, invoices, workers=args.workers, paypal_share=args.paypal).text())
    return 0


if __name__ == "__main__":
    from gears.cli import main

    sys.exit(main(["replay", *sys.argv[1:]]))
