"""The local gateway serves the built storefront at its own address, as CloudFront does on AWS: only at paths no
route takes, with the same security headers as the distribution's policy, and nothing outside the build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gears.local.gateway import Gateway
from gears.local.static_site import CONTENT_SECURITY_POLICY, StaticSite
from gears.local.template import Template
from tests.unit.local.test_gateway import ROUTES, FakeAuthorizer, Recorder

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


@pytest.fixture
def site(tmp_path: Path) -> StaticSite:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>store</title>")
    (dist / "admin.html").write_text("<!doctype html><title>admin</title>")
    (dist / "assets" / "store-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not for the web")
    return StaticSite(dist)


def gateway(site: StaticSite, ready: bool = True) -> tuple[Gateway, Recorder]:
    rec = Recorder()
    return Gateway(ROUTES, rec, {"jwt": FakeAuthorizer()}, site=site, ready=ready), rec  # type: ignore[dict-item]


def test_the_pages_and_their_assets_are_served_with_the_security_headers(site: StaticSite) -> None:
    gw, rec = gateway(site)
    home = gw.handle("GET", "/", {}, b"", "1.2.3.4")
    assert (home.status, home.body) == (200, b"<!doctype html><title>store</title>")
    assert home.headers["content-type"].startswith("text/html")
    assert home.headers["cache-control"] == "no-cache"
    assert home.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert home.headers["x-frame-options"] == "DENY"
    admin = gw.handle("GET", "/admin.html", {}, b"", "1.2.3.4")
    assert admin.body.endswith(b"<title>admin</title>")
    asset = gw.handle("GET", "/assets/store-abc123.js", {}, b"", "1.2.3.4")
    assert asset.headers["content-type"].startswith("text/javascript")
    assert "immutable" in asset.headers["cache-control"]
    config = gw.handle("GET", "/config.json", {}, b"", "1.2.3.4")
    assert json.loads(config.body)["apiUrl"] == ""  # the API is this same origin
    assert rec.events == []  # no function ran for any of them


def test_api_routes_win_and_nothing_outside_the_build_is_served(site: StaticSite) -> None:
    gw, rec = gateway(site)
    assert json.loads(gw.handle("GET", "/products", {}, b"", "1.2.3.4").body) == {"fn": "List"}
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/secret.txt", "/assets/missing.js", "/x/index.html"):
        assert gw.handle("GET", path, {}, b"", "1.2.3.4").status == 404, path
    assert gw.handle("POST", "/", {}, b"", "1.2.3.4").status == 404
    assert len(rec.events) == 1


def test_the_pages_load_while_the_shop_starts(site: StaticSite) -> None:
    gw, _ = gateway(site, ready=False)
    assert gw.handle("GET", "/", {}, b"", "1.2.3.4").status == 200
    assert gw.handle("GET", "/products", {}, b"", "1.2.3.4").status == 503


def test_the_distribution_sends_the_same_content_security_policy_as_the_local_gateway() -> None:
    template = Template(TEMPLATE, {"Stage": "prod"})
    policy = template.properties("WebSecurityHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    aws = policy["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert re.sub(r"\s+", " ", aws).strip() == CONTENT_SECURITY_POLICY
    assert policy["FrameOptions"]["FrameOption"] == "DENY"
