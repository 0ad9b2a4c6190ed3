"""Faults for the running local shop: make a function's worker die in the middle of an invocation, the way a Lambda
execution environment dies (out of memory, a runtime crash, a killed host), to see the system converge.

A crash fault names a function and a point: "after the Nth successful ``service:Operation`` call of the invocation"
(``dynamodb:TransactWriteItems``, ``dynamodb:*``, ``*``; shell-style patterns); a call to anything but AWS (a
payment provider) is ``http:METHOD /path`` (``http:POST /v1/payment_intents*``), and ``*`` counts both kinds. The
call's effect is durable, what comes after it never happens: for a queue consumer that is a batch half applied, the
state written but the inbox not completed, the messages not deleted. The worker is killed with SIGKILL; the runtime
reports ``Runtime.ExitError`` as Lambda does, and the event source does what AWS's does with a failed invocation.

Faults live in ``<state dir>/faults.json`` so that another process (``gears fault``, a test) arms them while the
shop runs; the runtime reads the file at each invocation (a stat when it is absent). An armed fault fires on the
next ``times`` invocations that match (at least ``min_records`` records, and ``containing`` in the event's text);
one that was armed but found fewer calls than it waits for is put back.

    gears fault crash InventoryOrderConsumerFunction --after dynamodb:TransactWriteItems --calls 2 --min-records 2
    gears fault list | clear
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CRASH_EXIT = "Runtime.ExitError"


@dataclass
class CrashFault:
    function: str
    after: str = "*"
    calls: int = 1
    min_records: int = 0
    containing: str = ""
    times: int = 1
    fired: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        if self.calls < 1 or self.times < 0 or self.min_records < 0:
            raise ValueError("calls must be at least 1; times and min_records at least 0")
        if self.after != "*" and ":" not in self.after:
            raise ValueError(
                f"--after wants service:Operation (dynamodb:TransactWriteItems) or http:METHOD /path, "
                f"not {self.after!r}"
            )

    def matches(self, function: str, event: Any) -> bool:
        if self.function != function or self.times <= 0:
            return False
        records = event.get("Records") if isinstance(event, dict) else None
        if self.min_records and len(records or []) < self.min_records:
            return False
        return not self.containing or self.containing in json.dumps(event, default=str)

    def arming(self) -> dict[str, Any]:
        """What the worker needs to know for one invocation."""
        return {"id": self.id, "after": self.after, "calls": self.calls}


class FaultBoard:
    """The armed faults of one shop, in a JSON file guarded by an advisory lock (one writer at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _edit(self) -> Iterator[list[CrashFault]]:
        with self._lock, open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            faults = self._read()
            before = [asdict(f) for f in faults]
            yield faults
            after = [asdict(f) for f in faults]
            if after == before:
                return
            if not after:  # nothing armed: no file, so each invocation's check is one stat
                self.path.unlink(missing_ok=True)
                return
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(after, indent=2))
            os.replace(tmp, self.path)

    def _read(self) -> list[CrashFault]:
        try:
            return [CrashFault(**f) for f in json.loads(self.path.read_text())]
        except FileNotFoundError:
            return []

    def list(self) -> list[CrashFault]:
        return self._read()

    def arm(self, fault: CrashFault) -> CrashFault:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._edit() as faults:
            faults.append(fault)
        return fault

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        with self._edit() as faults:
            n = len(faults)
            faults.clear()
        return n

    def take(self, function: str, event: Any) -> CrashFault | None:
        """The fault this invocation should carry (one of its ``times`` used up), or None."""
        if not self.path.exists():
            return None
        with self._edit() as faults:
            for fault in faults:
                if fault.matches(function, event):
                    fault.times -= 1
                    return fault
        return None

    def settle(self, fault: CrashFault, crashed: bool) -> None:
        """After the invocation: count it as fired, or give its turn back."""
        with self._edit() as faults:
            for f in faults:
                if f.id == fault.id:
                    if crashed:
                        f.fired += 1
                    else:
                        f.times += 1
