"""The running shop for the e2e and security tiers: the real local runtime (`gears local`) in a subprocess,
driven over HTTP as a client would.

One shop per test session, on free ports with its own state directory; every test that uses it runs on the same
xdist worker (group "shop", set in tests/conftest.py) so the shop starts once. Each test makes its own users and
products (unique ids).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT, TEMPLATE

START_TIMEOUT_S = 900  # start-up, demo data and its ~6,000 events handled (--settle): minutes on a loaded 2-core box


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Shop:
    api: str
    endpoint: str
    state_dir: Path
    state: dict[str, Any]
    http: requests.Session = field(default_factory=requests.Session)

    def request(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.api + path, headers=headers, timeout=30, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    # -- accounts -------------------------------------------------------------------------------------------
    def mail_for(self, email: str) -> list[dict[str, Any]]:
        from gears.local.cloud import read_mailbox

        return read_mailbox(Path(self.state["mailbox"]), email)

    def code_for(self, email: str) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for message in reversed(self.mail_for(email)):
                found = re.search(r"\b(\d{6})\b", message["body"])
                if found:
                    return found.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no code was mailed to {email}")

    def login(self, email: str, password: str) -> dict[str, Any]:
        r = self.post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()

    def new_customer(self, password: str = "Sup3rSecret!x") -> Customer:
        email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
        r = self.post("/auth/signup", json={"email": email, "password": password})
        assert r.status_code in (200, 201, 202), r.text
        r = self.post("/auth/confirm", json={"email": email, "code": self.code_for(email)})
        assert r.status_code in (200, 204), r.text
        tokens = self.login(email, password)
        return Customer(email, password, tokens)

    def admin(self) -> Customer:
        admin = self.state["admin"]
        return Customer(admin["email"], admin["password"], self.login(admin["email"], admin["password"]))


@dataclass
class Customer:
    email: str
    password: str
    tokens: dict[str, Any]

    @property
    def token(self) -> str:
        return str(self.tokens["accessToken"])


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    state_dir = tmp_path_factory.mktemp("shop")
    port, cloud_port = _free_port(), _free_port()
    out = open(state_dir / "runtime.out", "w+", encoding="utf-8")  # noqa: SIM115
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gears.cli",
            "--template",
            str(TEMPLATE),
            "--state-dir",
            str(state_dir),
            "local",
            "--settle",
            "--port",
            str(port),
            "--cloud-port",
            str(cloud_port),
            # A PayPal buyer's wait short enough for a test to see one end (tests/e2e/test_paypal.py).
            "--parameter",
            "PayPalApprovalTimeoutSeconds=60",
        ],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while "[gears] ready" not in (state_dir / "runtime.out").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the local runtime did not start:\n" + (state_dir / "runtime.out").read_text()[-4000:])
            time.sleep(0.2)
        state = json.loads((state_dir / "runtime.json").read_text())
        yield Shop(
            api=f"http://127.0.0.1:{port}", endpoint=f"http://127.0.0.1:{cloud_port}", state_dir=state_dir, state=state
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


@pytest.fixture(scope="session")
def moto_signing_key() -> Any:
    """The private key the local cloud signs Cognito tokens with (to forge tokens that only differ in one claim)."""
    import moto.cognitoidp
    from jwt.algorithms import RSAAlgorithm

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    jwk = json.loads(gzip.decompress(path.read_bytes()))
    return jwk.get("kid", None), RSAAlgorithm.from_jwk(json.dumps(jwk))
