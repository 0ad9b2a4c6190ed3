"""The inside of a local Lambda worker: runs one function's handler, as the Python Lambda runtime does.

Started as ``python -I bootstrap.py CONFIG_JSON`` with only the function's environment. ``sys.path`` holds the
function's CodeUri, its layers, the standard library and site-packages, and an import guard refuses any
third-party top-level module that the function's bundle would not contain (its requirements, its layers'
requirements, what they need in turn, and what the Lambda runtime ships), so that a missing dependency fails
here as it would on AWS. Standard library only: this file must not import anything it is guarding.

Protocol on the original stdin/stdout (4-byte big-endian length + JSON); the function's own stdout goes to
stderr, which the parent reads as the function's log.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import resource
import signal
import struct
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

END_MARKER = "\x00gears-end "


def _read(stream: Any) -> Any:
    header = stream.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack(">I", header)
    return json.loads(stream.read(size))


def _write(stream: Any, message: Any) -> None:
    data = json.dumps(message, default=str).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


class BundleGuard(importlib.abc.MetaPathFinder):
    """Refuses top-level third-party modules outside the function's bundle."""

    def __init__(self, allowed: set[str], bundle_dirs: list[str]) -> None:
        self.allowed = allowed
        self.bundle_dirs = bundle_dirs
        self.stdlib = set(sys.stdlib_module_names) | set(sys.builtin_module_names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or "." in fullname:
            return None  # submodules follow their package
        if fullname in self.stdlib or fullname in self.allowed or fullname.startswith("_"):
            return None
        if importlib.machinery.PathFinder.find_spec(fullname, self.bundle_dirs) is not None:
            return None  # the function's own code or a layer's
        raise ModuleNotFoundError(
            f"No module named '{fullname}': it is not in this function's bundle "
            "(add its distribution to the function's or a layer's requirements.txt)",
            name=fullname,
        )


def main() -> None:
    # Ctrl-C reaches the whole process group; the runtime stops its workers itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = json.loads(sys.argv[1])
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the handler's print() lands in the log, as on Lambda
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)

    bundle = [config["code_uri"], *config["layers"]]
    # Only the runtime's own paths (stdlib, site-packages) stay: no project folder that an editable install or
    # a .pth file put there.
    runtime_roots = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    sys.path[:] = bundle + [p for p in sys.path if p.startswith(runtime_roots) and "__editable__" not in p]
    if config.get("guard", True):
        sys.meta_path.insert(0, BundleGuard(set(config["allowed_modules"]), bundle))
    os.chdir(config["code_uri"])

    # Lambda's context module is loaded by path: this worker sees no project package.
    spec = importlib.util.spec_from_file_location("_gears_lambda_context", config["context_module"])
    assert spec
    assert spec.loader
    context_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(context_module)

    module_name, _, func_name = config["handler"].rpartition(".")
    started = time.perf_counter()
    init_error = None
    handler = None
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
    except BaseException as exc:  # noqa: BLE001 - an init failure is reported, as Lambda reports it
        init_error = _error(exc, "Runtime.ImportModuleError" if isinstance(exc, ImportError) else None)
        traceback.print_exc()
    init_ms = (time.perf_counter() - started) * 1000
    _write(proto_out, {"type": "ready", "init_ms": init_ms, "error": init_error})

    while True:
        request = _read(proto_in)
        if request is None:
            return
        context = context_module.LambdaContext(
            config["function_name"],
            memory_limit_in_mb=config["memory"],
            timeout_s=request["timeout_s"],
            request_id=request["request_id"],
            region=config["region"],
            account_id=config["account_id"],
        )
        os.environ["_X_AMZN_TRACE_ID"] = request.get("trace_id", "")
        Crash.arm(request.get("crash"))
        started = time.perf_counter()
        try:
            if handler is None:
                raise RuntimeError(init_error["errorMessage"] if init_error else "handler did not load")
            result = handler(request["event"], context)
            json.dumps(result, default=str)
            reply: dict[str, Any] = {"type": "result", "result": result}
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller as Lambda's error shape
            traceback.print_exc()
            reply = {"type": "error", "error": _error(exc)}
        reply["duration_ms"] = (time.perf_counter() - started) * 1000
        reply["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(2, f"{END_MARKER}{request['request_id']}\n".encode())  # the log reader knows the output is complete
        _write(proto_out, reply)


class Crash:
    """A fault armed for one invocation (gears.local.faults): SIGKILL this worker right after the Nth successful call
    matching ``after``, the way an execution environment dies mid-batch. AWS calls are named ``service:Operation``
    (``dynamodb:PutItem``); any other HTTP call out of the function (a payment provider's API) is named
    ``http:METHOD /path`` (``http:POST /v1/payment_intents``), so "charged, then died before recording it" can be
    induced too. Patterns are shell-style (``*`` is every call of either kind)."""

    armed: dict[str, Any] | None = None
    patched = False
    inside_aws = threading.local()

    @classmethod
    def arm(cls, spec: dict[str, Any] | None) -> None:
        cls.armed = dict(spec) if spec else None
        if spec and not cls.patched:
            cls._patch()
            cls.patched = True

    @classmethod
    def _patch(cls) -> None:
        # The Lambda runtime ships botocore (and urllib3 with it); imported only when a fault is armed.
        import botocore.client
        import urllib3.connectionpool

        make_api_call = botocore.client.BaseClient._make_api_call
        urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen

        def aws_call(client: Any, operation: str, params: Any) -> Any:
            cls.inside_aws.depth = getattr(cls.inside_aws, "depth", 0) + 1
            try:
                result = make_api_call(client, operation, params)
            finally:
                cls.inside_aws.depth -= 1
            cls.after_call(f"{client.meta.service_model.service_name}:{operation}")
            return result

        def http_call(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = urlopen(pool, method, url, *args, **kwargs)
            if not getattr(cls.inside_aws, "depth", 0) and response.status < 500:
                cls.after_call(f"http:{method} {url.split('?', 1)[0]}")
            return response

        botocore.client.BaseClient._make_api_call = aws_call
        urllib3.connectionpool.HTTPConnectionPool.urlopen = http_call  # type: ignore[method-assign,assignment]

    @classmethod
    def after_call(cls, name: str) -> None:
        spec = cls.armed
        if spec is None or not fnmatch.fnmatchcase(name, spec["after"]):
            return
        spec["calls"] -= 1
        if spec["calls"] <= 0:
            print(f"[gears fault {spec['id']}] the worker dies after {name}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[-8:],
    }


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
    main()
