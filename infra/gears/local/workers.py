"""Lambda-like execution environments: one isolated worker process per concurrent invocation of a function.

Each function gets a pool. An invocation takes a warm idle worker, or starts a new one (a cold start: the handler
module is imported, and that time is reported as Init Duration). A worker sees only its function's environment,
CodeUri and layers (see ``bootstrap.py``), its timeout is enforced by killing it, as Lambda does, and every
invocation ends with a REPORT line in the function's log.
"""

from __future__ import annotations

import json
import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

HERE = Path(__file__).resolve().parent
BOOTSTRAP = HERE / "bootstrap.py"
CONTEXT_MODULE = HERE / "lambda_context.py"

# What the python3.11 Lambda runtime itself ships, importable without being bundled.
LAMBDA_RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
INIT_TIMEOUT_S = 10.0  # Lambda's limit on the init phase
END_MARKER = "\x00gears-end "  # written by bootstrap.py after each invocation's output
LOG_DRAIN_S = 1.0

LogSink = Callable[[str, str], None]  # (function name, line)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path) -> list[Requirement]:
    if not path.exists():
        return []
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            continue
    return out


@cache
def _module_index() -> dict[str, set[str]]:
    """Distribution name -> the top-level modules it installs."""
    index: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            index.setdefault(_norm(dist), set()).add(module)
    return index


def allowed_modules(requirement_files: Iterable[Path]) -> set[str]:
    """Top-level modules a bundle built from these requirements (plus the Lambda runtime) would contain."""
    pending: list[tuple[str, frozenset[str]]] = [(d, frozenset()) for d in LAMBDA_RUNTIME_DISTRIBUTIONS]
    for path in requirement_files:
        pending += [(r.name, frozenset(r.extras)) for r in read_requirements(path)]
    seen: set[tuple[str, frozenset[str]]] = set()
    dists: set[str] = set()
    while pending:
        name, extras = pending.pop()
        if (_norm(name), extras) in seen:
            continue
        seen.add((_norm(name), extras))
        dists.add(_norm(name))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            req = Requirement(spec)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
                pending.append((req.name, frozenset(req.extras)))
    index = _module_index()
    return {module for dist in dists for module in index.get(dist, set())}


@dataclass
class FunctionSpec:
    """What a worker needs to run one function."""

    name: str
    handler: str
    code_uri: Path
    layers: list[Path]
    environment: dict[str, str]
    timeout_s: float
    memory_mb: int
    allowed_modules: set[str]
    region: str = "us-east-1"
    account_id: str = "123456789012"
    guard: bool = True


@dataclass
class InvokeResult:
    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    init_ms: float | None = None
    max_memory_mb: int = 0
    cold: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class WorkerDied(RuntimeError):
    pass


