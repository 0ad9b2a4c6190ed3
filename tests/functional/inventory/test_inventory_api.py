"""The admin routes in-process against moto: figures, the ledger, thresholds, adjustments, restocks, low stock."""

from __future__ import annotations

import uuid

import pytest

from gears.local.lambda_context import LambdaContext
from tests.functional.inventory.conftest import ADMIN, CUSTOMER, SUPPORT, Call


def new_sku() -> str:
    return "T-" + uuid.uuid4().hex[:10].upper()


def test_admin_creates_restocks_adjusts_and_reads_a_sku(call: Call) -> None:
    sku = new_sku()
    created = call(
        "PUT",
        f"/inventory/{sku.lower()}",
        path_parameters={"sku": sku.lower()},
        body={"threshold": 3, "productId": "prod-1"},
    )
    assert created.status == 201, created
    assert created.body == {
        "sku": sku,
        "productId": "prod-1",
        "onHand": 0,
        "reserved": 0,
        "available": 0,
        "threshold": 3,
        "level": "out",
        "version": 1,
        "updatedAt": created.body["updatedAt"],
    }
    restocked = call("POST", f"/inventory/{sku}/restock", body={"quantity": 12, "reference": "DN-77"})
    assert restocked.status == 200, restocked
    assert (restocked.body["onHand"], restocked.body["level"], restocked.body["version"]) == (12, "in_stock", 2)
    adjusted = call("PUT", f"/inventory/{sku}", body={"delta": -2, "reason": "damaged in the warehouse"})
    assert adjusted.status == 200, adjusted
    assert (adjusted.body["onHand"], adjusted.body["available"], adjusted.body["threshold"]) == (10, 10, 3)

    view = call("GET", f"/inventory/{sku}")
    assert view.status == 200, view
    assert (view.body["onHand"], view.body["reserved"], view.body["available"]) == (10, 0, 10)
    assert [(m["kind"], m["onHandDelta"], m["onHandAfter"]) for m in view.body["movements"]] == [
        ("adjust", -2, 10),
        ("restock", 12, 12),
    ]
    assert view.body["movements"][0]["reason"] == "damaged in the warehouse"
    assert view.body["movements"][0]["actor"] == "admin-1"
    assert view.body["movements"][1]["reference"] == "DN-77"
    assert view.body["nextCursor"] is None

    first = call("GET", f"/inventory/{sku}", query={"limit": "1"})
    assert [m["kind"] for m in first.body["movements"]] == ["adjust"]
    second = call("GET", f"/inventory/{sku}", query={"limit": "1", "cursor": first.body["nextCursor"]})
    assert [m["kind"] for m in second.body["movements"]] == ["restock"]


def test_a_put_opens_a_record_only_for_a_product(call: Call) -> None:
    sku = new_sku()
    orphan = call("PUT", f"/inventory/{sku}", body={"threshold": 3, "delta": 4, "reason": "count"})
    assert orphan.status == 404, orphan
    assert orphan.headers["content-type"] == "application/problem+json"
    assert orphan.body["type"].endswith("/sku-not-found")
    assert "created in the catalog" in orphan.body["detail"]
    assert call("GET", f"/inventory/{sku}").status == 404  # nothing was opened
    opened = call("PUT", f"/inventory/{sku}", body={"threshold": 3, "productId": "prod-1"})
    assert opened.status == 201, opened
    assert (opened.body["productId"], opened.body["threshold"]) == ("prod-1", 3)


def test_available_never_goes_below_zero(call: Call, consumers) -> None:  # type: ignore[no-untyped-def]
    from tests.functional.inventory.conftest import order_placed, sqs_event

    sku = new_sku()
    call("PUT", f"/inventory/{sku}", body={"delta": 5, "reason": "count", "productId": "prod-1"})
    consumers.handler(sqs_event(order_placed("o-" + sku, (sku, 4))), LambdaContext("InventoryOrderConsumerFunction"))
    refused = call("PUT", f"/inventory/{sku}", body={"delta": -2, "reason": "lost", "threshold": 9})
    assert refused.status == 422, refused
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.body["type"].endswith("/insufficient-stock")
    assert (refused.body["requested"], refused.body["available"]) == (2, 1)
    after = call("GET", f"/inventory/{sku}").body
    assert (after["onHand"], after["reserved"], after["available"], after["threshold"]) == (5, 4, 1, 5)
    assert call("PUT", f"/inventory/{sku}", body={"delta": -1, "reason": "lost"}).body["available"] == 0


