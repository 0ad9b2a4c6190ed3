"""The service end to end in-process on moto: events in, the job over the table's stream, the two routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3

from tests.functional.recommendation.conftest import Call, paid, product, stock
from tests.support.handlers import claims


def pid() -> str:
    return str(uuid.uuid4())


def test_related_products_from_co_purchases_only_active_and_in_stock(
    deliver: Callable[..., Any], run_job: Callable[[], Any], call: Call
) -> None:
    mug, coaster, teapot, sold_out = pid(), pid(), pid(), pid()
    events = [product(p) for p in (mug, coaster, teapot, sold_out)]
    events += [stock(p, "in_stock") for p in (mug, coaster, teapot)] + [stock(sold_out, "out")]
    assert deliver(*events) == {"batchItemFailures": []}
    orders = [paid(f"o-{n}-{mug[:6]}", f"u-{n}-{mug[:6]}", mug, coaster, sold_out) for n in range(3)]
    orders.append(paid(f"o-9-{mug[:6]}", f"u-9-{mug[:6]}", mug, teapot))
    assert deliver(*orders) == {"batchItemFailures": []}
    summary = run_job()
    assert summary["rebuilt"] is True

    related = call("/products/{productId}/related", productId=mug)
    assert related.status == 200
    assert related.body["basis"] == "co-purchase"
    assert [i["productId"] for i in related.body["items"]] == [coaster, teapot]
    first = related.body["items"][0]
    assert first["price"] == {"amount": 795, "currency": "GBP"}
    assert first["image"] is None
    assert first["score"] > related.body["items"][1]["score"]

    limited = call("/products/{productId}/related", productId=mug, query={"limit": "1"})
    assert [i["productId"] for i in limited.body["items"]] == [coaster]

    assert deliver(stock(coaster, "out", time="2026-03-02T09:00:00.000Z")) == {"batchItemFailures": []}
    after = call("/products/{productId}/related", productId=mug)
    assert [i["productId"] for i in after.body["items"]] == [teapot]


def test_a_customers_purchases_change_their_recommendations(
    deliver: Callable[..., Any], run_job: Callable[[], Any], call: Call
) -> None:
    mug, coaster, lamp = pid(), pid(), pid()
    deliver(*[product(p) for p in (mug, coaster, lamp)], *[stock(p, "low") for p in (mug, coaster, lamp)])
    deliver(*[paid(f"o-{n}-{mug[:6]}", f"u-{n}-{mug[:6]}", mug, coaster) for n in range(3)])
    deliver(paid(f"o-l-{lamp[:6]}", f"u-l-{lamp[:6]}", lamp))
    run_job()

    me = claims(f"u-me-{mug[:6]}")
    new = call("/me/recommendations", claims=me)
    assert new.status == 200
    assert new.body["basis"] == "popular"
    assert {i["productId"] for i in new.body["items"]} == {mug, coaster, lamp}

    deliver(paid(f"o-me-{mug[:6]}", me["sub"], mug))
    mine = call("/me/recommendations", claims=me)
    assert mine.body["basis"] == "history"
    ids = [i["productId"] for i in mine.body["items"]]
    assert ids[0] == coaster
    assert mug not in ids


def test_the_job_rewrites_only_what_changed_and_keeps_its_snapshot(
    deliver: Callable[..., Any], run_job: Callable[[], Any], table_name: str
) -> None:
    a, b = pid(), pid()
    deliver(product(a), product(b), paid(f"o-{a[:6]}", f"u-{a[:6]}", a, b))
    first = run_job()
    assert (first["rebuilt"], first["relatedWritten"]) == (True, 2)
    deliver(paid(f"o-{a[:6]}", f"u-{a[:6]}", a, b))  # redelivered: the same basket
    again = run_job()
    assert (again["rebuilt"], again["relatedWritten"], again["listsWritten"]) == (False, 0, 0)
    bucket = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"] if "recommendation" in b["Name"].lower()]
    assert bucket


def test_bad_input_is_a_clear_400_and_an_unknown_product_404(call: Call, deliver: Callable[..., Any]) -> None:
    bad = call("/products/{productId}/related", productId="not-a-uuid")
    assert bad.status == 400
    assert bad.headers["content-type"] == "application/problem+json"
    unknown = call("/products/{productId}/related", productId=pid())
    assert (unknown.status, unknown.body["type"].rsplit("/", 1)[1]) == (404, "product-not-found")
    known = pid()
    deliver(product(known), stock(known, "in_stock"))
    for limit in ("0", "51", "ten", "-1", "1e3"):
        answer = call("/products/{productId}/related", productId=known, query={"limit": limit})
        assert answer.status == 400, limit
        mine = call("/me/recommendations", claims=claims("u-bad"), query={"limit": limit})
        assert mine.status == 400, limit
    assert call("/me/recommendations").status == 401
