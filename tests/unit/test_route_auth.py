"""Every route of the template is guarded the same way, and docs/authorization.md tells the truth about it.

- A route either keeps the HTTP API's default JWT authorizer or is public on purpose: listed in :data:`PUBLIC`,
  which is exactly the contract's public routes (../shared/API.md, when it is at hand).
- Every route of the template is a row of the matrix in docs/authorization.md, with the function that serves it;
  every row that names a function is a route of the template; the matrix's public rows are :data:`PUBLIC`.
- A function behind the authorizer reads its caller through the shared layer (which refuses id tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gears.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
MATRIX = ROOT / "docs" / "authorization.md"
CONTRACT = ROOT.parent / "shared" / "API.md"
STAGES = ("dev", "staging", "prod")
# The shared layer's readers of the verified claims (require_roles reads them with current_caller, and
# create_resolver(..., roles=...) installs require_roles).
SHARED_CALLER_READERS = ("current_caller(", "caller_from_event(", "require_roles(", "roles=(")

# The routes any client may call without a token: the API contract's "public" routes (PayPal's redirects among
# them, and the checkout's link that sends the buyer to PayPal, which a browser follows without a token), and the
# providers' webhooks, which prove themselves (Stripe's signature, PayPal's verification). Anything
# else that turns the authorizer off fails here.
PUBLIC = frozenset(
    {
        "POST /auth/signup",
        "POST /auth/confirm",
        "POST /auth/login",
        "POST /auth/refresh",
        "POST /auth/password/forgot",
        "POST /auth/password/reset",
        "GET /products",
        "GET /products/{productId}",
        "GET /categories",
        "GET /search",
        "GET /products/{productId}/related",
        "GET /recommendations/popular",
        "POST /payments/webhooks/stripe",
        "POST /payments/webhooks/paypal",
        "GET /payments/paypal/approve",
        "GET /payments/paypal/return",
        "GET /payments/paypal/cancel",
        "GET /notifications/unsubscribe",
        "POST /notifications/unsubscribe",
    }
)

# Public routes the contract does not list, each for a reason: the checkout answers "PayPal's approval link" at once,
# before the PayPal order exists, so the link is ours and forwards the browser (which carries no token) once it does;
# what is popular is the storefront's front page for a visitor who has not signed in (the contract's popular items
# are otherwise only a signed-in newcomer's GET /me/recommendations).
PUBLIC_BEYOND_CONTRACT = frozenset({"GET /payments/paypal/approve", "GET /recommendations/popular"})


@dataclass(frozen=True)
class Route:
    key: str  # "GET /products/{productId}"
    function: str
    authorizer: str | None  # None: the API's default; "NONE": public
    handler: str
    code_uri: Path


@dataclass(frozen=True)
class Row:
    key: str
    who: str
    function: str | None


@pytest.fixture(scope="module", params=STAGES)
def template(request: pytest.FixtureRequest) -> Template:
    return Template(TEMPLATE, {"Stage": request.param})


def routes(template: Template) -> list[Route]:
    api_id, _ = template.http_api()
    found = []
    for fn in template.functions().values():
        for event in fn.events:
            if event.type != "HttpApi":
                continue
            props: dict[str, Any] = event.properties
            assert props.get("ApiId") == {"Ref": api_id}, f"{fn.logical_id}.{event.name}: not on {api_id}"
            auth = props.get("Auth") or {}
            found.append(
                Route(
                    key=f"{str(props.get('Method', 'ANY')).upper()} {props.get('Path', '$default')}",
                    function=fn.logical_id,
                    authorizer=auth.get("Authorizer"),
                    handler=fn.handler,
                    code_uri=fn.code_uri,
                )
            )
    assert found, "the template has no HttpApi route"
    return found


def matrix() -> list[Row]:
    rows = []
    for line in MATRIX.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # "GET and POST /notifications/unsubscribe" is two routes, as "GET/POST /..." would be
        cells[0] = re.sub(r"\b([A-Z]+) and ([A-Z]+) /", r"\1/\2 /", cells[0])
        if len(cells) == 3 and re.fullmatch(r"`[A-Z]+ /\S*`", cells[0]):
            function = cells[2] if cells[2] not in ("—", "-", "") else None
            rows.append(Row(key=cells[0].strip("`"), who=cells[1], function=function))
    assert rows, f"no route rows in {MATRIX}"
    return rows


def assert_none(violations: list[str]) -> None:
    assert not violations, "\n".join(violations)


# -- the template --------------------------------------------------------------------------------------------------
def test_the_api_authorizes_by_default_with_the_user_pool(template: Template) -> None:
    _, api = template.http_api()
    auth = api.get("Auth") or {}
    default = auth.get("DefaultAuthorizer")
    assert default, "the HTTP API has no DefaultAuthorizer: every route would be open"
    cfg = auth["Authorizers"][default]
    assert cfg["IdentitySource"] == "$request.header.Authorization"
    jwt = cfg["JwtConfiguration"]
    assert "UserPool" in str(jwt["issuer"]), "the authorizer must trust the shop's user pool as issuer"
    assert jwt["audience"] == [{"Ref": "UserPoolClient"}]


def test_every_route_is_authorized_or_public_on_purpose(template: Template) -> None:
    _, api = template.http_api()
    default = api["Auth"]["DefaultAuthorizer"]
    violations = []
    for route in routes(template):
        if route.key in PUBLIC:
            if route.authorizer != "NONE":
                violations.append(f"{route.key} ({route.function}) is public in the contract but asks for a token")
        elif route.authorizer not in (None, default):
            violations.append(
                f"{route.key} ({route.function}) turns the authorizer off ({route.authorizer!r}) but is not public"
            )
    assert_none(violations)


def test_no_route_is_served_twice(template: Template) -> None:
    keys = [r.key for r in routes(template)]
    assert_none([f"{key} is declared {keys.count(key)} times" for key in sorted(set(keys)) if keys.count(key) > 1])


def test_functions_behind_the_authorizer_read_the_caller_through_the_shared_layer(template: Template) -> None:
    violations = []
    for route in routes(template):
        if route.key in PUBLIC:
            continue
        module = route.handler.rsplit(".", 1)[0]
        source = route.code_uri / (module.replace(".", "/") + ".py")
        if not any(reader in source.read_text(encoding="utf-8") for reader in SHARED_CALLER_READERS):
            violations.append(f"{route.key}: {source.relative_to(ROOT)} never reads its caller through gears_shared")
    assert_none(violations)


# -- the matrix ----------------------------------------------------------------------------------------------------
def test_the_matrix_lists_each_route_once() -> None:
    keys = [row.key for row in matrix()]
    assert_none([f"{key} has {keys.count(key)} rows" for key in sorted(set(keys)) if keys.count(key) > 1])


def test_every_route_of_the_template_is_in_the_matrix_with_its_function(template: Template) -> None:
    rows = {row.key: row for row in matrix()}
    violations = []
    for route in routes(template):
        row = rows.get(route.key)
        if row is None:
            violations.append(f"{route.key} ({route.function}) is not in {MATRIX.name}")
        elif row.function != route.function:
            violations.append(f"{route.key}: the matrix says {row.function}, the template {route.function}")
    assert_none(violations)


def test_every_function_the_matrix_names_serves_that_route(template: Template) -> None:
    served = {route.key for route in routes(template)}
    assert_none(
        [
            f"{row.key}: the matrix names {row.function}, but no such route is in the template"
            for row in matrix()
            if row.function and row.key not in served
        ]
    )


def test_the_matrix_marks_public_exactly_the_public_routes() -> None:
    public = {row.key for row in matrix() if row.who.startswith("public")}
    assert public == PUBLIC


def test_the_matrix_covers_the_contract_and_agrees_on_public_routes() -> None:
    if not CONTRACT.exists():
        pytest.skip(f"the API contract is not at {CONTRACT}")
    contract: dict[str, str] = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # "GET and POST /notifications/unsubscribe" is two routes, as "GET/POST /..." would be
        cells[0] = re.sub(r"\b([A-Z]+) and ([A-Z]+) /", r"\1/\2 /", cells[0])
        if len(cells) == 3 and re.match(r"[A-Z/]+ /", cells[0]):
            for key in (k.strip() for k in cells[0].split(",")):
                methods, path = key.split(" ", 1)  # "GET/PUT/DELETE /admin/discounts/{code}" is three routes
                contract.update({f"{method} {path}": cells[1] for method in methods.split("/")})
    assert contract, f"no routes found in {CONTRACT}"
    rows = {row.key: row for row in matrix()}
    assert set(contract) <= set(rows), sorted(set(contract) - set(rows))
    # Routes beyond the contract are ours to add (the contract says so), but only ones a function serves.
    assert [key for key in set(rows) - set(contract) if rows[key].function is None] == []
    public = {k for k, who in contract.items() if who.startswith("public") or "no token" in who or "signature" in who}
    assert public == PUBLIC - PUBLIC_BEYOND_CONTRACT
