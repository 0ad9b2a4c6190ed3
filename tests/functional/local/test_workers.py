"""Workers run a function as Lambda would: isolated, warm between calls, timed out, and with only its bundle."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gears.local.template import Template
from gears.local.workers import FunctionPool, FunctionSpec, allowed_modules

FIXTURE = Path(__file__).parent / "fixture"


@pytest.fixture
def pool() -> Iterator[FunctionPool]:
    template = Template(FIXTURE / "template.yaml")
    fn = template.functions()["Probe"]
    layer = template.layers()["Layer"]
    spec = FunctionSpec(
        name="Probe",
        handler=fn.handler,
        code_uri=fn.code_uri,
        layers=[layer.content_uri],
        environment={"ONLY_THIS": "yes", "PATH": "/usr/bin:/bin"},
        timeout_s=fn.timeout,
        memory_mb=fn.memory,
        allowed_modules=allowed_modules([fn.requirements, layer.requirements]),
    )
    lines: list[str] = []
    p = FunctionPool(spec, lambda _name, line: lines.append(line), max_concurrency=2)
    p.lines = lines  # type: ignore[attr-defined]
    yield p
    p.close()


def test_the_function_sees_only_its_own_environment_code_and_layers(pool: FunctionPool) -> None:
    os.environ["GEARS_HOST_SECRET"] = "must-not-leak"
    try:
        result = pool.invoke({})
    finally:
        del os.environ["GEARS_HOST_SECRET"]
    assert result.ok, result.error
    env = result.payload["env"]
    assert env["ONLY_THIS"] == "yes"
    assert "GEARS_HOST_SECRET" not in env
    paths = result.payload["sys_path"]
    assert paths[0] == str(FIXTURE / "fn")
    assert str((FIXTURE / "../../../../shared").resolve()) in paths
    assert not any(p.endswith(("/infra", "/tests")) or p == str(Path.cwd()) for p in paths)
    assert result.payload["cwd"] == str(FIXTURE / "fn")
    assert result.payload["function_name"] == "Probe"
    assert result.payload["memory"] == 256
    assert 0 < result.payload["remaining_ms"] <= 2000


def test_warm_invocations_reuse_the_worker_and_only_the_first_is_cold(pool: FunctionPool) -> None:
    first, second = pool.invoke({}), pool.invoke({})
    assert first.cold
    assert first.init_ms is not None
    assert not second.cold
    assert second.init_ms is None
    assert first.payload["pid"] == second.payload["pid"]
    assert first.payload["loaded_at"] == second.payload["loaded_at"]  # module state survives, as on Lambda
    reports = [line for line in pool.lines if line.startswith("REPORT")]  # type: ignore[attr-defined]
    assert len(reports) == 2
    assert "Init Duration" in reports[0]
    assert "Init Duration" not in reports[1]


def test_imports_outside_the_bundle_fail_as_on_lambda(pool: FunctionPool) -> None:
    assert pool.invoke({"action": "import", "module": "pydantic"}).ok  # from the layer's requirements
    assert pool.invoke({"action": "import", "module": "boto3"}).ok  # shipped by the Lambda runtime
    for module in ("moto", "pytest", "gears", "requests"):
        result = pool.invoke({"action": "import", "module": module})
        assert not result.ok, module
        assert result.error["errorType"] == "ModuleNotFoundError"
        assert "not in this function's bundle" in result.error["errorMessage"]


def test_timeout_kills_the_worker_and_the_next_call_is_cold_again(pool: FunctionPool) -> None:
    before = pool.invoke({})
    slow = pool.invoke({"action": "sleep", "seconds": 5})
    assert slow.error
    assert slow.error["errorType"] == "Sandbox.Timedout"
    after = pool.invoke({})
    assert after.ok
    assert after.cold
    assert after.payload["pid"] != before.payload["pid"]


def test_a_crashed_worker_is_replaced(pool: FunctionPool) -> None:
    crash = pool.invoke({"action": "crash"})
    assert crash.error
    assert crash.error["errorType"] == "Runtime.ExitError"
    assert pool.invoke({}).ok


def test_stdout_goes_to_the_function_log(pool: FunctionPool) -> None:
    assert pool.invoke({"action": "print"}).ok
    assert "hello from the probe" in pool.lines  # type: ignore[attr-defined]


@pytest.fixture
def aws_stub() -> Iterator[tuple[str, list[str]]]:
    """An endpoint that answers every AWS JSON call with ``{}`` and remembers which operations reached it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target")
            seen.append(str(target).rsplit(".", 1)[-1] if target else f"POST {self.path.split('?')[0]}")
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_an_armed_crash_kills_the_worker_right_after_the_nth_matching_call(
    pool: FunctionPool, aws_stub: tuple[str, list[str]]
) -> None:
    url, seen = aws_stub
    pool.spec.environment.update(
        AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    ops = ["list_tables", "describe_limits", "list_tables", "describe_limits", "list_tables"]
    event = {"action": "aws", "operations": ops}
    crash = {"id": "f1", "after": "dynamodb:DescribeLimits", "calls": 2}

    crashed = pool.invoke(event, crash=crash)
    assert crashed.error is not None
    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert seen == ["ListTables", "DescribeLimits", "ListTables", "DescribeLimits"]  # the 2nd happened, nothing after
    assert any("[gears fault f1] the worker dies after dynamodb:DescribeLimits" in line for line in pool.lines)  # type: ignore[attr-defined]

    seen.clear()
    again = pool.invoke(event)  # a fresh worker, unarmed: the whole invocation runs
    assert again.ok, again.error
    assert again.cold
    assert len(seen) == len(ops)

    seen.clear()
    spared = pool.invoke(event, crash={"id": "f2", "after": "dynamodb:DescribeLimits", "calls": 3})
    assert spared.ok  # fewer matching calls than it waits for: the invocation ends normally
    assert pool.invoke(event).ok  # and the next one is not armed by what was left of it


def test_an_armed_crash_can_strike_right_after_a_call_to_a_provider_not_only_to_aws(
    pool: FunctionPool, aws_stub: tuple[str, list[str]]
) -> None:
    """Charged, then died before recording it: a crash after ``http:...`` (a payment provider's API) is inducible,
    and an AWS call's own HTTP request is counted once, as the AWS call."""
    url, seen = aws_stub
    pool.spec.environment.update(
        AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    event = {"action": "steps", "steps": ["list_tables", "/v1/payment_intents", "describe_limits"]}

    crashed = pool.invoke(event, crash={"id": "p1", "after": "http:POST /v1/payment_intents", "calls": 1})
    assert crashed.error is not None
    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert seen == ["ListTables", "POST /v1/payment_intents"]  # the provider was called; what follows never ran
    assert any("dies after http:POST /v1/payment_intents" in line for line in pool.lines)  # type: ignore[attr-defined]

    seen.clear()
    crashed = pool.invoke(event, crash={"id": "p2", "after": "*", "calls": 2})  # the AWS call, then the provider's
    assert crashed.error is not None
    assert seen == ["ListTables", "POST /v1/payment_intents"]
