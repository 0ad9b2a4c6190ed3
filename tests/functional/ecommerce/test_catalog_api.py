from __future__ import annotations

import uuid

import pytest

from tests.functional.ecommerce.conftest import ADMIN, CUSTOMER, Call, new_product


def sku() -> str:
    return "T-" + uuid.uuid4().hex[:10].upper()


def test_admin_creates_reads_updates_and_archives_a_product(call: Call) -> None:
    created = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku(), attributes={"size": "L"}))
    assert created.status == 201, created
    product = created.body
    pid = product["productId"]
    assert created.headers["location"] == f"/products/{pid}"
    assert (product["version"], created.headers["etag"]) == (1, '"1"')

    public = call("GET", f"/products/{pid}", path_parameters={"productId": pid})
    assert (public.status, public.body) == (200, product)

    changed = {**product, "title": "Renamed", "price": {"amount": 999, "currency": "GBP"}}
    updated = call("PUT", f"/products/{pid}", admin=True, claims=ADMIN, body=changed)
    assert updated.status == 200, updated
    assert (updated.body["title"], updated.body["price"]["amount"], updated.body["version"]) == ("Renamed", 999, 2)
    assert updated.body["createdAt"] == product["createdAt"]

    by_header = call(
        "PUT",
        f"/products/{pid}",
        admin=True,
        claims=ADMIN,
        headers={"If-Match": '"2"'},
        body={k: v for k, v in changed.items() if k != "version"},
    )
    assert by_header.status == 200
    assert by_header.body["version"] == 3

    deleted = call("DELETE", f"/products/{pid}", admin=True, claims=ADMIN)
    assert (deleted.status, deleted.body) == (204, None)
    assert call("GET", f"/products/{pid}").status == 404
    assert pid not in {p["productId"] for p in call("GET", "/products", query={"limit": "100"}).body["items"]}
    assert call("DELETE", f"/products/{pid}", admin=True, claims=ADMIN).status == 204  # a retried DELETE


def test_customers_may_not_manage_the_catalog(call: Call) -> None:
    created = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku()))
    pid = created.body["productId"]
    for method, path, body in [
        ("POST", "/products", new_product(sku())),
        ("POST", "/products", {"not": "even valid"}),
        ("PUT", f"/products/{pid}", {**created.body, "title": "Mine now"}),
        ("DELETE", f"/products/{pid}", None),
    ]:
        answer = call(method, path, admin=True, claims=CUSTOMER, body=body)
        assert answer.status == 403, (method, path, answer)
        assert answer.headers["content-type"] == "application/problem+json"
    assert call("POST", "/products", admin=True, body=new_product(sku())).status == 401
    assert call("GET", f"/products/{pid}").body["title"] == created.body["title"]


def test_a_stale_update_is_409_and_changes_nothing(call: Call) -> None:
    product = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku())).body
    pid = product["productId"]
    first = call("PUT", f"/products/{pid}", admin=True, claims=ADMIN, body={**product, "title": "First"})
    assert first.status == 200
    second = call("PUT", f"/products/{pid}", admin=True, claims=ADMIN, body={**product, "title": "Second"})
    assert second.status == 409
    assert second.body["type"].endswith("/stale-product")
    assert second.body["currentVersion"] == 2
    stale_header = call(
        "PUT",
        f"/products/{pid}",
        admin=True,
        claims=ADMIN,
        headers={"If-Match": '"1"'},
        body={k: v for k, v in product.items() if k != "version"},
    )
    assert stale_header.status == 409
    assert call("DELETE", f"/products/{pid}", admin=True, claims=ADMIN, headers={"If-Match": '"1"'}).status == 409
    assert call("GET", f"/products/{pid}").body["title"] == "First"


def test_an_update_needs_a_version(call: Call) -> None:
    product = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku())).body
    body = {k: v for k, v in product.items() if k != "version"}
    answer = call("PUT", f"/products/{product['productId']}", admin=True, claims=ADMIN, body=body)
    assert answer.status == 400
    assert answer.body["type"].endswith("/version-required")


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"price": {"amount": 12.5, "currency": "GBP"}}, 400, "price.amount"),
        ({"price": {"amount": -1, "currency": "GBP"}}, 400, "price.amount"),
        ({"price": {"amount": 100, "currency": "gbp"}}, 400, "price.currency"),
        ({"title": ""}, 400, "title"),
        ({"title": "x" * 201}, 400, "title"),
        ({"productId": "chosen-by-client"}, 400, "productId"),
        ({"version": 7}, 400, "version"),
        ({"createdAt": "2020-01-01T00:00:00Z"}, 400, "createdAt"),
        ({"status": "archived"}, 400, "status"),
        ({"category": "no-such-category"}, 422, None),
    ],
)
def test_invalid_products_are_refused_with_a_problem(
    call: Call, overrides: dict, status: int, field: str | None
) -> None:
    answer = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku(), **overrides))
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/problem+json"
    if field:
        assert field in {e["field"] for e in answer.body["errors"]}
    else:
        assert answer.body["type"].endswith("/unknown-category")


@pytest.mark.parametrize("code", ["SL/15551", "SL/", "/15551"])
def test_a_sku_with_a_slash_is_a_clear_400_and_stores_nothing(call: Call, code: str) -> None:
    answer = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(code))
    assert answer.status == 400, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.body["type"].endswith("/invalid-sku")
    assert "no '/'" in answer.body["detail"]
    assert call("GET", "/products", query={"limit": "100"}).body["items"] == []


def test_a_malformed_body_is_400(call: Call) -> None:
    assert call("POST", "/products", admin=True, claims=ADMIN, body="{not json").status == 400


def test_a_sku_is_one_product(call: Call) -> None:
    code = sku()
    assert call("POST", "/products", admin=True, claims=ADMIN, body=new_product(code)).status == 201
    again = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(code.lower()))
    assert again.status == 409
    assert again.body["type"].endswith("/product-exists")


def test_drafts_are_not_public(call: Call) -> None:
    draft = call("POST", "/products", admin=True, claims=ADMIN, body=new_product(sku(), status="draft")).body
    assert call("GET", f"/products/{draft['productId']}").status == 404
    assert call("GET", "/products/not-an-id").status == 404


def test_the_category_tree(call: Call) -> None:
    answer = call("GET", "/categories")
    assert answer.status == 200
    assert answer.headers["cache-control"].startswith("public")
    tree = answer.body["categories"]
    assert [node["id"] for node in tree] == ["home", "toys"]
    assert [c["id"] for c in tree[0]["children"]] == ["mugs", "plates"]
    assert tree[0]["children"][0] == {"id": "mugs", "name": "Mugs", "parent": "home", "children": []}


def test_the_correlation_id_comes_back(call: Call) -> None:
    answer = call("GET", "/products", headers={"x-correlation-id": "corr-123"})
    assert answer.headers["x-correlation-id"] == "corr-123"
    problem = call("GET", "/products/nope", headers={"x-correlation-id": "corr-456"})
    assert problem.headers["x-correlation-id"] == "corr-456"
