"""The use cases with in-memory fakes: what may be recommended, the job, and the two reads."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from recommendation import events as ev
from recommendation import service
from recommendation.errors import ProductNotFound
from tests.unit.recommendation.fakes import FakeSnapshots, FakeStore, product_data

TODAY = date(2026, 3, 10)
AT = "2026-03-10T12:00:00.000Z"


def pid() -> str:
    return str(uuid.uuid4())


def stocked(
    store: FakeStore, *product_ids: str, path: tuple[str, ...] = ("home", "mugs"), level: str = "in_stock"
) -> None:
    for p in product_ids:
        service.product_changed(product_data(p, path=path), store)
        data = ev.StockLevelChanged.model_validate({"productId": p, "level": level})
        service.stock_changed(data, "2026-03-01T00:00:00.000Z", store)


def pay(
    store: FakeStore, user_id: str, *product_ids: str, order_id: str | None = None, day: str = "2026-03-05"
) -> None:
    data = ev.OrderPaid.model_validate(
        {
            "orderId": order_id or f"o-{uuid.uuid4()}",
            "userId": user_id,
            "lines": [{"productId": p, "quantity": 1} for p in product_ids],
            "paidAt": f"{day}T10:00:00.000Z",
        }
    )
    service.order_paid(data, store)


def run_job(store: FakeStore, snapshots: FakeSnapshots, *, today: date = TODAY) -> dict[str, object]:
    new = [b for b, _, _ in store.baskets.values()]
    return service.recompute(new, store, snapshots, today=today, at=AT)


def test_a_product_keeps_its_newest_version_and_stock_its_newest_time() -> None:
    store = FakeStore()
    p = pid()
    assert service.product_changed(product_data(p, version=2, title="New"), store) == "saved"
    assert service.product_changed(product_data(p, version=1, title="Old"), store) == "stale"
    assert store.catalog[p].title == "New"
    later, earlier = "2026-03-02T00:00:00.000Z", "2026-03-01T00:00:00.000Z"
    assert service.stock_changed(ev.StockLevelChanged(productId=p, level="out"), later, store) == "saved"
    assert service.stock_changed(ev.StockLevelChanged(productId=p, level="in_stock"), earlier, store) == "stale"
    assert store.catalog[p].level == "out"


def test_customers_who_bought_this_also_bought_only_what_is_active_and_in_stock() -> None:
    store, snapshots = FakeStore(), FakeSnapshots()
    mug, coaster, teapot, gone, sold_out = pid(), pid(), pid(), pid(), pid()
    stocked(store, mug, coaster, teapot, gone)
    stocked(store, sold_out, level="out")
    service.product_changed(product_data(gone, version=2, status="archived"), store)
    for n in range(4):
        pay(store, f"u-{n}", mug, coaster, gone, sold_out)
    pay(store, "u-9", mug, teapot)
    run_job(store, snapshots)

    found = service.related_products(service.RelatedQuery(mug, 10), store)
    assert found.basis == "co-purchase"
    assert [p.product_id for p, _ in found.items] == [coaster, teapot]
    assert found.items[0][1] > found.items[1][1] > 0


def test_a_product_nobody_bought_gets_what_is_popular_in_its_category_then_overall() -> None:
    store, snapshots = FakeStore(), FakeSnapshots()
    mug, lamp, new_mug, new_chair = pid(), pid(), pid(), pid()
    stocked(store, mug, new_mug)
    stocked(store, lamp, new_chair, path=("garden", "lights"))
    pay(store, "u-1", mug)
    pay(store, "u-2", lamp)
    pay(store, "u-3", lamp)
    run_job(store, snapshots)

    in_category = service.related_products(service.RelatedQuery(new_mug, 10), store)
    assert (in_category.basis, [p.product_id for p, _ in in_category.items]) == ("popular-in-category", [mug])
    service.product_changed(product_data(new_chair, version=2, path=("furniture",)), store)
    overall = service.related_products(service.RelatedQuery(new_chair, 10), store)
    assert (overall.basis, [p.product_id for p, _ in overall.items]) == ("popular", [lamp, mug])


def test_a_product_never_heard_of_is_not_found() -> None:
    store = FakeStore()
    only_stock = pid()
    service.stock_changed(ev.StockLevelChanged(productId=only_stock, level="in_stock"), AT, store)
    for product_id in (pid(), only_stock):
        with pytest.raises(ProductNotFound):
            service.related_products(service.RelatedQuery(product_id, 10), store)


def test_a_customer_gets_popular_items_then_items_related_to_what_they_bought() -> None:
    store, snapshots = FakeStore(), FakeSnapshots()
    mug, coaster, lamp, teapot = pid(), pid(), pid(), pid()
    stocked(store, mug, coaster, lamp, teapot)
    for n in range(3):
        pay(store, f"u-{n}", mug, coaster)
    pay(store, "u-8", lamp)
    pay(store, "u-9", teapot)
    run_job(store, snapshots)

    new = service.recommendations_for(service.ForCustomer("u-new", 10), store)
    assert new.basis == "popular"
    assert {p.product_id for p, _ in new.items[:2]} == {mug, coaster}  # in 3 baskets each; the others in 1

    pay(store, "u-new", mug)
    mine = service.recommendations_for(service.ForCustomer("u-new", 10), store)
    assert mine.basis == "history"
    ids = [p.product_id for p, _ in mine.items]
    assert ids[0] == coaster
    assert mug not in ids
    assert set(ids) == {coaster, lamp, teapot}


def test_a_customer_with_nothing_popular_gets_what_is_trending() -> None:
    store = FakeStore()
    rising = pid()
    stocked(store, rising)
    store.lists["trending"] = [(rising, 2.5)]
    found = service.recommendations_for(service.ForCustomer("u-t", 10), store)
    assert (found.basis, [p.product_id for p, _ in found.items]) == ("trending", [rising])


def test_the_job_rewrites_only_the_lists_that_changed_and_folds_a_basket_once() -> None:
    store, snapshots = FakeStore(), FakeSnapshots()
    a, b, c = pid(), pid(), pid()
    stocked(store, a, b, c)
    pay(store, "u-1", a, b, order_id="o-1")
    first = run_job(store, snapshots)
    assert (first["rebuilt"], first["relatedWritten"]) == (True, 2)
    assert store.related_writes == 2

    again = run_job(store, snapshots)  # the same baskets again: folded before
    assert (again["rebuilt"], again["relatedWritten"]) == (False, 0)
    assert sorted(store.lists["popular"]) == sorted([(a, 1.0), (b, 1.0)])

    pay(store, "u-2", b, c, order_id="o-2")
    third = service.recompute([store.baskets["order:o-2"][0]], store, snapshots, today=TODAY, at=AT)
    assert third["relatedWritten"] == 3  # b gained c; c is new; a's list names b, whose count changed
    assert dict(store.lists["popular"])[b] == 2.0


def test_without_a_snapshot_the_job_rebuilds_from_every_basket() -> None:
    store = FakeStore()
    a, b = pid(), pid()
    stocked(store, a, b)
    pay(store, "u-1", a, b)
    service.recompute([], store, FakeSnapshots(), today=TODAY, at=AT)
    assert [i for i, _ in store.related[a]] == [b]


def test_past_orders_count_as_baskets_and_returns_do_not() -> None:
    store, snapshots = FakeStore(), FakeSnapshots()
    a, b, c = pid(), pid(), pid()
    stocked(store, a, b, c)

    def order(order_id: str, kind: str, *items: str) -> dict[str, object]:
        return {
            "orderId": order_id,
            "customerId": "17850",
            "placedAt": "2026-03-01T09:00:00Z",
            "kind": kind,
            "lines": [{"productId": i, "quantity": 2} for i in items],
        }

    data = ev.OrderHistoryImported.model_validate(
        {"batchId": "b-1", "orders": [order("OR-1", "order", a), order("OR-2", "order", b), order("C-3", "return", c)]}
    )
    assert service.history_imported(data, store) == "2 baskets"
    run_job(store, snapshots)
    assert [i for i, _ in store.related[a]] == [b]  # the same customer's two orders: one unit
    assert c not in dict(store.lists["popular"])


def test_a_product_the_catalog_tells_of_after_its_baskets_joins_its_categorys_list() -> None:
    store, snapshots = FakeStore(), FakeSnapshots()
    late = pid()
    pay(store, "u-late", late)
    run_job(store, snapshots)
    assert "popular#mugs" not in store.lists
    stocked(store, late)
    service.recompute([], store, snapshots, today=TODAY, at=AT)
    assert [i for i, _ in store.lists["popular#mugs"]] == [late]
    assert [i for i, _ in store.lists["popular#home"]] == [late]
