"""Contract fuzzing: schemathesis over docs/openapi.json against the running local shop, as nobody, as a customer and
as an admin. No answer is a 5xx, and every answer is what the spec says it may be: a documented status, content
type, headers and a body that validates against its schema. Stateful runs follow the spec's links (an order placed
by POST /checkout is then read, paid, cancelled, refunded ...).

Bounded for CI (a few examples per operation, a fixed seed: the same cases every run). The operations come from the
spec, and the spec from the code and the template, so a new route is fuzzed without anyone listing it.
``GEARS_FUZZ_EXAMPLES`` raises the bound for a longer run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.shop import Shop

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.json"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES = int(os.environ.get("GEARS_FUZZ_EXAMPLES", "25"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def fuzz(shop: Shop, token: str | None, report: Path) -> subprocess.CompletedProcess[str]:
    auth = ["-H", f"Authorization: Bearer {token}"] if token else []
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            str(SPEC),
            "--url",
            shop.api,
            "--checks",
            CHECKS,
            "--phases",
            "examples,fuzzing,stateful",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "20261127",
            "--request-timeout",
            "30",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
            *auth,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )


@pytest.mark.shop_wide
@pytest.mark.parametrize("role", ["anonymous", "customer", "admin"])
def test_the_api_keeps_its_contract(shop: Shop, role: str, tmp_path: Path) -> None:
    token = None if role == "anonymous" else (shop.admin() if role == "admin" else shop.new_customer()).token
    run = fuzz(shop, token, tmp_path / "junit.xml")
    assert run.returncode == 0, f"schemathesis as {role}:\n{run.stdout[-12000:]}\n{run.stderr[-2000:]}"
    assert "generated" in run.stdout  # it did run cases
