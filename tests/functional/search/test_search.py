"""Search's three functions against moto: a product told by the catalog is found, its new price and stock are
found after the next snapshot, and the snapshots live in the bucket the template declares."""

from __future__ import annotations

import uuid

import boto3

from gears_shared.dynamo import plain_item
from search import bootstrap
from tests.functional.search.conftest import Search, product_event, stock_event


def test_a_product_is_found_repriced_and_sold_out(search: Search) -> None:
    mug, jug = str(uuid.uuid4()), str(uuid.uuid4())
    status, empty = search.get({"q": "mug"})
    assert status == 200
    assert empty["total"] == 0

    sent = search.send(
        product_event(mug, "Speckled mug"),
        product_event(jug, "Milk jug"),
        stock_event(mug, "in_stock", time="2026-03-01T10:00:00Z"),
    )
    assert sent == {"batchItemFailures": []}
    summary = search.index()
    assert summary["rebuilt"]
    assert summary["docs"] == 2

    bootstrap.index_reader().checked_at = None  # the reader's 2 s are up
    status, found = search.get({"q": "mug"})
    assert status == 200
    assert [i["productId"] for i in found["items"]] == [mug]
    assert found["items"][0]["availability"] == "in_stock"
    assert found["facets"]["categories"] == [{"id": "home-kitchen", "count": 1}, {"id": "mugs-cups", "count": 1}]

    search.send(
        product_event(mug, "Speckled mug", version=2, amount=1500),
        stock_event(mug, "out", time="2026-03-01T11:00:00Z"),
        stock_event(mug, "in_stock", time="2026-03-01T10:30:00Z"),  # late: an older word than "out"
    )
    assert search.index()["version"] == 2
    bootstrap.index_reader().checked_at = None
    _, repriced = search.get({"q": "mug", "minPrice": "1000"})
    assert [(i["price"]["amount"], i["availability"]) for i in repriced["items"]] == [(1500, "out")]
    assert search.get({"q": "mug", "inStock": "true"})[1]["total"] == 0

    bucket = search.cloud.lookup("SearchIndexBucket", "Ref")
    keys = sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["pointer.json", "snapshots/0000000001.tar.gz", "snapshots/0000000002.tar.gz"]


def test_an_archived_product_leaves_search(search: Search) -> None:
    lamp = str(uuid.uuid4())
    search.send(product_event(lamp, "Brass lamp"))
    search.index()
    search.send(product_event(lamp, "Brass lamp", version=2, status="archived"))
    search.index()
    bootstrap.index_reader().checked_at = None
    assert search.get({"q": "lamp"})[1]["total"] == 0


def test_bad_input_is_a_400_and_a_bad_event_fails_its_record(search: Search) -> None:
    status, problem = search.get({"q": "a" * 201})
    assert status == 400
    assert problem["type"].endswith("/query-too-long")
    assert search.get({"limit": "500"})[0] == 400
    bad = product_event(str(uuid.uuid4()), "x")
    broken = bad.model_copy(update={"data": {**bad.data, "price": {"amount": -1, "currency": "GBP"}}})
    assert search.send(broken) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}


def test_the_table_keeps_its_invariants(search: Search) -> None:
    from gears_shared.invariants import Shop
    from search.invariants import checks

    lamp, early = str(uuid.uuid4()), str(uuid.uuid4())
    search.send(
        product_event(lamp, "Desk lamp"),
        stock_event(early, "low", time="2026-03-01T10:00:00Z"),  # a level before its product
    )
    search.send(product_event(lamp, "Desk lamp", version=2, status="archived"))
    table = search.cloud.lookup("SearchTable", "Ref")
    items = [plain_item(i) for i in boto3.client("dynamodb").scan(TableName=table)["Items"]]
    [listed] = checks(items, Shop())
    assert listed.ok
    assert listed.checked == 1  # the early level alone is no product yet
    broken = [{**item, "gsi1pk": "PRODUCTS#99"} for item in items if item.get("productId") == lamp]
    assert not checks(broken, Shop())[0].ok
