"""Hostile bytes and methods on every route of the template: never a 5xx, always a JSON answer.

The routes come from `template.yaml`, so a route a later service adds is covered without editing a list. Each
route is called as the caller who gets furthest into it (anonymous on public routes, an admin elsewhere), so the
bytes reach the function's body parsing rather than stopping at the authorizer or a role check.
"""

from __future__ import annotations

import re

import pytest

from gears.local.template import Template
from tests.conftest import TEMPLATE
from tests.support.shop import Customer, Shop


def _routes() -> list[tuple[str, str, bool]]:
    template = Template(TEMPLATE)
    _, api = template.http_api()
    default = (api.get("Auth") or {}).get("DefaultAuthorizer")
    out = []
    for fn in template.functions().values():
        for ev in fn.events:
            if ev.type == "HttpApi":
                props = ev.properties
                authorizer = (props.get("Auth") or {}).get("Authorizer", default)
                out.append((str(props["Method"]).upper(), str(props["Path"]), authorizer in (None, "NONE")))
    return sorted(out)


ROUTES = _routes()
WRITES = [r for r in ROUTES if r[0] in ("POST", "PUT", "PATCH")]


def _path(template_path: str) -> str:
    return re.sub(r"\{[^}]+\}", "hostile-1", template_path)


@pytest.fixture(scope="module")
def admin(shop: Shop) -> Customer:
    return shop.admin()


def _is_json(response: object) -> bool:
    content_type = getattr(response, "headers", {}).get("content-type", "")
    return content_type.startswith(("application/json", "application/problem+json"))


@pytest.mark.parametrize(("method", "path", "public"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
@pytest.mark.parametrize(
    "body", [b"\xff", b"\xc3\x28{}", b'{"a": "\xed\xa0\x80"}'], ids=["ff", "bad-pair", "surrogate"]
)
def test_a_body_that_is_not_utf8_is_a_400_problem(
    shop: Shop, admin: Customer, method: str, path: str, public: bool, body: bytes
) -> None:
    r = shop.request(
        method,
        _path(path),
        token=None if public else admin.token,
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "public"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_a_json_body_declared_as_a_form_is_read_as_json(
    shop: Shop, admin: Customer, method: str, path: str, public: bool
) -> None:
    """`curl -d` declares a form: the body is still read as JSON (an invalid one is a 400 about JSON, not a form)."""
    r = shop.request(
        method,
        _path(path),
        token=None if public else admin.token,
        data=b"{not json",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code < 500, r.text
    assert r.status_code == 204 or _is_json(r)  # a route that reads no body may simply do its work
    assert "form" not in r.text.lower()


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "LINK", "FOO"])
@pytest.mark.parametrize("path", sorted({p for _, p, _ in ROUTES})[:12])
def test_an_unknown_method_is_a_json_404(shop: Shop, method: str, path: str) -> None:
    r = shop.request(method, _path(path))
    assert r.status_code == 404, r.text
    assert r.json() == {"message": "Not Found"}


def test_too_long_a_path_or_headers_is_json_not_html(shop: Shop) -> None:
    long_path = shop.request("GET", "/products/" + "a" * 70000)
    assert long_path.status_code == 414
    assert _is_json(long_path)
    many = {f"X-Hostile-{i}": "v" for i in range(150)}
    headers = shop.request("GET", "/products", headers=many)
    assert headers.status_code == 431
    assert _is_json(headers)
