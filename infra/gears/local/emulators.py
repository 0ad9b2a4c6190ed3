"""What the local payment providers' endpoints (:mod:`gears.local.stripe_emulator`,
:mod:`gears.local.paypal_emulator`) have in common, written once: their faults, their webhook outbox (a background
sender, held and released as an endpoint that is down, retried with backoff), their HTTP server, and the client of
their control API. Each emulator keeps what is its provider's own: the wire format, the objects, the signatures.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

DEFAULT_TIMEOUT_DELAY_S = 30.0


@dataclass
class Delivery:
    """How one webhook event's delivery went."""

    event_id: str
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    delivered: bool = False


@dataclass
class Idempotent:
    """A request kept under its idempotency key: its answer, once ``done``."""

    fingerprint: str = ""
    status: int = 0
    body: bytes = b""
    done: threading.Event = field(default_factory=threading.Event)


class Faults:
    """The next ``count`` API calls fail: ``error`` (answered 500 without doing anything) or ``timeout`` (done, then
    the answer hangs ``delay`` seconds)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode: str | None = None
        self.count = 0
        self.delay = DEFAULT_TIMEOUT_DELAY_S

    def arm(self, mode: str | None, count: int, delay: float | None) -> dict[str, Any]:
        with self.lock:
            self.mode = mode if mode and count > 0 else None
            self.count = count if self.mode else 0
            if delay is not None:
                self.delay = delay
            return {"mode": self.mode, "count": self.count, "delay": self.delay}

    def take(self) -> str | None:
        with self.lock:
            if not self.mode or self.count <= 0:
                return None
            self.count -= 1
            mode = self.mode
            if self.count == 0:
                self.mode = None
            return mode

    def clear(self) -> None:
        self.arm(None, 0, None)


class WebhookOutbox:
    """Events waiting to be POSTed to the shop, one at a time, in order, from a background thread: each tried
    ``attempts`` times with ``backoff`` between; all held while the endpoint is "down" (:meth:`hold`)."""

    def __init__(self, deliver: Callable[[str], Delivery], name: str, attempts: int, backoff: Sequence[float]) -> None:
        self.deliver = deliver
        self.attempts, self.backoff = attempts, tuple(backoff)
        self.closing = threading.Event()
        self.released = threading.Event()  # webhooks go out while set; held while clear
        self.released.set()
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.sender = threading.Thread(target=self._send_loop, name=name, daemon=True)
        self.sender.start()

    def put(self, event_id: str) -> None:
        self.queue.put(event_id)

    def hold(self, held: bool) -> dict[str, bool]:
        (self.released.clear if held else self.released.set)()
        return {"hold": not self.released.is_set()}

    def _send_loop(self) -> None:
        while not self.closing.is_set():
            event_id = self.queue.get()
            if event_id is None:
                return
            while not self.released.wait(0.5):  # held: the endpoint is down
                if self.closing.is_set():
                    return
            for attempt in range(self.attempts):
                if self.closing.is_set():
                    return
                if self.deliver(event_id).delivered:
                    break
                if attempt < self.attempts - 1:
                    self.closing.wait(self.backoff[min(attempt, len(self.backoff) - 1)])

    def close(self) -> None:
        self.closing.set()
        self.released.set()
        self.queue.put(None)


class EmulatorHandler(BaseHTTPRequestHandler):
    """One emulator request: keep-alive, no Nagle delay, no access log; GET and POST go to ``_handle`` (an
    emulator that speaks another method adds its own ``do_...``)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # otherwise every small answer waits ~40 ms for the client's delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _handle(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class EmulatorState(Protocol):
    def close(self) -> None: ...


class EmulatorServer(ThreadingHTTPServer):
    """A threaded server of one emulator's ``state``; closing it closes the state (its webhook sender)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], state: Any) -> None:
        super().__init__(address, handler)
        self.state = state

    def server_close(self) -> None:
        self.state.close()
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up and closed its connection (a timeout fault's client) is not an error here."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def serve(server: EmulatorServer, name: str) -> tuple[EmulatorServer, str]:
    """Serve on a background thread; the server and its base URL (stop: ``shutdown()``, ``server_close()``)."""
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server, server.base_url


@dataclass(frozen=True)
class ControlClient:
    """A client of a running emulator's control API (``<base>/_emulator/``): what it holds, and its faults."""

    base: str

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        url = self.base.rstrip("/") + "/_emulator/" + path
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the local emulator, on loopback
            return json.loads(answer.read())

    def hold_webhooks(self, hold: bool) -> dict[str, Any]:
        """Hold every webhook (the endpoint is down) or release them, in order."""
        return dict(self.control("POST", "webhooks/hold", {"hold": hold}))

    def set_fault(self, mode: str, count: int, delay: float | None = None) -> dict[str, Any]:
        """Arm ``count`` faults (``error``: answer 500; ``timeout``: do the work, then hang); what is now armed."""
        body: dict[str, Any] = {"mode": mode, "count": count}
        if delay is not None:
            body["delay"] = delay
        return dict(self.control("POST", "faults", body))
