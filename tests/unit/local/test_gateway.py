"""The local gateway routes, builds payload 2.0 events and maps responses the way API Gateway does."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gears.local.authorizer import Denied
from gears.local.gateway import MAX_BODY_BYTES, Cors, Gateway, Route
from gears.local.workers import InvokeResult


class Recorder:
    def __init__(self, reply: Any = None, error: dict[str, Any] | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.reply = reply
        self.error = error

    def __call__(self, function: str, event: dict[str, Any]) -> InvokeResult:
        self.events.append((function, event))
        reply = self.reply if self.reply is not None else {"statusCode": 200, "body": json.dumps({"fn": function})}
        return InvokeResult(request_id="r", payload=reply, error=self.error)


class FakeAuthorizer:
    def authorize(self, headers: dict[str, str], scopes: list[str] | None = None) -> dict[str, Any]:
        if headers.get("authorization") != "Bearer good":
            raise Denied("bad")
        return {"sub": "u1", "cognito:groups": ["admin", "customer"], "exp": 9999999999}


ROUTES = [
    Route("GET", "/products", "List", None),
    Route("GET", "/products/{productId}", "Get", None),
    Route("GET", "/products/featured", "Featured", None),
    Route("POST", "/products", "Create", "jwt"),
    Route("ANY", "/files/{proxy+}", "Files", None),
    Route("GET", "/me", "Me", "jwt"),
]


def gateway(invoke: Recorder, **kw: Any) -> Gateway:
    return Gateway(ROUTES, invoke, {"jwt": FakeAuthorizer()}, **kw)  # type: ignore[dict-item]


def test_literal_segments_beat_parameters_and_greedy_paths_match_the_rest() -> None:
    rec = Recorder()
    gw = gateway(rec)
    gw.handle("GET", "/products/featured", {}, b"", "1.2.3.4")
    gw.handle("GET", "/products/p-1", {}, b"", "1.2.3.4")
    gw.handle("DELETE", "/files/a/b/c.txt", {}, b"", "1.2.3.4")
    assert [fn for fn, _ in rec.events] == ["Featured", "Get", "Files"]
    assert rec.events[1][1]["pathParameters"] == {"productId": "p-1"}
    assert rec.events[2][1]["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_unknown_route_or_method_is_404_without_invoking() -> None:
    rec = Recorder()
    gw = gateway(rec)
    assert gw.handle("GET", "/nothing", {}, b"", "ip").status == 404
    assert gw.handle("PATCH", "/products", {}, b"", "ip").status == 404
    assert rec.events == []


def test_payload_2_event_has_the_documented_shape() -> None:
    rec = Recorder()
    gateway(rec).handle(
        "GET",
        "/products?category=mugs&tag=a&tag=b",
        {"User-Agent": "curl", "Cookie": "a=1; b=2", "X-Multi": "1"},
        b"",
        "10.0.0.9",
    )
    event = rec.events[0][1]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /products"
    assert event["rawPath"] == "/products"
    assert event["rawQueryString"] == "category=mugs&tag=a&tag=b"
    assert event["queryStringParameters"] == {"category": "mugs", "tag": "a,b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["user-agent"] == "curl"
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/products",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.9",
        "userAgent": "curl",
    }
    assert event["requestContext"]["stage"] == "$default"
    assert "authorizer" not in event["requestContext"]
    assert event["isBase64Encoded"] is False


def test_protected_route_without_a_good_token_is_401_and_never_invoked() -> None:
    rec = Recorder()
    gw = gateway(rec)
    assert gw.handle("POST", "/products", {}, b"{}", "ip").status == 401
    assert gw.handle("POST", "/products", {"authorization": "Bearer bad"}, b"{}", "ip").status == 401
    assert rec.events == []


def test_claims_reach_the_function_flattened_as_api_gateway_flattens_them() -> None:
    rec = Recorder()
    gateway(rec).handle("GET", "/me", {"authorization": "Bearer good"}, b"", "ip")
    claims = rec.events[0][1]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[admin customer]"
    assert claims["exp"] == "9999999999"


def test_binary_bodies_are_base64_encoded() -> None:
    rec = Recorder()
    gateway(rec).handle("POST", "/files/x", {}, b"\xff\xfe\x00", "ip")
    event = rec.events[0][1]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_response_mapping() -> None:
    plain = gateway(Recorder(reply={"hello": "world"})).handle("GET", "/products", {}, b"", "ip")
    assert (plain.status, json.loads(plain.body)) == (200, {"hello": "world"})
    encoded = gateway(
        Recorder(
            reply={
                "statusCode": 201,
                "body": base64.b64encode(b"raw").decode(),
                "isBase64Encoded": True,
                "headers": {"X-A": "1"},
                "cookies": ["s=1"],
            }
        )
    ).handle("GET", "/products", {}, b"", "ip")
    assert (encoded.status, encoded.body, encoded.headers["x-a"], encoded.cookies) == (201, b"raw", "1", ["s=1"])


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ({"errorType": "ValueError", "errorMessage": "x"}, 500),
        ({"errorType": "Sandbox.Timedout", "errorMessage": "t"}, 503),
    ],
)
def test_function_errors_become_gateway_errors(error: dict[str, Any], status: int) -> None:
    response = gateway(Recorder(error=error)).handle("GET", "/products", {}, b"", "ip")
    assert response.status == status
    assert "message" in json.loads(response.body)


def test_oversized_body_is_413_before_the_function() -> None:
    rec = Recorder()
    assert gateway(rec).handle("POST", "/files/x", {}, b"x" * (MAX_BODY_BYTES + 1), "ip").status == 413
    assert rec.events == []


def test_route_throttling_answers_429_past_the_burst() -> None:
    rec = Recorder()
    routes = [Route("GET", "/products", "List", None, throttle=(0.001, 3))]
    gw = Gateway(routes, rec, {})
    statuses = [gw.handle("GET", "/products", {}, b"", "ip").status for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_cors_preflight_and_response_headers() -> None:
    cors = Cors(["https://shop.example"], ["GET", "POST"], ["authorization", "content-type"], ["etag"], 600, False)
    rec = Recorder()
    gw = gateway(rec, cors=cors)
    pre = gw.handle(
        "OPTIONS", "/products", {"origin": "https://shop.example", "access-control-request-method": "POST"}, b"", "ip"
    )
    assert pre.status == 204
    assert pre.headers["access-control-allow-origin"] == "https://shop.example"
    assert rec.events == []  # preflight never reaches a function, nor the authorizer
    denied = gw.handle(
        "OPTIONS", "/products", {"origin": "https://evil.example", "access-control-request-method": "POST"}, b"", "ip"
    )
    assert "access-control-allow-origin" not in denied.headers
    normal = gw.handle("GET", "/products", {"origin": "https://shop.example"}, b"", "ip")
    assert normal.headers["access-control-allow-origin"] == "https://shop.example"
    assert normal.headers["access-control-expose-headers"] == "etag"


def test_until_the_shop_is_ready_every_request_is_503_with_retry_after() -> None:
    rec = Recorder()
    gw = gateway(rec, ready=False)
    starting = gw.handle("GET", "/products", {}, b"", "1.2.3.4")
    assert starting.status == 503
    assert starting.headers["retry-after"] == "2"
    assert json.loads(starting.body)["message"].startswith("Service Unavailable")
    assert rec.events == []
    gw.ready.set()
    assert gw.handle("GET", "/products", {}, b"", "1.2.3.4").status == 200


@pytest.fixture
def served() -> Any:
    from gears.local.gateway import serve

    server = serve(gateway(Recorder()), "127.0.0.1", 0)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                headers = dict(
                    line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
                )
                if len(body) >= int(headers.get("content-length", "0")):
                    return int(head.split()[1]), headers, body
    raise AssertionError(f"no full answer: {data!r}")


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT"])
def test_a_method_no_route_takes_is_the_gateways_json_404(served: int, method: str) -> None:
    status, headers, body = _raw(served, f"{method} /products HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Not Found"}


def test_a_method_on_a_route_that_takes_any_reaches_it(served: int) -> None:
    status, _, body = _raw(served, b"TRACE /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200
    assert json.loads(body) == {"fn": "Files"}


def test_too_long_a_request_line_or_too_many_headers_is_json_not_html(served: int) -> None:
    status, headers, body = _raw(served, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, headers["content-type"]) == (414, "application/json")
    assert json.loads(body)["message"]
    many = "".join(f"X-H{i}: v\r\n" for i in range(150))
    status, headers, body = _raw(served, f"GET /products HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert (status, headers["content-type"]) == (431, "application/json")
    assert json.loads(body)["message"]
