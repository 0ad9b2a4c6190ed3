"""The X-Ray SDK's sampling client is made on first use, not at every function's init; tracing is otherwise as
Powertools sets it up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import botocore.session
real = botocore.session.Session.create_client
made = []
def spy(self, name, *a, **k):
    made.append(name)
    return real(self, name, *a, **k)
botocore.session.Session.create_client = spy
import gears_shared.observability as o
from aws_xray_sdk.core import xray_recorder
client = xray_recorder.sampler._connector._xray_client
assert made == [], made                       # no X-Ray client at import
assert type(client).__name__ == "_OnFirstUse"
assert botocore.session.Session.create_client is spy  # the patch is gone again
client.meta                                   # first use: the real client
assert made == ["xray"], made
assert o.tracer is not None
print("ok")
"""


def test_the_sampling_client_is_made_on_first_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "shared"), "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