class Worker:
    def __init__(self, spec: FunctionSpec, log: LogSink) -> None:
        self.spec = spec
        self.log = log
        env = {**spec.environment}
        config = {
            "function_name": spec.name,
            "handler": spec.handler,
            "code_uri": str(spec.code_uri),
            "layers": [str(p) for p in spec.layers],
            "allowed_modules": sorted(spec.allowed_modules),
            "memory": spec.memory_mb,
            "region": spec.region,
            "account_id": spec.account_id,
            "context_module": str(CONTEXT_MODULE),
            "guard": spec.guard,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(BOOTSTRAP), json.dumps(config)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(spec.code_uri),
        )
        assert self.proc.stdin
        assert self.proc.stdout
        assert self.proc.stderr
        self._in = self.proc.stdin
        self._out = self.proc.stdout.fileno()
        self._drained = threading.Event()
        threading.Thread(target=self._pump_log, args=(self.proc.stderr,), daemon=True).start()
        ready = self._receive(time.monotonic() + INIT_TIMEOUT_S)
        self.init_ms: float = ready["init_ms"]
        self.init_error = ready.get("error")
        self.fresh = True

    def _pump_log(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(END_MARKER):
                self._drained.set()
                continue
            self.log(self.spec.name, line)

    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks = b""
        while len(chunks) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._out], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._out, n - len(chunks))
            if not chunk:
                raise WorkerDied(f"the worker exited with code {self.proc.wait()}")
            chunks += chunk
        return chunks

    def _receive(self, deadline: float) -> dict[str, Any]:
        (size,) = struct.unpack(">I", self._read_exact(4, deadline))
        return json.loads(self._read_exact(size, deadline))

    def invoke(
        self, event: Any, request_id: str, timeout_s: float, crash: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        request = {"event": event, "request_id": request_id, "timeout_s": timeout_s}
        if crash:
            request["crash"] = crash  # gears.local.faults: die after the Nth matching AWS call
        data = json.dumps(request).encode()
        self._drained.clear()
        try:
            self._in.write(struct.pack(">I", len(data)) + data)
            self._in.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied("the worker is gone") from exc
        reply = self._receive(time.monotonic() + timeout_s)
        self._drained.wait(LOG_DRAIN_S)  # the invocation's log lines come before its END and REPORT
        return reply

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        try:
            self._in.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


@dataclass
class FunctionPool:
    """The execution environments of one function."""

    spec: FunctionSpec
    log: LogSink
    max_concurrency: int = 4
    idle: list[Worker] = field(default_factory=list)
    busy: int = 0
    invocations: int = 0
    cold_starts: int = 0

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._closed = False

    def _acquire(self) -> Worker | None:
        with self._cond:
            while not self.idle and self.busy >= self.max_concurrency:
                self._cond.wait()
            if self._closed:
                raise RuntimeError("the runtime is shutting down")
            self.busy += 1
            return self.idle.pop() if self.idle else None

    def _release(self, worker: Worker | None) -> None:
        with self._cond:
            self.busy -= 1
            if worker is not None and not self._closed:
                self.idle.append(worker)
            self._cond.notify()

    def invoke(self, event: Any, request_id: str | None = None, crash: dict[str, Any] | None = None) -> InvokeResult:
        rid = request_id or str(uuid.uuid4())
        worker = self._acquire()
        result = InvokeResult(request_id=rid)
        keep: Worker | None = None
        try:
            if worker is None:
                worker = Worker(self.spec, self.log)
                self.cold_starts += 1
            if worker.fresh:
                result.cold, result.init_ms, worker.fresh = True, worker.init_ms, False
            self.log(self.spec.name, f"START RequestId: {rid} Version: $LATEST")
            reply = worker.invoke(event, rid, self.spec.timeout_s, crash)
            result.duration_ms = reply.get("duration_ms", 0.0)
            result.max_memory_mb = reply.get("max_memory_mb", 0)
            if reply["type"] == "result":
                result.payload = reply.get("result")
            else:
                result.error = reply["error"]
            keep = worker if worker.init_error is None else None
        except TimeoutError:
            result.duration_ms = self.spec.timeout_s * 1000
            result.error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {self.spec.timeout_s:.2f} seconds",
            }
        except WorkerDied as exc:
            result.error = {"errorType": "Runtime.ExitError", "errorMessage": str(exc)}
        finally:
            if keep is None and worker is not None:
                worker.kill()
            self._release(keep)
        self.invocations += 1
        self._report(result)
        return result

    def _report(self, r: InvokeResult) -> None:
        line = (
            f"REPORT RequestId: {r.request_id}\tDuration: {r.duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, int(r.duration_ms + 0.999))} ms\tMemory Size: {self.spec.memory_mb} MB\t"
            f"Max Memory Used: {r.max_memory_mb} MB"
        )
        if r.cold and r.init_ms is not None:
            line += f"\tInit Duration: {r.init_ms:.2f} ms"
        if r.error:
            line += f"\tStatus: error ({r.error.get('errorType')})"
        self.log(self.spec.name, f"END RequestId: {r.request_id}")
        self.log(self.spec.name, line)

    def prewarm(self) -> None:
        """Start one execution environment ahead of the first request (its init still shows on first use)."""
        worker = Worker(self.spec, self.log)
        self.cold_starts += 1
        with self._cond:
            self.idle.append(worker)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers, self.idle = self.idle, []
            self._cond.notify_all()
        for w in workers:
            w.stop()