def test_low_stock_lists_the_skus_at_or_under_their_threshold(call: Call) -> None:
    low = {new_sku() for _ in range(5)}
    high = {new_sku() for _ in range(3)}
    for sku in low:
        call("PUT", f"/inventory/{sku}", body={"delta": 2, "reason": "count", "threshold": 2, "productId": "p-low"})
    for sku in high:
        call("PUT", f"/inventory/{sku}", body={"delta": 20, "reason": "count", "threshold": 2, "productId": "p-high"})
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = call("GET", "/inventory/low-stock", query=query)
        assert page.status == 200, page
        assert len(page.body["items"]) <= 2
        seen += [i["sku"] for i in page.body["items"]]
        cursor = page.body["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(low)

    back_up = next(iter(low))
    call("POST", f"/inventory/{back_up}/restock", body={"quantity": 10})
    listed = call("GET", "/inventory/low-stock", query={"limit": "100"}).body["items"]
    assert back_up not in {i["sku"] for i in listed}
    assert {i["level"] for i in listed} == {"low"}


@pytest.mark.parametrize("claims", [CUSTOMER, SUPPORT])
def test_only_admins_may_use_the_inventory(call: Call, claims: dict) -> None:  # type: ignore[type-arg]
    sku = new_sku()
    call("PUT", f"/inventory/{sku}", body={"delta": 5, "reason": "count", "productId": "prod-1"})
    for method, path, body, query in [
        ("GET", f"/inventory/{sku}", None, None),
        ("GET", f"/inventory/{sku}", None, {"limit": "zero"}),
        ("GET", "/inventory/low-stock", None, None),
        ("PUT", f"/inventory/{sku}", {"delta": 100, "reason": "mine"}, None),
        ("PUT", f"/inventory/{sku}", {"not": "even valid"}, None),
        ("POST", f"/inventory/{sku}/restock", {"quantity": 100}, None),
    ]:
        answer = call(method, path, claims=claims, body=body, query=query)
        assert answer.status == 403, (method, path, answer)
        assert answer.headers["content-type"] == "application/problem+json"
    assert call("GET", f"/inventory/{sku}", claims=None).status == 401
    id_token = {**ADMIN, "token_use": "id"}
    assert call("PUT", f"/inventory/{sku}", claims=id_token, body={"delta": 1, "reason": "x"}).status == 401
    assert call("GET", f"/inventory/{sku}").body["onHand"] == 5


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "status", "problem"),
    [
        ("PUT", "/inventory/{sku}", "{not json", None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"delta": 3}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"delta": 0, "reason": "none"}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"reason": "why"}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"delta": "3", "reason": "text"}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"delta": 1.5, "reason": "half"}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"threshold": -1}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"onHand": 1000}, None, 400, "bad-request"),
        ("PUT", "/inventory/{sku}", {"delta": -10, "reason": "theft"}, None, 422, "insufficient-stock"),
        ("PUT", "/inventory/-BAD-", {"threshold": 1}, None, 400, "invalid-sku"),
        ("POST", "/inventory/{sku}/restock", {"quantity": 0}, None, 400, "bad-request"),
        ("POST", "/inventory/{sku}/restock", {"quantity": -4}, None, 400, "bad-request"),
        ("POST", "/inventory/{sku}/restock", {"quantity": 2_000_000}, None, 400, "bad-request"),
        ("POST", "/inventory/{sku}/restock", {"quantity": 1, "reference": "bad ref!"}, None, 400, "bad-request"),
        ("POST", "/inventory/{sku}/restock", {"quantity": 1, "extra": 1}, None, 400, "bad-request"),
        ("POST", "/inventory/NOPE-404/restock", {"quantity": 1}, None, 404, "sku-not-found"),
        ("GET", "/inventory/NOPE-404", None, None, 404, "sku-not-found"),
        ("GET", "/inventory/{sku}", None, {"limit": "abc"}, 400, "bad-request"),
        ("GET", "/inventory/{sku}", None, {"limit": "0"}, 400, "bad-request"),
        ("GET", "/inventory/{sku}", None, {"cursor": "not-a-cursor"}, 400, "bad-request"),
        ("GET", "/inventory/{sku}", None, {"cursor": "eyJzIjoxfQ"}, 400, "invalid-cursor"),
        ("GET", "/inventory/low-stock", None, {"cursor": "eyJzIjo5OSwiayI6bnVsbH0"}, 400, "invalid-cursor"),
        (
            "GET",
            "/inventory/low-stock",
            None,
            {"cursor": "eyJzIjowLCJrIjp7InBrIjp7IlMiOiJ4In19fQ"},
            400,
            "invalid-cursor",
        ),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    call: Call,
    method: str,
    path: str,
    body: object,
    query: dict | None,
    status: int,
    problem: str,  # type: ignore[type-arg]
) -> None:
    sku = new_sku()
    call("PUT", f"/inventory/{sku}", body={"delta": 5, "reason": "count", "productId": "prod-1"})
    before = call("GET", f"/inventory/{sku}").body
    answer = call(method, path.format(sku=sku), body=body, query=query)
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.body["type"].endswith("/" + problem), answer.body
    assert call("GET", f"/inventory/{sku}").body == before


def test_a_delivery_reference_is_received_once(call: Call) -> None:
    sku = new_sku()
    call("PUT", f"/inventory/{sku}", body={"threshold": 1, "productId": "prod-1"})
    assert call("POST", f"/inventory/{sku}/restock", body={"quantity": 4, "reference": "DN-1"}).status == 200
    again = call("POST", f"/inventory/{sku}/restock", body={"quantity": 4, "reference": "DN-1"})
    assert again.status == 409
    assert again.body["type"].endswith("/duplicate-receipt")
    assert call("GET", f"/inventory/{sku}").body["onHand"] == 4
