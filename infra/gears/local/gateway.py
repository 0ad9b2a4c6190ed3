"""The local API gateway: every HttpApi route of the template, served the way API Gateway (HTTP API) serves it.

- Routes come from the functions' ``HttpApi`` events; the most specific route wins (literal segments over
  ``{param}`` over ``{proxy+}``), then ``ANY``, then ``$default``.
- Each request becomes a payload format 2.0 event; the integration's answer is mapped back the 2.0 way.
- The JWT authorizer (the API's default, unless a route says ``Authorizer: NONE``) runs before the function.
- CORS preflight is answered by the gateway, route throttling is a token bucket per route (429), bodies over
  10 MB are refused (413), and an integration that fails or times out gives 500 / 503, with API Gateway's bodies.
- Every answer the gateway makes itself is API Gateway's JSON ``{"message": ...}``: a method no route takes
  (``TRACE``, ``PROPFIND``...) is a 404 like any unknown route, and a request line or headers too long are 414 / 431,
  never an HTML page or a 5xx.
- Until the shop is ready (demo data loaded) every request is a 503 with ``Retry-After``, so nobody reads an empty
  catalog as the truth.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from gears.local.authorizer import Denied, JwtAuthorizer
from gears.local.http_events import http_api_event
from gears.local.static_site import StaticSite
from gears.local.workers import InvokeResult

MAX_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 30.0
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

Invoker = Callable[[str, dict[str, Any]], InvokeResult]
AccessLog = Callable[[dict[str, Any]], None]


@dataclass
class Route:
    method: str  # GET, POST, ..., or ANY
    path: str  # /products/{productId}, /files/{proxy+}, or $default
    function: str
    authorizer: str | None  # None: public
    scopes: list[str] = field(default_factory=list)
    throttle: tuple[float, float] | None = None  # (rate per second, burst)

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def __post_init__(self) -> None:
        self.segments = [] if self.path == "$default" else self.path.strip("/").split("/") if self.path != "/" else []

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(parts):
                    return None
                params[seg[1:-2]] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                if not parts[i]:
                    return None
                params[seg[1:-1]] = parts[i]
            elif seg != parts[i]:
                return None
        return params if len(parts) == len(self.segments) else None

    def rank(self) -> tuple[int, ...]:
        """Sort key: literal segments first, then parameters, greedy last; specific methods before ANY."""
        ranks = [0 if not s.startswith("{") else (2 if s.endswith("+}") else 1) for s in self.segments]
        return (*ranks, 9, 1 if self.method == "ANY" else 0)


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, max(burst, 1.0)
        self.tokens, self.at = self.burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass
class Cors:
    allow_origins: list[str]
    allow_methods: list[str]
    allow_headers: list[str]
    expose_headers: list[str]
    max_age: int | None
    allow_credentials: bool

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> Cors | None:
        if not cfg:
            return None
        if cfg is True:
            cfg = {"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
        return cls(
            allow_origins=list(cfg.get("AllowOrigins") or []),
            allow_methods=[m.upper() for m in cfg.get("AllowMethods") or []],
            allow_headers=[h.lower() for h in cfg.get("AllowHeaders") or []],
            expose_headers=list(cfg.get("ExposeHeaders") or []),
            max_age=cfg.get("MaxAge"),
            allow_credentials=bool(cfg.get("AllowCredentials")),
        )

    def origin_allowed(self, origin: str) -> str | None:
        if "*" in self.allow_origins:
            return origin if self.allow_credentials else "*"
        return origin if origin in self.allow_origins else None

    def preflight(self, origin: str, method: str, req_headers: str) -> dict[str, str] | None:
        allowed = self.origin_allowed(origin)
        if not allowed or ("*" not in self.allow_methods and method.upper() not in self.allow_methods):
            return None
        headers = {"access-control-allow-origin": allowed}
        headers["access-control-allow-methods"] = ",".join(self.allow_methods)
        asked = [h.strip().lower() for h in req_headers.split(",") if h.strip()]
        if "*" in self.allow_headers:
            headers["access-control-allow-headers"] = ",".join(asked) or "*"
        else:
            headers["access-control-allow-headers"] = ",".join(self.allow_headers)
        if self.max_age is not None:
            headers["access-control-max-age"] = str(self.max_age)
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers

    def response_headers(self, origin: str) -> dict[str, str]:
        allowed = self.origin_allowed(origin)
        if not allowed:
            return {}
        headers = {"access-control-allow-origin": allowed}
        if self.expose_headers:
            headers["access-control-expose-headers"] = ",".join(self.expose_headers)
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)


def _message(status: int, text: str, extra: dict[str, str] | None = None) -> GatewayResponse:
    return GatewayResponse(
        status, {"content-type": "application/json", **(extra or {})}, json.dumps({"message": text}).encode()
    )


class Gateway:
    """Routing, authorization, throttling and the 2.0 payload mapping; the HTTP server is around it."""

    def __init__(
        self,
        routes: list[Route],
        invoke: Invoker,
        authorizers: dict[str, JwtAuthorizer],
        cors: Cors | None = None,
        access_log: AccessLog | None = None,
        api_id: str = "local",
        ready: bool = True,
        site: StaticSite | None = None,
    ) -> None:
        self.routes = sorted((r for r in routes if r.path != "$default"), key=Route.rank)
        self.default = next((r for r in routes if r.path == "$default"), None)
        self.invoke = invoke
        self.authorizers = authorizers
        self.cors = cors
        self.access_log = access_log
        self.api_id = api_id
        self.buckets = {r.key: TokenBucket(*r.throttle) for r in routes if r.throttle}
        self.site = site  # the storefront and console's files, at the paths no route takes
        self.ready = threading.Event()  # the runtime opens the gateway once the shop is ready
        if ready:
            self.ready.set()

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        for route in self.routes:
            if route.method in (method, "ANY"):
                params = route.match(parts)
                if params is not None:
                    return route, params
        return (self.default, {}) if self.default else None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str) -> GatewayResponse:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:20]
        url = urlsplit(target)
        path = re.sub("/+", "/", url.path) or "/"
        lower = {k.lower(): v for k, v in headers.items()}
        origin = lower.get("origin", "")
        route_key = "-"
        try:
            response, route_key = self._handle(method, path, url.query, lower, body, source_ip, request_id, origin)
        except Exception as exc:  # noqa: BLE001 - the gateway answers, whatever a bug in it did
            response = _message(500, "Internal Server Error")
            response.headers["x-gears-gateway-error"] = type(exc).__name__
        if self.cors and origin and method != "OPTIONS":
            response.headers.update(self.cors.response_headers(origin))
        response.headers["apigw-requestid"] = request_id
        if self.access_log:
            self.access_log(
                {
                    "requestId": request_id,
                    "ip": source_ip,
                    "method": method,
                    "path": path,
                    "routeKey": route_key,
                    "status": response.status,
                    "latencyMs": round((time.perf_counter() - started) * 1000, 2),
                    "responseLength": len(response.body),
                }
            )
        return response

    def _handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        request_id: str,
        origin: str,
    ) -> tuple[GatewayResponse, str]:
        if method == "OPTIONS" and self.cors and origin and "access-control-request-method" in headers:
            cors = self.cors.preflight(
                origin, headers["access-control-request-method"], headers.get("access-control-request-headers", "")
            )
            return GatewayResponse(204, cors or {}, b""), "OPTIONS (CORS preflight)"
        found = self.find(method, path)
        page = None if found else self._page(method, path)
        if page:  # the pages load while the shop starts; what they ask of the API waits for it
            return page, "static"
        if not self.ready.is_set():
            return _message(503, "Service Unavailable: the shop is starting", {"retry-after": "2"}), "-"
        if not found:
            return _message(404, "Not Found"), "-"
        route, params = found
        if len(body) > MAX_BODY_BYTES:
            return _message(413, "Request Entity Too Large"), route.key
        bucket = self.buckets.get(route.key)
        if bucket and not bucket.take():
            return _message(429, "Too Many Requests"), route.key
        claims, refused = self._authorize(route, headers)
        if refused:
            return refused, route.key
        event = http_api_event(
            method,
            path,
            route_key=route.key,
            path_parameters=params or None,
            query=query,
            headers=headers,
            body=body if body else None,
            claims=claims,
            source_ip=source_ip,
            request_id=request_id,
            api_id=self.api_id,
        )
        if route.scopes and claims is not None:
            event["requestContext"]["authorizer"]["jwt"]["scopes"] = route.scopes
        result = self.invoke(route.function, event)
        return self._integration_response(result), route.key

    def _authorize(self, route: Route, headers: dict[str, str]) -> tuple[dict[str, Any] | None, GatewayResponse | None]:
        """The token's claims for a route with an authorizer (``None`` for a public one), or the refusal."""
        if not route.authorizer:
            return None, None
        try:
            return self.authorizers[route.authorizer].authorize(headers, route.scopes), None
        except Denied as denied:
            if denied.status == 403:
                return None, _message(403, "Forbidden")
            return None, _message(401, "Unauthorized", {"www-authenticate": 'Bearer error="invalid_token"'})

    def _page(self, method: str, path: str) -> GatewayResponse | None:
        """One of the storefront's files, at a path no route takes."""
        answer = self.site.answer(method, path) if self.site else None
        return GatewayResponse(*answer) if answer else None

    @staticmethod
    def _integration_response(result: InvokeResult) -> GatewayResponse:
        if result.error:
            if result.error.get("errorType") == "Sandbox.Timedout":
                return _message(503, "Service Unavailable")
            return _message(500, "Internal Server Error")
        payload = result.payload
        if not isinstance(payload, dict) or "statusCode" not in payload:
            # 2.0: anything that is not a response object is a 200 JSON body.
            return GatewayResponse(200, {"content-type": "application/json"}, json.dumps(payload).encode())
        try:
            status = int(payload["statusCode"])
        except (TypeError, ValueError):
            return _message(500, "Internal Server Error")
        headers = {str(k).lower(): str(v) for k, v in (payload.get("headers") or {}).items()}
        for k, values in (payload.get("multiValueHeaders") or {}).items():
            headers[str(k).lower()] = ",".join(str(v) for v in values)
        raw = payload.get("body")
        if raw is None:
            body = b""
        elif payload.get("isBase64Encoded"):
            body = base64.b64decode(raw)
        else:
            body = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
        return GatewayResponse(status, headers, body, list(payload.get("cookies") or []))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gears-local-gateway"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK holds the body ~40 ms.
    disable_nagle_algorithm = True
    gateway: Gateway

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # the gateway writes its own access log

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            response = _message(413, "Request Entity Too Large")
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for k, v in self.headers.items():
                key = k.lower()
                headers[key] = f"{headers[key]},{v}" if key in headers else v
            response = self.gateway.handle(self.command, self.path, headers, body, self.client_address[0])
        self.send_response(response.status)
        for k, v in response.headers.items():
            if k not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        for cookie in response.cookies:
            self.send_header("set-cookie", cookie)
        payload = b"" if self.command == "HEAD" else response.body
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib answers a method it has no ``do_`` for (501), a request line too long (414) and headers
        too many or too long (431) with an HTML page: answer them as API Gateway does instead."""
        if code == 501 and getattr(self, "command", None):
            self._serve()  # no route takes this method: the gateway's own 404
            return
        response = _message(code, HTTPStatus(code).phrase)
        self.close_connection = True
        self.send_response(code)
        for k, v in response.headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(response.body)))
        self.send_header("connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(response.body)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def serve(gateway: Gateway, host: str, port: int) -> GatewayServer:
    handler = type("GearsGatewayHandler", (_Handler,), {"gateway": gateway})
    server = GatewayServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
    return server
