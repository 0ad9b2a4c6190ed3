"""The storefront and admin console in a real browser: each ``web/tests/*.test.mjs`` file (Node's test runner,
playwright-core driving Debian's chromium) against the tier's running shop, which serves ``web/dist`` at its
gateway's address (``make web`` builds it; ``make test`` does that first). Screenshots of every page, at a desktop's
and a phone's width, are kept in ``web/test-results/screenshots``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.shop import Shop

WEB = ROOT / "web"
FLOWS = sorted((WEB / "tests").glob("*.test.mjs"))
TIMEOUT_S = 1200


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name.removesuffix(".test.mjs") for f in FLOWS])
def test_the_pages_in_a_browser(shop: Shop, flow: Path) -> None:
    node = shutil.which("node")
    assert node, "the browser tests need Node.js (make web installs the packages they use)"
    assert (WEB / "dist" / "index.html").is_file(), "web/dist is not built: make web"
    assert (WEB / "node_modules" / "playwright-core").is_dir(), "web's packages are not installed: make web"
    env = {
        **os.environ,
        "GEARS_STATE": str(shop.state_dir / "runtime.json"),
        "GEARS_ARTIFACTS": str(WEB / "test-results"),
        "GEARS_PYTHON": sys.executable,  # for what a test does as the shop's operator would (gears invoke)
    }
    run = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(flow.relative_to(WEB))],
        cwd=WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, f"{flow.name} failed:\n{run.stdout[-12000:]}\n{run.stderr[-4000:]}"
